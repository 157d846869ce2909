"""UFDN's adversary weight against target accuracy on the digit domains (gray MNIST ->
MNIST-M style, or `--target mnist_m_natural`), from finished runs of
`recipes/liu2018_ufdn_digits.py`.

Reads each run's `config.json`, `history.json` and `metrics.json`, prints a table (domain
weight, seed, the joint source classifier's target accuracy, the linear probe's, the domain
discriminator's accuracy on z at the last epoch) and draws `ufdn_adversary_weight.png` (target
accuracy against the adversary's weight, a line per seed, the source-only CNN trained with the
same polarity inversion as dashed lines, one per seed) and
`ufdn_adversary_domain_accuracy.png` (the domain discriminator's accuracy on z).

    python bench/ufdn_adversary_weight.py bench/results/cpu_2026-11-24_cross_domain
    python bench/ufdn_adversary_weight.py bench/results/cpu_2026-11-24_natural \
        --target mnist_m_natural --no_inversion

Only runs with --invert_gray (`--no_inversion`: without), 2 domains, class weight 3e5, 6,000
steps, no batch norm, no entropy term and Adam 5e-4 / 0.9 are plotted, with the uniform
adversary and no ramp, or the flipped label ramped in over the whole run (a line per kind and
seed; the others are listed, marked "other"); the source-only lines are the CNN trained with
the same inversion (or without).
"""

import argparse
import json
import os


def _read(run_dir, name):
    with open(os.path.join(run_dir, name)) as f:
        return json.load(f)


def ufdn_rows(results_dir, target="mnist_m", inversion=True):
    """One dict per UFDN run directory under `results_dir` with `target` among its domains
    and a source classifier (sorted by weight, then seed)."""
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
        if target not in metrics["source_classifier_accuracy"]:
            continue  # another target domain (e.g. the flat colours)
        history = _read(run_dir, "history.json")
        history = history.get("history", history)
        command = run.get("command", "")
        vae_optimizer = config["optimizers"]["vae"]
        common = (("--invert_gray" in command) == inversion and model["num_domains"] == 2
                  and model["class_weight"] == 3e5 and not model.get("batch_norm")
                  and not model.get("entropy_weight") and run["steps"] == 6000
                  and abs(vae_optimizer["learning_rate"] - 5e-4) < 1e-9
                  and abs(vae_optimizer.get("beta_1", 0.9) - 0.9) < 1e-9)
        adversary, ramp = model.get("adversary", "uniform"), model.get("domain_ramp_steps", 0)
        kind = None
        if common and adversary == "uniform" and not ramp:
            kind = "uniform"
        elif common and adversary == "flip" and ramp == run["steps"]:
            kind = "flip, ramped"
        rows.append({"run": name, "domain_weight": model["domain_weight"],
                     "class_weight": model["class_weight"], "seed": run["seed"],
                     "joint": metrics["source_classifier_accuracy"][target],
                     "probe": metrics["domain_adaptation"][target]["target_accuracy"],
                     "domain_accuracy": history["domain_accuracy"][-1], "kind": kind})
    return sorted(rows, key=lambda r: (r["domain_weight"], r["seed"]))


def source_only_lines(results_dir, target="mnist_m", inversion=True):
    """`{seed: accuracy}` of the source-only CNN on `target`, trained with the inversion or
    without (non-batch-norm runs)."""
    lines = {}
    for name in sorted(os.listdir(results_dir)):
        run_dir = os.path.join(results_dir, name)
        if not os.path.isfile(os.path.join(run_dir, "metrics.json")):
            continue
        config = _read(run_dir, "config.json")
        if config["class"] != "BetaVAE" or config["model_config"].get("batch_norm"):
            continue
        metrics = _read(run_dir, "metrics.json")["metrics"]
        if target in metrics:
            row = "cnn_inverted_too" if inversion else "cnn"
            lines[config["run"]["seed"]] = metrics[target][row]["target_accuracy"]
    return lines


def main():
    import numpy as np

    from keras_disent import visualize

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results_dir", nargs="?",
                        default="bench/results/cpu_2026-11-24_cross_domain")
    parser.add_argument("--target", default="mnist_m", help="the target domain's name")
    parser.add_argument("--no_inversion", action="store_true",
                        help="plot the runs trained without --invert_gray")
    args = parser.parse_args()
    results_dir, target, inversion = args.results_dir, args.target, not args.no_inversion
    rows = ufdn_rows(results_dir, target, inversion)
    baselines = source_only_lines(results_dir, target, inversion)
    baseline_name = "source-only CNN" + (" + inversion" if inversion else "")
    print("| run | domain weight | seed | joint classifier | linear probe | D accuracy on z |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        mark = "" if r["kind"] == "uniform" or not r["domain_weight"] else (
            f" ({r['kind'] or 'other'})")
        print(f"| {r['run']}{mark} | {r['domain_weight']:g} | {r['seed']} | {r['joint']:.3f} | "
              f"{r['probe']:.3f} | {r['domain_accuracy']:.3f} |")
    for seed, accuracy in sorted(baselines.items()):
        print(f"{baseline_name}, seed {seed}: {accuracy:.3f}")
    plotted = [r for r in rows if r["kind"]]
    weights = [r["domain_weight"] for r in plotted if r["domain_weight"] > 0]
    no_adversary = np.floor(np.log10(min(weights))) - 1 if weights else 0.0

    def series(key):
        """A line per adversary kind and seed; the runs without adversary start every line."""
        out = {}
        kinds = sorted({r["kind"] for r in plotted if r["domain_weight"] > 0})
        for kind in kinds:
            for seed in sorted({r["seed"] for r in plotted}):
                points = [(np.log10(r["domain_weight"]) if r["domain_weight"] > 0
                           else no_adversary, r[key]) for r in plotted if r["seed"] == seed
                          and (r["kind"] == kind or not r["domain_weight"])]
                if any(x > no_adversary for x, _ in points):
                    label = "UFDN" + ("" if kinds == ["uniform"] else f" {kind}")
                    out[f"{label} seed {seed}"] = tuple(zip(*sorted(points)))
        return out

    xlabel = f"log10 domain weight (class weight 3e5; {no_adversary:g} = no adversary)"
    paths = [
        visualize.line_plot(
            series("joint"), os.path.join(results_dir, "ufdn_adversary_weight.png"),
            f"{target} target accuracy of UFDN's source classifier", xlabel, "accuracy",
            hlines={f"{baseline_name}, seed {s}": a for s, a in baselines.items()},
            markers=True, y_range=(0.0, 1.0)),
        visualize.line_plot(
            series("domain_accuracy"),
            os.path.join(results_dir, "ufdn_adversary_domain_accuracy.png"),
            "UFDN's domain discriminator: accuracy on z, last epoch", xlabel, "accuracy",
            hlines={"chance": 0.5}, markers=True, y_range=(0.0, 1.0))]
    print("wrote " + ", ".join(paths))


if __name__ == "__main__":
    main()
