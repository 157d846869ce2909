"""DCI: Disentanglement, Completeness, Informativeness (Eastwood & Williams 2018)."""

import os

import numpy as np
import scipy.stats

from keras_disent.metrics import utils


def _l1_logistic_regression():
    import sklearn
    from sklearn.linear_model import LogisticRegression

    major, minor = (int(p) for p in sklearn.__version__.split(".")[:2])
    if (major, minor) >= (1, 8):  # `penalty` is deprecated there in favour of l1_ratio.
        return LogisticRegression(l1_ratio=1.0, C=0.1, solver="saga", max_iter=500)
    return LogisticRegression(penalty="l1", C=0.1, solver="saga", max_iter=500)


def _fit_factor(x_train, y_train, x_test, y_test, classifier):
    """One factor's `(importances (d,), train accuracy, test accuracy)`."""
    if classifier == "gbt":
        from sklearn.ensemble import GradientBoostingClassifier

        model = GradientBoostingClassifier()
        model.fit(x_train, y_train)
        importance = np.abs(model.feature_importances_)
    else:  # L1 logistic regression: |coefficients| as importance (much faster).
        model = _l1_logistic_regression()
        model.fit(x_train, y_train)
        importance = np.abs(model.coef_).sum(axis=0)
    return (importance, float(np.mean(model.predict(x_train) == y_train)),
            float(np.mean(model.predict(x_test) == y_test)))


def _importance_matrix(x_train, y_train, x_test, y_test, classifier, progress, n_jobs=None):
    """`(importance (d, K), train accuracy, test accuracy)` from one classifier per factor,
    the factors fitted in parallel (`n_jobs` processes; default one per core, at most K)."""
    import joblib

    num_codes, num_factors = x_train.shape[0], y_train.shape[0]
    n_jobs = min(num_factors, os.cpu_count() or 1) if n_jobs is None else n_jobs
    jobs = (joblib.delayed(_fit_factor)(x_train.T, y_train[k], x_test.T, y_test[k], classifier)
            for k in range(num_factors))
    importance = np.zeros((num_codes, num_factors))
    train_acc, test_acc = [], []
    results = joblib.Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    for k, (column, train, test) in enumerate(results):
        importance[:, k] = column
        train_acc.append(train)
        test_acc.append(test)
        progress.step(f"factor {k} test accuracy {test:.3f}")
    return importance, float(np.mean(train_acc)), float(np.mean(test_acc))


def disentanglement_from_importance(importance):
    """Weighted mean over codes of 1 - H_K(P_i.) (Eastwood & Williams Eq. 2)."""
    per_code = 1.0 - scipy.stats.entropy(importance.T + 1e-11, base=importance.shape[1])
    total = importance.sum()
    if total == 0.0:
        return 0.0
    return float(np.sum(per_code * importance.sum(axis=1) / total))


def completeness_from_importance(importance):
    """Weighted mean over factors of 1 - H_D(P_.j) (Eastwood & Williams Eq. 3)."""
    per_factor = 1.0 - scipy.stats.entropy(importance + 1e-11, base=importance.shape[0])
    total = importance.sum()
    if total == 0.0:
        return 0.0
    return float(np.sum(per_factor * importance.sum(axis=0) / total))


def dci(representation_fn, dataset, seed=0, num_train=10_000, num_test=5_000,
        classifier="gbt", encode_batch_size=256, verbose=True, n_jobs=None):
    """Disentanglement, completeness and informativeness from a feature-importance matrix.

    One classifier per factor predicts it from the code; its feature importances form
    R (codes x factors). Disentanglement: does each code dim explain one factor?
    Completeness: is each factor explained by one dim? Informativeness: classifier accuracy.
    `classifier="gbt"` (sklearn GradientBoostingClassifier, the disentanglement_lib protocol,
    slow: prints progress per factor) or `"lasso"` (L1 logistic regression, fast; not in the
    reference). The per-factor classifiers are fitted in parallel, `n_jobs` processes
    (default: one per core, at most one per factor).

    Protocol (disentanglement_lib `evaluation/metrics/dci.py`, study config `dci.gin`):
    num_train 10,000, num_test 5,000, `GradientBoostingClassifier()` with sklearn's defaults
    per factor, importance = |feature_importances_|, entropies with base K (disentanglement)
    and D (completeness) after adding 1e-11, informativeness = mean accuracy. Keys as
    disentanglement_lib's.

    Returns:
        `{"disentanglement", "completeness", "informativeness_train",
        "informativeness_test"}`.

    Reference:
        Eastwood & Williams 2018, A Framework for the Quantitative Evaluation of Disentangled
        Representations, ICLR, Sec. 2.
    """
    if classifier not in ("gbt", "lasso"):
        raise ValueError(f"classifier must be 'gbt' or 'lasso', got {classifier!r}.")
    utils.check_dataset(dataset)
    rng = utils.make_rng(seed)
    x_train, y_train = utils.sample_codes(dataset, representation_fn, num_train, rng,
                                          encode_batch_size)
    x_test, y_test = utils.sample_codes(dataset, representation_fn, num_test, rng,
                                        encode_batch_size)
    progress = utils.Progress(f"DCI ({classifier})", y_train.shape[0], verbose)
    importance, train_acc, test_acc = _importance_matrix(x_train, y_train, x_test, y_test,
                                                         classifier, progress, n_jobs)
    return {"disentanglement": disentanglement_from_importance(importance),
            "completeness": completeness_from_importance(importance),
            "informativeness_train": train_acc, "informativeness_test": test_acc}
