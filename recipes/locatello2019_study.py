"""The shape of Locatello et al. (ICML 2019)'s study on dSprites: six methods x regularisation
strengths x seeds, every metric, on Ray (`keras_disent.sweep`).

The study's six methods with the strengths of disentanglement_lib's study sweeps (its
`get_default_models`, "6 model * 6 hyperparameters"; read here in `abstract_reasoning_study_v1`,
which shares the set):
  beta_vae      beta            1, 2, 4, 6, 8, 16
  annealed_vae  C_max (nats)    5, 10, 25, 50, 75, 100   (BetaVAE capacity, gamma 1000, C
                                                          reached at step 100,000 = steps / 3)
  factor_vae    gamma           10, 20, 30, 40, 50, 100
  dip_vae_i     lambda_od       1, 2, 5, 10, 20, 50      (lambda_d = 10 lambda_od)
  dip_vae_ii    lambda_od       1, 2, 5, 10, 20, 50      (lambda_d = lambda_od)
  beta_tcvae    beta            1, 2, 4, 6, 8, 10
Paper scale: 50 seeds per point, 300,000 steps of batch 64 (Adam 1e-4), 7 datasets (dSprites,
color-dSprites, noisy-dSprites, scream-dSprites, SmallNORB, Cars3D, Shapes3D): 12,800 models.
Here three dSprites datasets are built in (`dsprites`, `color_dsprites`, `noisy_dsprites`);
the others need their files (see README "Data").

Outputs in --out: `trials/<trial>/` run directories, `results.csv` / `results.json` (one row
per trial: MIG, FactorVAE score, DCI disentanglement, reconstruction error, UDR), and
  <metric>_distribution.png    a box per method and strength over seeds (the paper's
                               violin plots: how much the seed matters against the method
                               and the strength)
  metric_rank_correlation.png  Spearman rank correlation between the metrics over all trials
                               (the paper's metric-agreement heatmaps)
The paper's findings this compares with, as the paper states them: the random seed and the
hyperparameters matter more than the choice of method, and most metrics (not Modularity)
are correlated with each other on dSprites. Its per-method numbers are not quoted here:
they were not reachable offline to check.

Cluster (Ray): start Ray on the nodes, then
    KERAS_BACKEND=jax python recipes/locatello2019_study.py --address auto --seeds 0,...,49 \\
        --datasets dsprites,color_dsprites,noisy_dsprites
CPU smoke run (minutes, this machine): add --smoke (every method at 2 of its strengths, 2
seeds, 300 steps of small networks, metric protocols of 1,000 points).
"""

import os
import sys

from absl import app, flags

flags.DEFINE_string("out", "runs/locatello2019_study", "Study directory.")
flags.DEFINE_list("seeds", ["0", "1", "2", "3", "4"], "Seeds.")
flags.DEFINE_list("datasets", ["dsprites"], "Datasets (dsprites, color_dsprites, "
                  "noisy_dsprites).")
flags.DEFINE_list("methods", ["beta_vae", "annealed_vae", "factor_vae", "dip_vae_i",
                              "dip_vae_ii", "beta_tcvae"], "Methods of the study.")
flags.DEFINE_integer("steps", 300_000, "Training steps per trial.")
flags.DEFINE_float("learning_rate", 1e-4, "Adam learning rate (the study's).")
flags.DEFINE_string("address", None, "Ray cluster address (default: a local Ray).")
flags.DEFINE_integer("num_cpus", None, "CPUs of the local Ray instance.")
flags.DEFINE_integer("metric_points", 10_000, "num_train of each metric's protocol.")
flags.DEFINE_bool("smoke", False, "CPU smoke run.")
FLAGS = flags.FLAGS

STRENGTHS = {
    "beta_vae": ("beta_vae", "beta", [1, 2, 4, 6, 8, 16], {}),
    "annealed_vae": ("beta_vae", "capacity_max", [5, 10, 25, 50, 75, 100],
                     {"gamma": [1000.0]}),
    "factor_vae": ("factor_vae", "gamma", [10, 20, 30, 40, 50, 100], {}),
    "dip_vae_i": ("dip_vae", "lambda_od", [1, 2, 5, 10, 20, 50], {"dip_type": ["i"]}),
    "dip_vae_ii": ("dip_vae", "lambda_od", [1, 2, 5, 10, 20, 50], {"dip_type": ["ii"]}),
    "beta_tcvae": ("beta_tcvae", "beta", [1, 2, 4, 6, 8, 10], {}),
}
SMOKE_NETWORK = {"latent_dim": 6, "conv_channels": [16, 16, 16, 16], "dense_units": [64]}


def study_trials(names, seeds, datasets, steps, smoke):
    """The study's trials: each method at its strengths (the first and fourth in a smoke
    run), every seed and dataset."""
    from keras_disent import sweep

    trials = []
    for name in names:
        method, strength, values, fixed = STRENGTHS[name]
        if smoke:
            values = [values[0], values[3]]
        space = dict(fixed, **{strength: values})
        if name == "annealed_vae":  # C rises over the first third (100,000 of 300,000 steps)
            space["capacity_steps"] = [max(1, steps // 3)]
        trials += sweep.grid({method: space}, seeds, datasets, steps,
                             learning_rate=FLAGS.learning_rate,
                             model_config=SMOKE_NETWORK if smoke else None,
                             steps_per_epoch=min(1000, steps))
    return trials


def main(argv):
    del argv
    from keras_disent import process

    process.configure()  # this script owns its process: before keras starts
    from keras_disent import runs, sweep

    seeds = [int(s) for s in FLAGS.seeds]
    steps, points = FLAGS.steps, FLAGS.metric_points
    if FLAGS.smoke:
        seeds, steps, points = seeds[:2], min(steps, 300), min(points, 1000)
    trials = study_trials(FLAGS.methods, seeds, FLAGS.datasets, steps, FLAGS.smoke)
    rows = sweep.run_sweep(trials, FLAGS.out, address=FLAGS.address, num_cpus=FLAGS.num_cpus,
                           metric_points=points)
    paths = sweep.aggregate(rows, FLAGS.out)
    command = "python " + " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:])
    runs.write_json(os.path.join(FLAGS.out, "study.json"), {
        "command": command, "trials": len(trials), "seeds": seeds, "steps": steps,
        "datasets": FLAGS.datasets, "metric_points": points,
        "failed": [r["trial"] for r in rows if r.get("status") == "failed"],
        "figures": [os.path.basename(p) for p in paths]})
    print(f"[keras-disent] wrote {FLAGS.out}/ ({len(trials)} trials)", flush=True)


if __name__ == "__main__":
    app.run(main)
