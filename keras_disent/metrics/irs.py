"""Interventional Robustness Score (Suter et al. 2019)."""

import numpy as np

from keras_disent.metrics import utils


def irs_from_codes(factors, codes, diff_quantile=0.99):
    """IRS from discretised factors `(n, K)` and codes `(n, d)` of non-constant dims.

    For each code dim j and factor i: the mean over the values g of factor i of the
    `diff_quantile` quantile of |z_j - E[z_j | g_i = g]| (how far z_j still moves when
    factor i is held fixed), divided by z_j's largest deviation from its mean. IRS of dim j
    is 1 minus the smallest such ratio over factors; the score is the mean over dims weighted
    by their largest deviation.

    Returns:
        `(score, per-dim scores (d,), IRS matrix (d, K))`.
    """
    max_deviations = np.max(np.abs(codes - codes.mean(axis=0)), axis=0)
    deviations = np.zeros((codes.shape[1], factors.shape[1]))
    for i in range(factors.shape[1]):
        values, groups = np.unique(factors[:, i], return_inverse=True)
        for k in range(len(values)):
            members = codes[groups.ravel() == k]
            spread = np.abs(members - members.mean(axis=0))
            deviations[:, i] += np.percentile(spread, q=diff_quantile * 100, axis=0)
        deviations[:, i] /= len(values)
    matrix = 1.0 - deviations / max_deviations[:, None]
    per_dim = matrix.max(axis=1)
    weights = max_deviations if max_deviations.sum() > 0 else None
    return float(np.average(per_dim, weights=weights)), per_dim, matrix


def irs(representation_fn, dataset, seed=0, num_train=10_000, diff_quantile=0.99,
        num_bins=20, encode_batch_size=256):
    """How robust each code dim is to changes of the factors it does not encode.

    The factors of `num_train` random points are discretised into `num_bins` equal-width bins
    (as the codes are for MIG), constant code dims are dropped, and `irs_from_codes` scores
    the rest; a code with no non-constant dim scores 0.

    Protocol (disentanglement_lib `evaluation/metrics/irs.py`, `config/sample/irs/irs.gin`; IRS
    is not in the unsupervised study's metric configs): num_train 10,000, diff_quantile 0.99,
    histogram discretizer with 20 bins. Keys: disentanglement_lib's `IRS` is `irs` here, and
    `num_active_dims` counts the non-constant dims (the reference sums their code values
    under that name).

    Returns:
        `{"irs": float, "num_active_dims": int}`.

    Reference:
        Suter, Miladinovic, Schoelkopf, Bauer 2019, Robustly Disentangled Causal Mechanisms:
        Validating Deep Representations for Interventional Robustness, ICML, Sec. 4 (Eq. 5-7).
    """
    utils.check_dataset(dataset)
    rng = utils.make_rng(seed)
    codes, factors = utils.sample_codes(dataset, representation_fn, num_train, rng,
                                        encode_batch_size)
    active = codes.var(axis=1) > 0
    if not active.any():
        return {"irs": 0.0, "num_active_dims": 0}
    discrete = utils.histogram_discretize(factors, num_bins)
    score, _, _ = irs_from_codes(discrete.T, codes[active].T, diff_quantile)
    return {"irs": score, "num_active_dims": int(active.sum())}
