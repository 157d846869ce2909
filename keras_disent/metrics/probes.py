"""Probes of a code's parts: how well each factor can be read from each part.

Used for the supervised methods (D2AE): the identity should be readable from the distilled
part and not from the dispelled part, which should carry the other factors. A probe is fitted
on codes of `num_train` random grid points and scored on `num_test` others: class accuracy for
the label factor, R^2 for the others (their grid index as an ordinal value). Each score comes
from a linear probe (logistic / ridge regression on standardised codes) and a non-linear one
(histogram gradient boosting), so information the linear probe misses is not mistaken for
information that is absent.
"""

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import r2_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from keras_disent import contract


def _accuracy(make, train_x, train_y, test_x, test_y):
    return float(np.mean(make().fit(train_x, train_y).predict(test_x) == test_y))


def _r2(make, train_x, train_y, test_x, test_y):
    return float(r2_score(test_y, make().fit(train_x, train_y).predict(test_x)))


def factor_probes(train_codes, train_factors, test_codes, test_factors, factor_names,
                  label_factor, seed=0):
    """`{factor: {"linear": score, "nonlinear": score, "score": "accuracy" | "r2"}}`.

    The label factor is scored by accuracy (chance: 1 / number of classes); every other
    factor by R^2 of its grid index.
    """
    results = {}
    for k, name in enumerate(factor_names):
        if k == label_factor:
            linear = _accuracy(lambda: make_pipeline(StandardScaler(),
                                                     LogisticRegression(max_iter=1000)),
                               train_codes, train_factors[:, k], test_codes, test_factors[:, k])
            nonlinear = _accuracy(lambda: HistGradientBoostingClassifier(random_state=seed),
                                  train_codes, train_factors[:, k], test_codes,
                                  test_factors[:, k])
            results[name] = {"score": "accuracy", "linear": linear, "nonlinear": nonlinear,
                             "chance": 1.0 / len(np.unique(train_factors[:, k]))}
        else:
            target = train_factors[:, k].astype(np.float64)
            linear = _r2(lambda: make_pipeline(StandardScaler(), Ridge(1.0)),
                         train_codes, target, test_codes, test_factors[:, k])
            nonlinear = _r2(lambda: HistGradientBoostingRegressor(random_state=seed),
                            train_codes, target, test_codes, test_factors[:, k])
            results[name] = {"score": "r2", "linear": linear, "nonlinear": nonlinear}
    return results


def code_part_probes(model, dataset, label, num_train=5000, num_test=2000, seed=0,
                     batch_size=256):
    """Probes of every code part of `model` (and of the whole code) on a ground-truth dataset.

    Args:
        model: a model with the "encoder" capability.
        dataset: a `GroundTruthDataset`.
        label: the factor that is the label (e.g. "shape").
        num_train, num_test: random grid points to fit and to score the probes on.

    Returns:
        `{part name or "whole code": factor_probes(...)}` plus "label" and the sizes.
    """
    from keras_disent.data import label_factor

    contract.require_capability(model, contract.ENCODER, "probe code parts")
    factor = label_factor(dataset, label)
    rng = np.random.default_rng(seed)
    factors = dataset.sample_factors(num_train + num_test, rng)
    codes = np.concatenate([model.encode(dataset.images_from_factors(factors[i:i + 1000]),
                                         batch_size)
                            for i in range(0, len(factors), 1000)])
    parts, start = {}, 0
    for part in model.code_layout():
        parts[part.name] = slice(start, start + part.size)
        start += part.size
    parts["whole code"] = slice(0, start)
    results = {"label": label, "num_train": num_train, "num_test": num_test, "seed": seed}
    for name, columns in parts.items():
        results[name] = factor_probes(codes[:num_train, columns], factors[:num_train],
                                      codes[num_train:, columns], factors[num_train:],
                                      dataset.factor_names, factor, seed)
    return results
