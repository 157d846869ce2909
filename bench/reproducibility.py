"""How reproducible a run is: the same command twice per backend, and the demo over seeds.

Usage:
    python bench/reproducibility.py same-seed [--steps 300] [--backends tensorflow,jax,torch]
    python bench/reproducibility.py demo-seeds [--seeds 0,1,2]

same-seed: per backend, `keras-disent train beta_vae --seed 0` twice (and twice more with
--deterministic), each in its own process; prints the largest absolute weight difference
between the two runs and their MIGs.
demo-seeds: `keras-disent demo --seed S` (tensorflow, 6,000 steps) for each seed; prints each
run's metrics and the spread (min, max, mean, standard deviation) of MIG.
Run directories go under runs/reproducibility/.
"""

import argparse
import json
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "runs", "reproducibility")


def _command(backend, args):
    env = dict(os.environ, KERAS_BACKEND=backend)
    result = subprocess.run([sys.executable, "-m", "keras_disent.cli"] + args, cwd=ROOT,
                            env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(result.stderr[-3000:])


def _weights(run_dir):
    import h5py

    values = []
    with h5py.File(os.path.join(run_dir, "model.weights.h5"), "r") as handle:
        handle.visititems(lambda name, item: values.append(np.asarray(item))
                          if isinstance(item, h5py.Dataset) else None)
    return values


def _mig(run_dir):
    with open(os.path.join(run_dir, "metrics.json")) as handle:
        return json.load(handle)["metrics"]["mig"]["mig"]


def same_seed(args):
    print(f"Same command twice, {args.steps} steps, batch 64, seed 0; max |weight difference| "
          "between the two runs and their MIGs (10,000 points)")
    print(f"{'backend':<12}{'mode':<16}{'max |dw|':>12}{'MIG run 1':>12}{'MIG run 2':>12}")
    for backend in args.backends.split(","):
        for mode, extra in (("default", []), ("deterministic", ["--deterministic"])):
            dirs = []
            for run in ("a", "b"):
                out = os.path.join(OUT, f"{backend}_{mode}_{run}")
                _command(backend, ["train", "beta_vae", "--steps", str(args.steps),
                                   "--metrics", "mig", "--seed", "0", "--out", out,
                                   "--overwrite"] + extra)
                dirs.append(out)
            diff = max(float(np.max(np.abs(a - b)))
                       for a, b in zip(_weights(dirs[0]), _weights(dirs[1])))
            print(f"{backend:<12}{mode:<16}{diff:>12.3g}{_mig(dirs[0]):>12.4f}"
                  f"{_mig(dirs[1]):>12.4f}", flush=True)


def demo_seeds(args):
    migs = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        out = os.path.join(OUT, f"demo_seed{seed}")
        _command("tensorflow", ["demo", "--seed", str(seed), "--out", out])
        with open(os.path.join(out, "metrics.json")) as handle:
            scores = json.load(handle)["metrics"]
        migs.append(scores["mig"]["mig"])
        shown = {name: round(next(v for k, v in values.items() if k != "seconds"
                                  and isinstance(v, float)), 3)
                 for name, values in scores.items()}
        print(f"demo seed {seed}: {shown}", flush=True)
    migs = np.asarray(migs)
    print(f"demo MIG over seeds {args.seeds}: min {migs.min():.3f}, max {migs.max():.3f}, "
          f"mean {migs.mean():.3f}, std {migs.std(ddof=1):.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("same-seed", "demo-seeds"))
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--backends", default="tensorflow,jax,torch")
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    same_seed(args) if args.what == "same-seed" else demo_seeds(args)


if __name__ == "__main__":
    main()
