"""The VAE family against regularisation strength on dSprites (Higgins'17 Fig. 6 style; the
comparison of Locatello et al. 2019, Fig. 6/7, at a smaller scale).

Trains, for several seeds, each method at each strength of its own regulariser:
  beta_vae     BetaVAE beta                     (Higgins'17)        default 1, 2, 4, 6, 8, 16
  annealed_vae BetaVAE capacity C_max (nats)    (Burgess'18)        default 5, 10, 25, 50
  beta_tcvae   BetaTCVAE beta (TC weight)       (Chen'18)           default 1, 2, 4, 6, 8, 10
  factor_vae   FactorVAE gamma                  (Kim & Mnih'18)     default 10, 20, 30, 40, 50, 100
  dip_vae_i    DIPVAE lambda_od, type i         (Kumar'18)          default 1, 2, 5, 10, 20, 50
  dip_vae_ii   DIPVAE lambda_od, type ii        (Kumar'18)          default 1, 2, 5, 10, 20, 50
(the strengths are disentanglement_lib's sweeps), then measures MIG, the FactorVAE score and DCI
disentanglement, and the reconstruction error (Bernoulli NLL per image, nats).

Outputs in --out: one run directory per (method, strength, seed) (resumable: finished runs are
skipped, a run cut off resumes from its last epoch), `results.json`, `table.md` (mean +- std
over seeds) and `beta_sweep.png`: one row per method, left panel the three metrics against the
method's strength, right panel the reconstruction error.

Full scale (a GPU, hours; Locatello et al. trained 300k steps and 50 seeds):
    KERAS_BACKEND=jax python recipes/higgins2017_fig_beta_sweep.py --steps 300000 --seeds 0,1,2,3,4
CPU smoke run (minutes): add --smoke (2 strengths per method, 1 seed, 150 steps, small
metric protocols).
"""

import os
import sys

import numpy as np
from absl import app, flags

flags.DEFINE_string("out", "runs/beta_sweep", "Output directory.")
flags.DEFINE_integer("steps", 300_000, "Training steps per run.")
flags.DEFINE_integer("batch_size", 64, "Batch size.")
flags.DEFINE_float("learning_rate", 1e-4, "Adam learning rate (VAE).")
flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds.")
flags.DEFINE_list("methods", ["beta_vae", "annealed_vae", "beta_tcvae", "factor_vae",
                              "dip_vae_i", "dip_vae_ii"], "Methods to sweep.")
flags.DEFINE_list("beta_vae", ["1", "2", "4", "6", "8", "16"], "BetaVAE beta values.")
flags.DEFINE_list("annealed_vae", ["5", "10", "25", "50"], "C_max values (nats).")
flags.DEFINE_list("beta_tcvae", ["1", "2", "4", "6", "8", "10"], "BetaTCVAE beta values.")
flags.DEFINE_list("factor_vae", ["10", "20", "30", "40", "50", "100"], "FactorVAE gammas.")
flags.DEFINE_list("dip_vae_i", ["1", "2", "5", "10", "20", "50"], "DIP-VAE-I lambda_od values.")
flags.DEFINE_list("dip_vae_ii", ["1", "2", "5", "10", "20", "50"],
                  "DIP-VAE-II lambda_od values.")
flags.DEFINE_integer("metric_points", 10_000, "num_train of each metric's protocol.")
flags.DEFINE_bool("smoke", False, "CPU smoke run.")
FLAGS = flags.FLAGS

STRENGTH_NAME = {"beta_vae": "beta", "annealed_vae": "C_max (nats)", "beta_tcvae": "TC beta",
                 "factor_vae": "gamma", "dip_vae_i": "lambda_od", "dip_vae_ii": "lambda_od"}
METRICS = (("mig", "mig", "MIG"), ("factor_vae", "eval_accuracy", "FactorVAE score"),
           ("dci", "disentanglement", "DCI disentanglement"))


