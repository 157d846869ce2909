"""Downstream-task score: how well simple classifiers predict each factor from the code."""

import warnings

import numpy as np

from keras_disent.metrics import utils

PREDICTORS = ("logistic_regression_cv", "gradient_boosting")


def _predictor(name):
    from sklearn import ensemble, linear_model, model_selection

    if name == "logistic_regression_cv":
        # scoring="accuracy" is what the reference's default (None) means.
        return linear_model.LogisticRegressionCV(Cs=10, cv=model_selection.KFold(n_splits=5),
                                                 scoring="accuracy")
    return ensemble.GradientBoostingClassifier()


def _accuracies(x_train, y_train, x_test, y_test, predictor):
    """Per-factor train and test accuracy of one classifier per factor."""
    from sklearn.exceptions import ConvergenceWarning

    train, test = [], []
    with warnings.catch_warnings(), utils.one_blas_thread():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)  # folds missing a class (10 points)
        warnings.simplefilter("ignore", FutureWarning)  # sklearn's attribute changes
        for k in range(y_train.shape[0]):
            model = _predictor(predictor)
            model.fit(x_train.T, y_train[k])
            train.append(float(np.mean(model.predict(x_train.T) == y_train[k])))
            test.append(float(np.mean(model.predict(x_test.T) == y_test[k])))
    return train, test


def downstream_task(representation_fn, dataset, seed=0, num_train=(10, 100, 1000, 10_000),
                    num_test=5_000, predictor="logistic_regression_cv", encode_batch_size=256):
    """Accuracy of a classifier predicting each factor from the code, per training size.

    For each training size: fresh training and test points, one classifier per factor.

    Protocol (disentanglement_lib `evaluation/metrics/downstream_task.py`, study configs
    `downstream_task_logistic_regression.gin` and `downstream_task_boosted_trees.gin`):
    num_train [10, 100, 1000, 10000], num_test 5,000; `predictor` "logistic_regression_cv"
    (`LogisticRegressionCV(Cs=10, cv=KFold(5))`) or "gradient_boosting"
    (`GradientBoostingClassifier()`). Keys as disentanglement_lib's
    (`"<size>:mean_test_accuracy"`, `"<size>:min_test_accuracy"`, the same for train, and
    `"<size>:test_accuracy_factor_<k>"`).

    Returns:
        a dict of floats keyed as above.

    Reference:
        Locatello et al. 2019, Challenging Common Assumptions in the Unsupervised Learning of
        Disentangled Representations, ICML, Sec. 5 ("downstream task").
    """
    if predictor not in PREDICTORS:
        raise ValueError(f"predictor must be one of {PREDICTORS}, got {predictor!r}.")
    sizes = [num_train] if isinstance(num_train, (int, np.integer)) else list(num_train)
    if not sizes or any(int(n) != n or n < 2 for n in sizes) or num_test < 1:
        raise ValueError(f"num_train must be training sizes >= 2 and num_test >= 1; got "
                         f"{num_train}, {num_test}.")
    utils.check_dataset(dataset)
    rng = utils.make_rng(seed)
    scores = {}
    for size in sizes:
        x_train, y_train = utils.sample_codes(dataset, representation_fn, int(size), rng,
                                              encode_batch_size)
        x_test, y_test = utils.sample_codes(dataset, representation_fn, num_test, rng,
                                            encode_batch_size)
        train, test = _accuracies(x_train, y_train, x_test, y_test, predictor)
        for split, values in (("train", train), ("test", test)):
            scores[f"{size}:mean_{split}_accuracy"] = float(np.mean(values))
            scores[f"{size}:min_{split}_accuracy"] = float(np.min(values))
            for k, value in enumerate(values):
                scores[f"{size}:{split}_accuracy_factor_{k}"] = value
    return scores
