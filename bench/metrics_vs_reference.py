"""keras-disent's metrics against disentanglement_lib's own code: same inputs, scores, seconds.

Usage (disentanglement_lib is a dev-time reference, not a dependency):
    pip install --no-deps --target /tmp/dlref disentanglement-lib==1.5 gin-config==0.3.0
    PYTHONPATH=/tmp/dlref python bench/metrics_vs_reference.py [--metrics mig,sap] [--quick]

Both sides score the same representation of the same procedural dSprites: a fixed, hand-made
code of 6 dims (sprite centroid x and y, area, three fixed random projections of the
pixels), the images rendered by `keras_disent.data.dsprites()` for both (disentanglement_lib
sees them through its `GroundTruthData` interface). Protocol sizes are the unsupervised
study's (`config/unsupervised_study_v1/metric_configs/*.gin`), except that DCI, SAP and
modularity use `--classifier-points` training points and half as many test points (3,000 /
1,500 by default, as the measurement in issue 20). Each metric runs ours without the code
cache, then disentanglement_lib's, side by side; then ours once more with the grid code cache
(the grid's encoding time is printed on its own line). disentanglement_lib's sampling uses
`np.random.RandomState(0)` and ours `np.random.default_rng(0)`: the points differ, so scores
agree to sampling error, not bit for bit.

disentanglement_lib imports `gin.tf`, which needs `tf.estimator` (gone from TensorFlow 2.16+):
this script stands `gin` in for `gin.tf` before importing it (only `gin.configurable` is used
by the metric code).
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from keras_disent import metrics  # noqa: E402
from keras_disent.data import dsprites  # noqa: E402

PROJECTIONS = np.random.default_rng(0).standard_normal((4096, 3)).astype(np.float32) / 64.0
GRID = np.linspace(0.0, 1.0, 64, dtype=np.float32)
HEADLINE = {"beta_vae": ("eval_accuracy", "eval_accuracy"),
            "factor_vae": ("eval_accuracy", "eval_accuracy"),
            "mig": ("mig", "discrete_mig"), "dci": ("disentanglement", "disentanglement"),
            "sap": ("sap", "SAP_score"), "modularity": ("modularity", "modularity_score"),
            "irs": ("irs", "IRS"),
            "downstream_task": ("10000:mean_test_accuracy", "10000:mean_test_accuracy")}


def handmade(images):
    """6 dims: centroid x, centroid y, area (fraction of pixels on), 3 random projections."""
    x = np.asarray(images, np.float32).reshape(len(images), 64, 64)
    area = x.sum(axis=(1, 2))
    safe = np.maximum(area, 1.0)
    columns = (x.sum(axis=1) @ GRID) / safe
    rows = (x.sum(axis=2) @ GRID) / safe
    projections = x.reshape(len(x), -1) @ PROJECTIONS
    return np.concatenate([np.stack([columns, rows, area / 4096.0], 1), projections], 1)


class ReferenceData:
    """disentanglement_lib's GroundTruthData interface over a keras-disent dataset."""

    def __init__(self, dataset):
        self.dataset = dataset

    @property
    def num_factors(self):
        return len(self.dataset.factor_sizes)

    @property
    def factors_num_values(self):
        return list(self.dataset.factor_sizes)

    @property
    def observation_shape(self):
        return list(self.dataset.image_shape)

    def sample_factors(self, num, random_state):
        return np.stack([random_state.randint(size, size=num)
                         for size in self.dataset.factor_sizes], axis=1)

    def sample_observations_from_factors(self, factors, random_state):
        return self.dataset.images_from_factors(factors)

    def sample(self, num, random_state):
        factors = self.sample_factors(num, random_state)
        return factors, self.sample_observations_from_factors(factors, random_state)

    def sample_observations(self, num, random_state):
        return self.sample(num, random_state)[1]


