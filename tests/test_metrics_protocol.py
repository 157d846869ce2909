"""Protocol details of disentanglement_lib that change a score: each test has a case where a
wrong detail gives a different number. Plus IRS and the downstream-task score on known-answer
codes, and the metrics' refusal of bad codes and bad arguments."""

import numpy as np
import pytest

from keras_disent import metrics
from keras_disent.data import FactorObservations
from keras_disent.metrics import utils
from keras_disent.metrics.irs import irs_from_codes
from keras_disent.metrics.modularity import modularity_from_mutual_info
from keras_disent.metrics.sap import _score_matrix

DATA = FactorObservations((10, 10, 10))


def identity(x):
    return np.asarray(x, np.float64)


def test_factor_vae_prunes_on_the_standard_deviation():
    # dim 1 carries factor 1 with std ~0.1: between 0.05 and sqrt(0.05) = 0.22. The reference
    # keeps it (std >= 0.05); a variance threshold of 0.05 would drop it and lose factor 1.
    def code(x):
        x = identity(x)
        return np.stack([x[:, 0], 0.035 * x[:, 1], x[:, 2]], axis=1)

    sizes = dict(num_train=300, num_eval=150, num_variance_estimate=2000, batch_size=32)
    scores = metrics.factor_vae_score(code, DATA, **sizes)
    assert scores["num_active_dims"] == 3
    assert scores["eval_accuracy"] > 0.95
    # A dim with std just below 0.05 is pruned: factor 1 then has no dim to vote for it.
    def thinner(x):
        return code(x) * np.array([1.0, 0.45, 1.0])

    pruned = metrics.factor_vae_score(thinner, DATA, **sizes)
    assert pruned["num_active_dims"] == 2 and pruned["eval_accuracy"] < 0.75


def test_mig_discretises_into_20_bins():
    # One factor with 40 values coded exactly: 20 equal-width bins merge pairs of values, so
    # the top mutual information is H(v) - ln 2 and MIG = 1 - ln 2 / ln 40 (not 1).
    data = FactorObservations((40, 2))
    scores = metrics.mig(identity, data, num_train=20_000)
    expected = 1.0 - np.log(2) / np.log(40)
    assert scores["mig_per_factor"][0] == pytest.approx(expected, abs=0.01)


def test_modularity_of_a_dim_without_information_is_zero():
    # Reference: a code dim whose mutual informations are all 0 scores 0, not 1.
    info = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    assert modularity_from_mutual_info(info) == pytest.approx(0.5)
    collapsed = metrics.modularity(lambda x: np.zeros((len(x), 3)), DATA, num_train=500,
                                   num_test=200)
    assert collapsed["modularity"] == 0.0


def test_explicitness_standardises_the_codes():
    # A code on a huge scale: unstandardised, lbfgs with 100 iterations stalls; standardised
    # with the training mean and std (the reference), the classifier separates the factors.
    scores = metrics.modularity(lambda x: 1e4 * identity(x) + 1e6, DATA, num_train=2000,
                                num_test=500)
    assert scores["explicitness_test"] > 0.95


def test_sap_fits_constant_dims_like_the_reference():
    # A constant dim still gets a classifier: it predicts one class, whose share of the test
    # points is its accuracy (0 would let a collapsed dim widen the top-two gap).
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 400)
    codes = np.stack([np.zeros(400), labels + 0.01 * rng.normal(size=400)])
    matrix = _score_matrix(codes[:, :300], labels[None, :300], codes[:, 300:],
                               labels[None, 300:])
    shares = [np.mean(labels[300:] == c) for c in range(3)]
    assert any(matrix[0, 0] == pytest.approx(share) for share in shares)
    assert matrix[1, 0] > 0.6  # one-vs-rest on one axis isolates 2 of 3 ordered classes


