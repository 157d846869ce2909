"""FactorVAE score (Kim & Mnih 2018, Sec. 4)."""

import numpy as np

from keras_disent.metrics import utils


def _votes(dataset, representation_fn, num_points, batch_size, global_std, active, rng,
           encode_batch_size):
    sizes = np.asarray(dataset.factor_sizes)
    labels = rng.integers(0, len(sizes), num_points)
    chunk = max(1, encode_batch_size * 8 // batch_size)
    argmins = []
    for begin in range(0, num_points, chunk):
        index = labels[begin:begin + chunk]
        n = len(index)
        factors = dataset.sample_factors(n * batch_size, rng).reshape(n, batch_size, -1)
        fixed = dataset.sample_factors(n, rng)[np.arange(n), index]
        factors[np.arange(n), :, index] = fixed[:, None]
        codes = utils.codes_from_factors(dataset, representation_fn,
                                         factors.reshape(n * batch_size, -1),
                                         encode_batch_size).reshape(n, batch_size, -1)
        variances = np.var(codes / global_std, axis=1, ddof=1)[:, active]
        argmins.append(np.argmin(variances, axis=1))
    return np.concatenate(argmins), labels


def factor_vae_score(representation_fn, dataset, seed=0, batch_size=64, num_train=10_000,
                     num_eval=5_000, num_variance_estimate=10_000, prune_threshold=0.05,
                     encode_batch_size=256):
    """Majority-vote accuracy of "which factor was fixed" from the least-varying code dim.

    Codes are divided by their global standard deviation (from `num_variance_estimate` random
    images); dims whose global standard deviation is below `prune_threshold` are ignored
    (collapsed to the prior). For each point a factor is fixed across a batch of `batch_size`
    images; the vote pairs the dim of smallest normalised variance (ddof 1) with the fixed
    factor; a majority-vote table maps dims to factors, and the accuracy of that table on
    `num_eval` fresh points is the score.

    Protocol (disentanglement_lib `evaluation/metrics/factor_vae.py`, study config
    `unsupervised_study_v1/metric_configs/factor_vae_metric.gin`): batch_size 64,
    num_train 10,000, num_eval 5,000, num_variance_estimate 10,000,
    `prune_dims.threshold = 0.05` applied to sqrt(variance) (kept when std >= 0.05).
    Keys: as disentanglement_lib's, except `num_active_dims`, which here counts the kept dims
    (disentanglement_lib returns the number of all dims under that name).

    Returns:
        `{"train_accuracy", "eval_accuracy", "num_active_dims"}`.

    Reference:
        Kim & Mnih 2018, Disentangling by Factorising, ICML, Sec. 4.
    """
    utils.check_dataset(dataset)
    rng = utils.make_rng(seed)
    codes, _ = utils.sample_codes(dataset, representation_fn, num_variance_estimate, rng,
                                  encode_batch_size)
    variance = np.var(codes, axis=1, ddof=1)
    active = np.sqrt(variance) >= prune_threshold
    if not active.any():
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0}
    std = np.sqrt(variance)
    std[~active] = 1.0
    train_dims, train_labels = _votes(dataset, representation_fn, num_train, batch_size, std,
                                      active, rng, encode_batch_size)
    num_factors = len(dataset.factor_sizes)
    table = np.zeros((int(active.sum()), num_factors), np.int64)
    np.add.at(table, (train_dims, train_labels), 1)
    classifier = np.argmax(table, axis=1)
    train_accuracy = table[np.arange(len(table)), classifier].sum() / table.sum()
    eval_dims, eval_labels = _votes(dataset, representation_fn, num_eval, batch_size, std,
                                    active, rng, encode_batch_size)
    eval_accuracy = np.mean(classifier[eval_dims] == eval_labels)
    return {"train_accuracy": float(train_accuracy), "eval_accuracy": float(eval_accuracy),
            "num_active_dims": int(active.sum())}
