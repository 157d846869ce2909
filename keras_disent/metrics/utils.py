"""Shared pieces of the disentanglement metrics: sampling, discretisation, mutual information.

The protocols follow disentanglement_lib (Locatello et al. 2019) so scores are comparable with
the literature; the implementations are vectorised numpy.
"""

import numpy as np


def check_dataset(dataset):
    """Raises a clear error when `dataset` lacks the ground-truth interface the metrics need."""
    sizes = getattr(dataset, "factor_sizes", None)
    if not sizes or not hasattr(dataset, "sample_factors") or not hasattr(
            dataset, "images_from_factors"):
        raise ValueError(
            f"{type(dataset).__name__} has no ground-truth factors: disentanglement metrics need "
            "a dataset with factor_sizes, sample_factors(n, seed) and images_from_factors(f), "
            "such as keras_disent.data.dsprites()."
        )
    return dataset


def representations(representation_fn, observations, batch_size=256):
    """Applies `representation_fn` batch-wise; checks it returns one row per observation."""
    outputs = []
    for begin in range(0, len(observations), batch_size):
        batch = observations[begin:begin + batch_size]
        codes = np.asarray(representation_fn(batch))
        if codes.ndim == 1:
            codes = codes[:, None]
        if codes.ndim != 2 or codes.shape[0] != len(batch):
            raise ValueError(
                f"representation_fn must return an array of shape (n, code_dim) with one row per "
                f"input; for {len(batch)} inputs it returned shape {codes.shape}."
            )
        if not np.all(np.isfinite(codes)):
            raise ValueError(
                "representation_fn returned NaN or inf codes: metrics of such a code mean "
                "nothing. Check the model (a diverged run has NaN weights) before evaluating."
            )
        outputs.append(codes.astype(np.float64))
    return np.concatenate(outputs)


def codes_from_factors(dataset, representation_fn, factors, batch_size=256):
    """Codes `(n, d)` of the images at grid points `factors`: rendered and encoded batch-wise,
    or looked up when `representation_fn` is a `GridCodes` cache of this dataset."""
    factors = np.asarray(factors)
    if isinstance(representation_fn, GridCodes) and representation_fn.dataset is dataset:
        return representation_fn.codes_for_factors(factors)
    return representations(lambda f: representation_fn(dataset.images_from_factors(f)),
                           factors, batch_size)


class GridCodes:
    """Every grid point's code, computed once: a representation_fn the metrics can index.

    The metrics' protocols encode many more images than a dataset has grid points (the BetaVAE
    score ~1.9M and the FactorVAE score ~1M at disentanglement_lib's sizes, dSprites 737,280),
    and a deterministic representation (the posterior mean) gives a grid point the same code
    every time, so encoding the grid once and indexing it gives the same scores faster.

    Args:
        representation_fn: images -> codes, deterministic.
        dataset: a ground-truth dataset.
        batch_size: images per call while filling the table.
        verbose: print progress to stderr.
    """

    def __init__(self, representation_fn, dataset, batch_size=2048, verbose=True):
        self.representation_fn, self.dataset = representation_fn, dataset
        total = len(dataset)
        batches = (total + batch_size - 1) // batch_size
        progress = Progress("encoding the grid", batches, verbose and total > 20 * batch_size,
                            every=max(1, batches // 10))
        table = None
        for indices, images in dataset.iter_images(batch_size):
            codes = representations(representation_fn, images, batch_size)
            if table is None:
                table = np.empty((total, codes.shape[1]), np.float64)
            table[indices] = codes
            progress.step()
        self.table = table

    def __call__(self, images):
        return self.representation_fn(images)

    def codes_for_factors(self, factors):
        return self.table[self.dataset.factors_to_index(factors)]


def sample_codes(dataset, representation_fn, num_points, rng, batch_size=256):
    """`(codes (d, n), factors (K, n))` for `num_points` random grid points.

    Codes and factors are returned transposed (one row per dimension), the layout of
    disentanglement_lib's `generate_batch_factor_code`.
    """
    factors = dataset.sample_factors(num_points, rng)
    codes = codes_from_factors(dataset, representation_fn, factors, batch_size)
    return codes.T, factors.T


def histogram_discretize(target, num_bins=20):
    """Per-row discretisation into `num_bins` equal-width bins (disentanglement_lib's rule)."""
    discretized = np.zeros(target.shape, dtype=np.int64)
    for i, row in enumerate(target):
        edges = np.histogram(row, num_bins)[1][:-1]
        discretized[i] = np.digitize(row, edges)
    return discretized


def _labels(values):
    return np.unique(values, return_inverse=True)[1].ravel()


def mutual_information(a, b):
    """I(a; b) in nats for two discrete label vectors (as sklearn's mutual_info_score)."""
    a, b = _labels(a), _labels(b)
    joint = np.bincount(a * (b.max() + 1) + b, minlength=(a.max() + 1) * (b.max() + 1))
    joint = joint.reshape(a.max() + 1, b.max() + 1) / len(a)
    pa, pb = joint.sum(1, keepdims=True), joint.sum(0, keepdims=True)
    nonzero = joint > 0
    return float(np.sum(joint[nonzero] * np.log(joint[nonzero] / (pa @ pb)[nonzero])))


def discrete_mutual_info(codes, factors):
    """Matrix `(num_codes, num_factors)` of I(code_i; factor_j) for discretised rows."""
    return np.array([[mutual_information(c, f) for f in factors] for c in codes])


def discrete_entropy(factors):
    """Entropy in nats of each discrete factor row."""
    return np.array([mutual_information(f, f) for f in factors])


def one_blas_thread():
    """A context in which numpy's BLAS uses one thread.

    The metrics' classifiers (logistic regressions on a few thousand points of a few dims)
    multiply small matrices, where a multi-threaded BLAS spends more time synchronising than
    computing: explicitness ran 4x faster with one thread on the 2-core machine. The limit
    holds inside the `with` block only.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def make_rng(seed):
    return np.random.default_rng(seed)


class Progress:
    """A progress bar on stderr for slow metric stages.

    On a terminal: one line redrawn in place (`label [#####-----] done/total  elapsed`).
    Otherwise (a log file): a line at every `every` steps and at the end.
    """

    def __init__(self, label, total, verbose=True, every=1):
        import sys
        import time

        self.label, self.total, self.verbose, self.done = label, total, verbose, 0
        self.every, self.start = every, time.time()
        self.live = verbose and sys.stderr.isatty()

    def step(self, message=""):
        import sys
        import time

        self.done += 1
        if not self.verbose:
            return
        elapsed = time.time() - self.start
        if self.live:
            filled = int(20 * self.done / max(self.total, 1))
            end = "\n" if self.done == self.total else ""
            print(f"\r  {self.label} [{'#' * filled}{'-' * (20 - filled)}] "
                  f"{self.done}/{self.total} {elapsed:.0f} s {message}", end=end,
                  file=sys.stderr, flush=True)
        elif self.done % self.every == 0 or self.done == self.total:
            print(f"  {self.label}: {self.done}/{self.total} {elapsed:.0f} s {message}",
                  file=sys.stderr, flush=True)