def build(method, strength, seed, steps):
    """The model of one sweep point (Burgess'18 64x64 network for every method)."""
    from keras_disent import models

    if method == "beta_vae":
        return models.BetaVAE(beta=strength, seed=seed)
    if method == "annealed_vae":
        return models.BetaVAE(capacity_max=strength, capacity_steps=max(1, steps // 3),
                              gamma=1000.0, seed=seed)
    if method == "beta_tcvae":
        return models.BetaTCVAE(beta=strength, seed=seed)
    if method == "factor_vae":
        return models.FactorVAE(gamma=strength, seed=seed)
    if method in ("dip_vae_i", "dip_vae_ii"):
        return models.DIPVAE(lambda_od=strength, dip_type=method.split("_")[-1], seed=seed)
    raise ValueError(f"Unknown method {method!r}; choose from {sorted(STRENGTH_NAME)}.")


def run_point(method, strength, seed, steps, metric_points, smoke):
    """Trains (or resumes) one run and measures it; returns its result row."""
    from keras_disent import data, metrics, process, runs, train

    run_dir = os.path.join(FLAGS.out, f"{method}_{strength:g}_s{seed}")
    result_path = os.path.join(run_dir, "result.json")
    if os.path.exists(result_path):
        return runs.read_json(result_path)
    process.seed_everything(seed)
    dataset = data.dsprites()
    model = build(method, strength, seed, steps)
    model.compile(model.default_optimizer(FLAGS.learning_rate))
    _, wall = train.fit_run(model, dataset, run_dir, steps, FLAGS.batch_size,
                            FLAGS.learning_rate, seed, verbose=0,
                            steps_per_epoch=min(1000, steps))
    sizes = dict(num_train=metric_points, num_eval=metric_points // 2,
                 num_test=metric_points // 2, dci__classifier="lasso" if smoke else "gbt")
    scores = metrics.evaluate(model, dataset, [m for m, _, _ in METRICS], seed=seed,
                              verbose=False, **sizes)
    recon = train.reconstruction_metrics(model, dataset, num=1000, seed=seed)["recon"]
    row = {"method": method, "strength": strength, "seed": seed, "steps": steps,
           "wall_time_s": round(wall, 1), "recon": recon,
           **{label: scores[name][key] for name, key, label in METRICS}}
    runs.write_json(result_path, row)
    print(f"[keras-disent] {method} {STRENGTH_NAME[method]}={strength:g} seed {seed}: "
          + ", ".join(f"{label} {row[label]:.3f}" for _, _, label in METRICS)
          + f", recon {recon:.1f} ({wall:.0f} s)", flush=True)
    return row


def summarise(rows):
    """`{method: {strength: {column: (mean, std, n)}}}` over seeds."""
    table = {}
    for row in rows:
        cell = table.setdefault(row["method"], {}).setdefault(row["strength"], {})
        for column in [label for _, _, label in METRICS] + ["recon"]:
            cell.setdefault(column, []).append(row[column])
    return {method: {strength: {c: (float(np.mean(v)), float(np.std(v)), len(v))
                                for c, v in cells.items()}
                     for strength, cells in sorted(by_strength.items())}
            for method, by_strength in table.items()}


def markdown(summary, steps):
    columns = [label for _, _, label in METRICS] + ["recon"]
    lines = [f"Built-in dSprites, {steps} steps per run; mean +- std over seeds (n).", "",
             "| method | strength | " + " | ".join(columns) + " |",
             "| --- | --- | " + " | ".join("---" for _ in columns) + " |"]
    for method, by_strength in summary.items():
        for strength, cells in by_strength.items():
            values = [f"{cells[c][0]:.3f} +- {cells[c][1]:.3f} ({cells[c][2]})"
                      if c != "recon" else f"{cells[c][0]:.1f} +- {cells[c][1]:.1f}"
                      for c in columns]
            lines.append(f"| {method} | {STRENGTH_NAME[method]} = {strength:g} | "
                         + " | ".join(values) + " |")
    return "\n".join(lines) + "\n"


def figure(summary, path):
    """One row per method: metrics vs strength (left), reconstruction vs strength (right)."""
    import tempfile

    from PIL import Image

    from keras_disent import visualize

    panels = []
    with tempfile.TemporaryDirectory() as scratch:
        for method, by_strength in summary.items():
            strengths = list(by_strength)
            series = {label: (strengths, [by_strength[s][label][0] for s in strengths])
                      for _, _, label in METRICS}
            left = visualize.line_plot(
                series, os.path.join(scratch, f"{method}_m.png"), markers=True, y_range=(0, 1),
                title=f"{method}: disentanglement", xlabel=STRENGTH_NAME[method])
            right = visualize.line_plot(
                {"reconstruction error": (strengths, [by_strength[s]["recon"][0]
                                                      for s in strengths])},
                os.path.join(scratch, f"{method}_r.png"), markers=True,
                title=f"{method}: reconstruction (nats/image)", xlabel=STRENGTH_NAME[method])
            panels.append([Image.open(left).copy(), Image.open(right).copy()])
    width, height = panels[0][0].size
    canvas = Image.new("RGB", (2 * width, height * len(panels)), (255, 255, 255))
    for r, (left, right) in enumerate(panels):
        canvas.paste(left, (0, r * height))
        canvas.paste(right, (width, r * height))
    canvas.save(path)
    return path


def main(argv):
    del argv
    from keras_disent import process

    process.configure()  # this script owns its process: before keras starts
    from keras_disent import runs

    steps, metric_points = FLAGS.steps, FLAGS.metric_points
    seeds = [int(s) for s in FLAGS.seeds]
    sweeps = {m: [float(v) for v in getattr(FLAGS, m)] for m in FLAGS.methods}
    if FLAGS.smoke:
        steps, metric_points, seeds = 150, 1000, seeds[:1]
        sweeps = {m: [v[0], v[-1]] for m, v in sweeps.items()}
    os.makedirs(FLAGS.out, exist_ok=True)
    runs.write_json(os.path.join(FLAGS.out, "sweep.json"), {
        "command": "python " + " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:]),
        "steps": steps, "seeds": seeds, "sweeps": sweeps, "provenance": runs.provenance()})
    rows = [run_point(method, strength, seed, steps, metric_points, FLAGS.smoke)
            for method, strengths in sweeps.items() for strength in strengths
            for seed in seeds]
    summary = summarise(rows)
    runs.write_json(os.path.join(FLAGS.out, "results.json"), {"rows": rows})
    with open(os.path.join(FLAGS.out, "table.md"), "w") as handle:
        handle.write(markdown(summary, steps))
    figure(summary, os.path.join(FLAGS.out, "beta_sweep.png"))
    print(markdown(summary, steps))
    print(f"[keras-disent] wrote {FLAGS.out}/table.md, results.json, beta_sweep.png")


if __name__ == "__main__":
    app.run(main)
