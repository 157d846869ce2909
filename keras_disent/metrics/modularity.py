"""Modularity and explicitness (Ridgeway & Zemel 2018)."""

import numpy as np

from keras_disent.metrics import utils


def modularity_from_mutual_info(info):
    """Mean over code dims of 1 - the normalised deviation from a one-factor template.

    A code dim with no information about any factor (all its mutual informations 0, e.g. a
    collapsed dim) scores 0, as in disentanglement_lib: it is not modular, it is unused.
    """
    num_factors = info.shape[1]
    if num_factors < 2:
        return 1.0
    theta = info.max(axis=1)
    template = np.zeros_like(info)
    template[np.arange(len(info)), info.argmax(axis=1)] = theta
    deviation = np.sum((info - template) ** 2, axis=1)
    normaliser = theta ** 2 * (num_factors - 1)
    informative = normaliser > 0
    per_code = np.zeros_like(deviation)
    per_code[informative] = 1.0 - deviation[informative] / normaliser[informative]
    return float(np.mean(per_code))


def _normalize(x, mean, std):
    """Codes standardised with the training codes' per-dim mean and std (a constant dim,
    std 0, stays centred at 0 instead of dividing by zero)."""
    return (x - mean[:, None]) / np.where(std > 0, std, 1.0)[:, None]


def _explicitness_of_factor(x_train, y_train, x_test, y_test, max_iter):
    """(train AUC, test AUC) of one factor's classifier; None where a split has < 2 classes."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.preprocessing import MultiLabelBinarizer

    model = LogisticRegression(max_iter=max_iter).fit(x_train.T, y_train)
    binarizer = MultiLabelBinarizer(classes=model.classes_)
    scores = []
    for x, y in ((x_train, y_train), (x_test, y_test)):
        truth = binarizer.fit_transform(y[:, None])
        probabilities = model.predict_proba(x.T)
        present = truth.sum(axis=0) > 0
        scores.append(None if truth.shape[1] == 1 or present.sum() < 2 else
                      roc_auc_score(truth[:, present], probabilities[:, present],
                                    average="macro"))
    return scores


def _explicitness(x_train, y_train, x_test, y_test, max_iter=100):
    """Mean one-vs-rest ROC-AUC of a logistic regression per factor (train, test)."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    mean, std = x_train.mean(axis=1), x_train.std(axis=1)
    x_train, x_test = _normalize(x_train, mean, std), _normalize(x_test, mean, std)
    with warnings.catch_warnings(), utils.one_blas_thread():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = [_explicitness_of_factor(x_train, y_train[k], x_test, y_test[k], max_iter)
                  for k in range(y_train.shape[0])]
    train = [s[0] for s in scores if s[0] is not None]
    test = [s[1] for s in scores if s[1] is not None]
    return float(np.mean(train)), float(np.mean(test))


def modularity(representation_fn, dataset, seed=0, num_train=10_000, num_test=5_000,
               num_bins=20, encode_batch_size=256):
    """Modularity: does each code dim depend on at most one factor? Plus explicitness.

    Mutual information between 20-bin discretised codes and factors; each code's deviation
    from a template with only its most informative factor, normalised by theta^2 (K - 1)
    (Ridgeway & Zemel Eq. 2); a code with no information about any factor scores 0.
    Explicitness: macro ROC-AUC of a one-vs-rest logistic regression predicting each factor
    from the code, standardised with the training codes' mean and std.

    Protocol (disentanglement_lib `evaluation/metrics/modularity_explicitness.py`, study
    config `modularity_explicitness.gin`): num_train 10,000, num_test 5,000, histogram
    discretizer with 20 bins, `LogisticRegression()` with sklearn's defaults. Keys:
    disentanglement_lib's `modularity_score`, `explicitness_score_train/test` are
    `modularity`, `explicitness_train/test` here. Where the reference divides a constant
    code dim by its zero std (NaN), it is left at 0 here; where a test split misses a
    class, the AUC is taken over the classes present.

    Returns:
        `{"modularity", "explicitness_train", "explicitness_test"}`.

    Reference:
        Ridgeway & Zemel 2018, Learning Deep Disentangled Embeddings with the F-Statistic Loss,
        NeurIPS, Sec. 3.
    """
    utils.check_dataset(dataset)
    rng = utils.make_rng(seed)
    x_train, y_train = utils.sample_codes(dataset, representation_fn, num_train, rng,
                                          encode_batch_size)
    x_test, y_test = utils.sample_codes(dataset, representation_fn, num_test, rng,
                                        encode_batch_size)
    info = utils.discrete_mutual_info(utils.histogram_discretize(x_train, num_bins), y_train)
    explicit_train, explicit_test = _explicitness(x_train, y_train, x_test, y_test)
    return {"modularity": modularity_from_mutual_info(info),
            "explicitness_train": explicit_train, "explicitness_test": explicit_test}
