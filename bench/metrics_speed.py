"""Seconds per disentanglement metric at the default (disentanglement_lib) protocol sizes.

Usage: python bench/metrics_speed.py [--model runs/x/model.keras | --zoo NAME] [--dci gbt|lasso]

Representations scored on the built-in dSprites, side by side in one run:
  - "true factors": dSprites' factor grid (same sizes) observed directly, the code being the
    factor indices themselves (the ideal code; scores near 1);
  - "random": a code independent of the factors (scores near 0);
  - the given model's posterior means, when --model or --zoo is set.
Prints one table: metric x representation, each cell "score (seconds)".
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from keras_disent import metrics  # noqa: E402
from keras_disent.data import FactorObservations, dsprites  # noqa: E402

HEADLINE = {"beta_vae": "eval_accuracy", "factor_vae": "eval_accuracy", "mig": "mig",
            "dci": "disentanglement", "sap": "sap", "modularity": "modularity"}


def random_fn(images):
    rng = np.random.default_rng(len(images))
    return rng.standard_normal((len(images), 10)).astype(np.float32)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a .keras file")
    parser.add_argument("--zoo", help="a zoo name, e.g. beta_vae_dsprites")
    parser.add_argument("--dci", default="gbt", choices=("gbt", "lasso"))
    parser.add_argument("--metrics", default="beta_vae,factor_vae,mig,dci,sap,modularity")
    args = parser.parse_args()
    names = args.metrics.split(",")

    columns = {}
    sprites = dsprites()
    columns["true factors"] = (lambda factors: factors, FactorObservations(
        sprites.factor_sizes, sprites.factor_names))
    columns["random"] = (random_fn, dsprites())
    if args.model or args.zoo:
        from keras_disent import zoo

        model = zoo.load(args.model or args.zoo)
        columns[args.zoo or os.path.basename(args.model)] = (model.encode, dsprites())

    table = {}
    for label, (fn, dataset) in columns.items():
        print(f"== {label}", file=sys.stderr, flush=True)
        table[label] = metrics.evaluate(fn, dataset, metrics=names, seed=0,
                                        dci__classifier=args.dci)

    width = max(24, max(len(c) for c in columns) + 2)
    print(f"\nDisentanglement metrics on built-in dSprites, default protocol sizes, "
          f"DCI classifier {args.dci}; cell = score (seconds)")
    print(f"{'metric':<28}" + "".join(f"{label:>{width}}" for label in columns))
    for name in names:
        key = HEADLINE[name]
        cells = [f"{table[label][name][key]:.3f} ({table[label][name]['seconds']:.1f} s)"
                 for label in columns]
        print(f"{name + ' ' + key:<28}" + "".join(f"{cell:>{width}}" for cell in cells))


if __name__ == "__main__":
    main()
