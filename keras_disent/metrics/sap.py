"""SAP score: Separated Attribute Predictability (Kumar et al. 2018)."""

import numpy as np

from keras_disent.metrics import utils


def _score_matrix(x_train, y_train, x_test, y_test):
    """Test accuracy of a linear SVM predicting each factor from each single code dim."""
    from sklearn.svm import LinearSVC

    scores = np.zeros((x_train.shape[0], y_train.shape[0]))
    for i in range(x_train.shape[0]):
        for j in range(y_train.shape[0]):
            # Constant dims are fitted too, as in the reference: the classifier then predicts
            # one class, and its accuracy is that class's share of the test points.
            model = LinearSVC(C=0.01, class_weight="balanced")
            model.fit(x_train[i][:, None], y_train[j])
            scores[i, j] = np.mean(model.predict(x_test[i][:, None]) == y_test[j])
    return scores


def sap_from_scores(scores):
    """Mean over factors of the gap between the two best single-dim predictors."""
    if scores.shape[0] < 2:
        return 0.0
    top = np.sort(scores, axis=0)[::-1]
    return float(np.mean(top[0] - top[1]))


def sap(representation_fn, dataset, seed=0, num_train=10_000, num_test=5_000,
        encode_batch_size=256):
    """Average gap in predictability between the best and second-best code dim per factor.

    Discrete factors: `LinearSVC(C=0.01, class_weight="balanced")` on each code dim alone,
    accuracy on held-out points.

    Protocol (disentanglement_lib `evaluation/metrics/sap_score.py`, study config
    `sap_score.gin`): num_train 10,000, num_test 5,000, continuous_factors False. Key:
    disentanglement_lib's `SAP_score` is `sap` here.

    Returns:
        `{"sap": float}`.

    Reference:
        Kumar, Sattigeri, Balakrishnan 2018, Variational Inference of Disentangled Latent
        Concepts from Unlabeled Observations, ICLR, Sec. 5.
    """
    utils.check_dataset(dataset)
    rng = utils.make_rng(seed)
    x_train, y_train = utils.sample_codes(dataset, representation_fn, num_train, rng,
                                          encode_batch_size)
    x_test, y_test = utils.sample_codes(dataset, representation_fn, num_test, rng,
                                        encode_batch_size)
    return {"sap": sap_from_scores(_score_matrix(x_train, y_train, x_test, y_test))}