def test_irs_known_answers():
    assert metrics.irs(identity, DATA, num_train=3000)["irs"] > 0.9
    assert metrics.irs(lambda x: np.zeros((len(x), 3)), DATA, num_train=500) == {
        "irs": 0.0, "num_active_dims": 0}
    noise = metrics.irs(lambda x: np.random.default_rng(len(x)).normal(size=(len(x), 3)),
                        DATA, num_train=3000)
    assert noise["irs"] < 0.3 and noise["num_active_dims"] == 3


def test_irs_matches_the_closed_form_on_a_tiny_case():
    # Two factors, two values each, z = (g1, g1 + g2): dim 0 never moves when g1 is fixed
    # (IRS 1); dim 1 moves by 1 around its conditional mean... with quantile 1.0 the
    # deviations are exact: for g1 fixed, |z1 - E| = 0.5; max deviation of z1 = 1.
    g = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 5)
    z = np.stack([g[:, 0], g[:, 0] + g[:, 1]], axis=1).astype(float)
    score, per_dim, matrix = irs_from_codes(g, z, diff_quantile=1.0)
    np.testing.assert_allclose(matrix[0], [1.0, 0.0])  # g2 fixed: z0 still spans 0..1
    np.testing.assert_allclose(matrix[1], [0.5, 0.5])
    np.testing.assert_allclose(per_dim, [1.0, 0.5])
    assert score == pytest.approx((1.0 * 0.5 + 0.5 * 1.0) / 1.5)  # weights: max deviations


def test_downstream_task_known_answers():
    good = metrics.downstream_task(identity, DATA, num_train=(200,), num_test=300,
                                   predictor="gradient_boosting")
    assert good["200:mean_test_accuracy"] > 0.95
    assert good["200:min_test_accuracy"] <= good["200:mean_test_accuracy"]
    assert {"200:test_accuracy_factor_0", "200:train_accuracy_factor_2"} <= set(good)
    noise = metrics.downstream_task(
        lambda x: np.random.default_rng(len(x)).normal(size=(len(x), 3)), DATA,
        num_train=(10, 100), num_test=300)
    assert noise["100:mean_test_accuracy"] < 0.25  # chance is 0.1
    assert "10:mean_test_accuracy" in noise
    with pytest.raises(ValueError, match="predictor must be one of"):
        metrics.downstream_task(identity, DATA, predictor="svm")


def test_codes_with_nan_or_inf_are_refused():
    for bad in (np.nan, np.inf):
        with pytest.raises(ValueError, match="NaN or inf codes"):
            metrics.factor_vae_score(lambda x: np.full((len(x), 3), bad), DATA,
                                     num_train=10, num_eval=10, num_variance_estimate=50)


def test_evaluate_validates_its_arguments():
    with pytest.raises(TypeError, match=r"list of names, e.g. \['mig'\]"):
        metrics.evaluate(identity, DATA, metrics="mig")
    with pytest.raises(ValueError, match="No metric among \\['mig'\\] takes 'num_trian'"):
        metrics.evaluate(identity, DATA, metrics=["mig"], num_trian=100)
    with pytest.raises(ValueError, match="mig has no argument 'num_test'"):
        metrics.evaluate(identity, DATA, metrics=["mig"], mig__num_test=100)
    with pytest.raises(ValueError, match="'sap__num_test' sets an argument of 'sap'"):
        metrics.evaluate(identity, DATA, metrics=["mig"], sap__num_test=100)
    results = metrics.evaluate(identity, DATA, metrics=["mig", "irs"], num_train=300,
                               verbose=False, cache_codes=False)
    assert results["irs"]["irs"] > 0.8


def test_histogram_discretize_matches_the_reference_rule():
    # Bins from np.histogram's edges without the last one, then np.digitize: the maximum
    # falls into bin num_bins, the minimum into bin 1.
    row = np.array([[0.0, 0.5, 1.0, 0.26]])
    np.testing.assert_array_equal(utils.histogram_discretize(row, 4), [[1, 3, 4, 2]])