def reference_metrics(classifier_points):
    """`{name: fn(data, representation, random_state) -> scores}` with the study's gin."""
    import gin

    sys.modules.setdefault("gin.tf", gin)
    gin.tf = gin
    from disentanglement_lib.evaluation.metrics import (beta_vae, dci, downstream_task, factor_vae,
                                                        irs, mig, modularity_explicitness,
                                                        sap_score, utils)

    gin.bind_parameter("discretizer.discretizer_fn", utils._histogram_discretize)
    gin.bind_parameter("discretizer.num_bins", 20)
    gin.bind_parameter("prune_dims.threshold", 0.05)
    gin.bind_parameter("predictor.predictor_fn", utils.logistic_regression_cv)
    small, test = classifier_points, classifier_points // 2
    return {
        "beta_vae": lambda d, f, r: beta_vae.compute_beta_vae_sklearn(
            d, f, r, None, batch_size=64, num_train=10_000, num_eval=5_000),
        "factor_vae": lambda d, f, r: factor_vae.compute_factor_vae(
            d, f, r, None, batch_size=64, num_train=10_000, num_eval=5_000,
            num_variance_estimate=10_000),
        "mig": lambda d, f, r: mig.compute_mig(d, f, r, None, num_train=10_000),
        "dci": lambda d, f, r: dci.compute_dci(d, f, r, None, num_train=small, num_test=test),
        "sap": lambda d, f, r: sap_score.compute_sap(d, f, r, None, num_train=small,
                                                     num_test=test, continuous_factors=False),
        "modularity": lambda d, f, r: modularity_explicitness.compute_modularity_explicitness(
            d, f, r, None, num_train=small, num_test=test),
        "irs": lambda d, f, r: irs.compute_irs(d, f, r, None, num_train=10_000, batch_size=16),
        "downstream_task": lambda d, f, r: downstream_task.compute_downstream_task(
            d, f, r, None, num_train=[10, 100, 1000, 10_000], num_test=5_000),
    }


def our_sizes(name, classifier_points):
    if name in ("dci", "sap", "modularity"):
        return {"num_train": classifier_points, "num_test": classifier_points // 2}
    return {}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", default=",".join(HEADLINE))
    parser.add_argument("--classifier-points", type=int, default=3000,
                        help="training points of DCI, SAP and modularity (test: half)")
    parser.add_argument("--quick", action="store_true", help="1,000 classifier points, for a "
                                                             "smoke run of this script")
    args = parser.parse_args()
    names = args.metrics.split(",")
    points = 1000 if args.quick else args.classifier_points
    sprites = dsprites()
    reference = reference_metrics(points)
    rows = []
    for name in names:
        print(f"== {name}", file=sys.stderr, flush=True)
        start = time.time()
        ours = metrics.evaluate(handmade, sprites, metrics=[name], seed=0, cache_codes=False,
                                verbose=False, **our_sizes(name, points))[name]
        ours_seconds = time.time() - start
        start = time.time()
        theirs = reference[name](ReferenceData(sprites), handmade, np.random.RandomState(0))
        theirs_seconds = time.time() - start
        rows.append([name, ours, ours_seconds, theirs, theirs_seconds])
    start = time.time()
    sizes = {f"{n}__{k}": v for n in names for k, v in our_sizes(n, points).items()}
    cached = metrics.evaluate(handmade, sprites, metrics=names, seed=0, cache_codes=True,
                              verbose=False, **sizes)
    cached_total = time.time() - start

    print("\nMetrics on procedural dSprites, hand-made 6-dim code; keras-disent vs "
          "disentanglement_lib 1.5, seconds measured side by side in one run")
    print(f"{'metric':<12}{'score':<26}{'ours':>8}{'theirs':>8}{'ours s':>9}"
          f"{'theirs s':>10}{'ratio':>7}{'ours s, cache':>15}")
    for name, ours, ours_seconds, theirs, theirs_seconds in rows:
        our_key, their_key = HEADLINE[name]
        print(f"{name:<12}{our_key:<26}{ours[our_key]:>8.3f}{float(theirs[their_key]):>8.3f}"
              f"{ours_seconds:>9.1f}{theirs_seconds:>10.1f}{theirs_seconds / ours_seconds:>6.2f}x"
              f"{cached[name]['seconds']:>15.2f}")
    print(f"grid code cache: {cached['grid_codes']['num_images']} images encoded once in "
          f"{cached['grid_codes']['seconds']:.1f} s; all metrics with the cache "
          f"{cached_total:.1f} s in all")
    for name, ours, _, theirs, _ in rows:
        print(f"{name}: ours {dict((k, round(v, 4)) for k, v in ours.items() if isinstance(v, float) and ':' not in k)}"
              f" | theirs {dict((k, round(float(v), 4)) for k, v in theirs.items() if np.ndim(v) == 0 and ':' not in str(k))}")


if __name__ == "__main__":
    main()
