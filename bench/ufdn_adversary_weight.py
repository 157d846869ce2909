"""UFDN's adversary weight against target accuracy on the digit domains (gray MNIST ->
MNIST-M style), from finished runs of `recipes/liu2018_ufdn_digits.py`.

Reads each run's `config.json`, `history.json` and `metrics.json`, prints a table (domain
weight, seed, the joint source classifier's target accuracy, the linear probe's, the domain
discriminator's accuracy on z at the last epoch) and draws `ufdn_adversary_weight.png` (target
accuracy against the adversary's weight, a line per seed, the source-only CNN trained with the
same polarity inversion as dashed lines, one per seed) and
`ufdn_adversary_domain_accuracy.png` (the domain discriminator's accuracy on z).

    python bench/ufdn_adversary_weight.py bench/results/cpu_2026-11-24_cross_domain

Only runs with --invert_gray, 2 domains, class weight 3e5, 6,000 steps, the uniform
adversary, no ramp, no batch norm, no entropy term and Adam 5e-4 / 0.9 are plotted (the others
are listed, marked "other").
"""

import json
import os
import sys


def _read(run_dir, name):
    with open(os.path.join(run_dir, name)) as f:
        return json.load(f)


def ufdn_rows(results_dir):
    """One dict per UFDN run directory under `results_dir` with an MNIST-M-style target and a
    source classifier (sorted by weight, then seed)."""
    rows = []
    for name in sorted(os.listdir(results_dir)):
        run_dir = os.path.join(results_dir, name)
        if not os.path.isfile(os.path.join(run_dir, "history.json")):
            continue
        config = _read(run_dir, "config.json")
        if config["class"] != "UFDN" or not config["model_config"].get("num_classes"):
            continue
        model, run = config["model_config"], config["run"]
        metrics = _read(run_dir, "metrics.json")["metrics"]
        if "mnist_m" not in metrics["source_classifier_accuracy"]:
            continue  # another target domain (e.g. the flat colours)
        history = _read(run_dir, "history.json")
        history = history.get("history", history)
        command = run.get("command", "")
        vae_optimizer = config["optimizers"]["vae"]
        plain = ("--invert_gray" in command and model["num_domains"] == 2
                 and model["class_weight"] == 3e5
                 and not model.get("domain_ramp_steps") and not model.get("batch_norm")
                 and not model.get("entropy_weight") and run["steps"] == 6000
                 and model.get("adversary", "uniform") == "uniform"
                 and abs(vae_optimizer["learning_rate"] - 5e-4) < 1e-9
                 and abs(vae_optimizer.get("beta_1", 0.9) - 0.9) < 1e-9)
        rows.append({"run": name, "domain_weight": model["domain_weight"],
                     "class_weight": model["class_weight"], "seed": run["seed"],
                     "joint": metrics["source_classifier_accuracy"]["mnist_m"],
                     "probe": metrics["domain_adaptation"]["mnist_m"]["target_accuracy"],
                     "domain_accuracy": history["domain_accuracy"][-1], "plain": plain})
    return sorted(rows, key=lambda r: (r["domain_weight"], r["seed"]))


def source_only_lines(results_dir):
    """`{seed: accuracy}` of the source-only CNN with inversion (non-batch-norm runs)."""
    lines = {}
    for name in sorted(os.listdir(results_dir)):
        run_dir = os.path.join(results_dir, name)
        if not os.path.isfile(os.path.join(run_dir, "metrics.json")):
            continue
        config = _read(run_dir, "config.json")
        if config["class"] != "BetaVAE" or config["model_config"].get("batch_norm"):
            continue
        metrics = _read(run_dir, "metrics.json")["metrics"]
        lines[config["run"]["seed"]] = metrics["mnist_m"]["cnn_inverted_too"]["target_accuracy"]
    return lines


def main(results_dir):
    import numpy as np

    from keras_disent import visualize

    rows, baselines = ufdn_rows(results_dir), source_only_lines(results_dir)
    print("| run | domain weight | seed | joint classifier | linear probe | D accuracy on z |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        mark = "" if r["plain"] else " (other)"
        print(f"| {r['run']}{mark} | {r['domain_weight']:g} | {r['seed']} | {r['joint']:.3f} | "
              f"{r['probe']:.3f} | {r['domain_accuracy']:.3f} |")
    for seed, accuracy in sorted(baselines.items()):
        print(f"source-only CNN with inversion, seed {seed}: {accuracy:.3f}")
    plain = [r for r in rows if r["plain"]]
    weights = [r["domain_weight"] for r in plain if r["domain_weight"] > 0]
    no_adversary = np.floor(np.log10(min(weights))) - 1 if weights else 0.0

    def series(key):
        out = {}
        for seed in sorted({r["seed"] for r in plain}):
            points = [(np.log10(r["domain_weight"]) if r["domain_weight"] > 0 else no_adversary,
                       r[key]) for r in plain if r["seed"] == seed]
            out[f"UFDN seed {seed}"] = tuple(zip(*sorted(points)))
        return out

    xlabel = f"log10 domain weight (class weight 3e5; {no_adversary:g} = no adversary)"
    paths = [
        visualize.line_plot(
            series("joint"), os.path.join(results_dir, "ufdn_adversary_weight.png"),
            "MNIST-M-style target accuracy of UFDN's source classifier", xlabel, "accuracy",
            hlines={f"source-only CNN + inversion, seed {s}": a for s, a in baselines.items()},
            markers=True, y_range=(0.0, 1.0)),
        visualize.line_plot(
            series("domain_accuracy"),
            os.path.join(results_dir, "ufdn_adversary_domain_accuracy.png"),
            "UFDN's domain discriminator: accuracy on z, last epoch", xlabel, "accuracy",
            hlines={"chance": 0.5}, markers=True, y_range=(0.0, 1.0))]
    print("wrote " + ", ".join(paths))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench/results/cpu_2026-11-24_cross_domain")
