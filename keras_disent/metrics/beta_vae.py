"""BetaVAE score (Higgins et al. 2017, Sec. 3 and Appendix A.4)."""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from keras_disent.metrics import utils


def _points(dataset, representation_fn, num_points, batch_size, rng, encode_batch_size):
    """One training point per row: mean |z1 - z2| over a batch of pairs sharing one factor."""
    sizes = np.asarray(dataset.factor_sizes)
    features = np.zeros((num_points, 0))
    labels = rng.integers(0, len(sizes), num_points)
    chunk = max(1, encode_batch_size * 8 // (2 * batch_size))
    rows = []
    for begin in range(0, num_points, chunk):
        index = labels[begin:begin + chunk]
        n = len(index)
        first = dataset.sample_factors(n * batch_size, rng).reshape(n, batch_size, -1)
        second = dataset.sample_factors(n * batch_size, rng).reshape(n, batch_size, -1)
        second[np.arange(n), :, index] = first[np.arange(n), :, index]
        both = np.concatenate([first, second], axis=1).reshape(2 * n * batch_size, -1)
        codes = utils.codes_from_factors(dataset, representation_fn, both, encode_batch_size)
        codes = codes.reshape(n, 2, batch_size, -1)
        rows.append(np.mean(np.abs(codes[:, 0] - codes[:, 1]), axis=1))
    features = np.concatenate(rows) if rows else features
    return features, labels


def beta_vae_score(representation_fn, dataset, seed=0, batch_size=64, num_train=10_000,
                   num_eval=5_000, max_iter=100, encode_batch_size=256):
    """Accuracy of a linear classifier predicting which factor was held fixed.

    Each point: pick a factor k, draw `batch_size` pairs of images that share factor k and
    nothing else, and take the mean absolute difference of their codes. A logistic regression
    predicts k from that vector.

    Protocol (disentanglement_lib `evaluation/metrics/beta_vae.py`, `compute_beta_vae_sklearn`;
    study config `unsupervised_study_v1/metric_configs/beta_vae_sklearn.gin`): batch_size 64,
    num_train 10,000, num_eval 5,000, sklearn `LogisticRegression()` with its defaults
    (lbfgs, C=1, max_iter=100; it may stop before converging, as the reference's does: its
    ConvergenceWarning is silenced here). Keys as disentanglement_lib's.

    Args:
        representation_fn: numpy images `(n, H, W, C)` -> codes `(n, d)`.
        dataset: a ground-truth dataset (`factor_sizes`, `sample_factors`,
            `images_from_factors`).
        seed: seed of all sampling.
        batch_size: pairs averaged per point (64).
        num_train, num_eval: points for fitting and for scoring (10,000 / 5,000).
        max_iter: the classifier's iterations (100: sklearn's default, the reference's).
        encode_batch_size: images per call of `representation_fn`.

    Returns:
        `{"train_accuracy": float, "eval_accuracy": float}`.

    Reference:
        Higgins et al. 2017, beta-VAE: Learning Basic Visual Concepts with a Constrained
        Variational Framework, ICLR.
    """
    utils.check_dataset(dataset)
    rng = utils.make_rng(seed)
    x_train, y_train = _points(dataset, representation_fn, num_train, batch_size, rng,
                               encode_batch_size)
    x_eval, y_eval = _points(dataset, representation_fn, num_eval, batch_size, rng,
                             encode_batch_size)
    model = LogisticRegression(max_iter=max_iter)
    with warnings.catch_warnings(), utils.one_blas_thread():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x_train, y_train)
    return {"train_accuracy": float(np.mean(model.predict(x_train) == y_train)),
            "eval_accuracy": float(np.mean(model.predict(x_eval) == y_eval))}
