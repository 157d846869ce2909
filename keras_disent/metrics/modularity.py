"""Modularity and explicitness (Ridgeway & Zemel 2018)."""

import numpy as np

from keras_disent.metrics import utils


def modularity_from_mutual_info(info):
    """1 - mean over code dims of the normalised deviation from an ideal one-factor template."""
    num_factors = info.shape[1]
    if num_factors < 2:
        return 1.0
    theta = info.max(axis=1)
    template = np.zeros_like(info)
    template[np.arange(len(info)), info.argmax(axis=1)] = theta
    deviation = np.sum((info - template) ** 2, axis=1)
    normaliser = theta ** 2 * (num_factors - 1)
    per_code = np.divide(deviation, normaliser, out=np.zeros_like(deviation),
                         where=normaliser > 0)
    return float(np.mean(1.0 - per_code))


def _explicitness(x_train, y_train, x_test, y_test):
    """Mean one-vs-rest ROC-AUC of a logistic regression per factor (train, test)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.preprocessing import MultiLabelBinarizer

    train, test = [], []
    for k in range(y_train.shape[0]):
        model = LogisticRegression(max_iter=200).fit(x_train.T, y_train[k])
        binarizer = MultiLabelBinarizer(classes=model.classes_)
        for x, y, out in ((x_train, y_train[k], train), (x_test, y_test[k], test)):
            truth = binarizer.fit_transform(y[:, None])
            probabilities = model.predict_proba(x.T)
            present = truth.sum(axis=0) > 0
            if truth.shape[1] == 1 or present.sum() < 2:
                continue
            out.append(roc_auc_score(truth[:, present], probabilities[:, present],
                                     average="macro"))
    return float(np.mean(train)), float(np.mean(test))


def modularity(representation_fn, dataset, seed=0, num_train=10_000, num_test=5_000,
               num_bins=20, encode_batch_size=256):
    """Modularity: does each code dim depend on at most one factor? Plus explicitness.

    Mutual information between 20-bin discretised codes and factors; each code's deviation
    from a template with only its most informative factor, normalised by theta^2 (K - 1)
    (Ridgeway & Zemel Eq. 2). Explicitness: macro ROC-AUC of a one-vs-rest logistic regression
    predicting each factor from the code.

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
