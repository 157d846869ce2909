import numpy as np
import pytest
from keras import ops

from keras_disent import losses

rng = np.random.default_rng(0)


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


def test_bernoulli_reconstruction_matches_closed_form():
    images = (rng.random((3, 5, 5, 1)) > 0.5).astype("float32")
    logits = rng.normal(size=(3, 5, 5, 1)).astype("float32") * 4
    p = 1 / (1 + np.exp(-logits.astype("float64")))
    expected = -(images * np.log(p) + (1 - images) * np.log(1 - p)).reshape(3, -1).sum(1)
    np.testing.assert_allclose(_np(losses.bernoulli_reconstruction(images, logits)), expected,
                               rtol=1e-5)


def test_bernoulli_reconstruction_is_stable_for_large_logits():
    images = np.array([[[[1.0]], [[0.0]]]], "float32")
    logits = np.array([[[[200.0]], [[-200.0]]]], "float32")
    assert _np(losses.bernoulli_reconstruction(images, logits))[0] == pytest.approx(0.0, abs=1e-6)
    assert _np(losses.bernoulli_reconstruction(1 - images, logits))[0] == pytest.approx(400.0)


def test_gaussian_reconstruction_is_squared_error_of_sigmoid():
    images = rng.random((2, 4, 4, 3)).astype("float32")
    logits = rng.normal(size=(2, 4, 4, 3)).astype("float32")
    expected = ((1 / (1 + np.exp(-logits)) - images) ** 2).reshape(2, -1).sum(1)
    np.testing.assert_allclose(_np(losses.gaussian_reconstruction(images, logits)), expected,
                               rtol=1e-5)


def test_gaussian_kl_closed_form_and_zero_at_prior():
    mean = rng.normal(size=(4, 3)).astype("float32")
    log_var = rng.normal(size=(4, 3)).astype("float32")
    expected = 0.5 * (mean ** 2 + np.exp(log_var) - log_var - 1).sum(1)
    np.testing.assert_allclose(_np(losses.gaussian_kl(mean, log_var)), expected, rtol=1e-5)
    np.testing.assert_allclose(_np(losses.gaussian_kl_per_dim(mean, log_var)).sum(1), expected,
                               rtol=1e-5)
    zeros = np.zeros((2, 3), "float32")
    np.testing.assert_allclose(_np(losses.gaussian_kl(zeros, zeros)), [0.0, 0.0], atol=1e-7)


def test_adversary_ramp_follows_dann_schedule():
    assert float(_np(losses.adversary_ramp(0, 100))) == 0.0
    assert float(_np(losses.adversary_ramp(50, 100))) == pytest.approx(
        2 / (1 + np.exp(-5.0)) - 1, rel=1e-6)
    assert float(_np(losses.adversary_ramp(10_000, 100))) == pytest.approx(
        2 / (1 + np.exp(-10.0)) - 1, rel=1e-6)  # held at p = 1
    assert float(_np(losses.adversary_ramp(7, 0))) == 1.0  # no ramp


def test_away_from_label_is_minus_log_of_the_other_classes_mass():
    probs = np.array([[0.7, 0.2, 0.1], [0.25, 0.25, 0.5]], "float32")
    labels = np.array([0, 2], "int32")
    got = _np(losses.away_from_label(ops.log(probs), labels))
    np.testing.assert_allclose(got, -np.log(1 - probs[[0, 1], labels]), rtol=1e-5)
    # stable where the label's probability rounds to 1: -log(exp(-50)) = 50
    sure = _np(losses.away_from_label(ops.convert_to_tensor([[0.0, -50.0]]), np.array([0])))
    assert float(sure[0]) == pytest.approx(50.0, rel=1e-4)


def test_masked_mean_reads_only_the_masked_examples():
    values = np.array([1.0, 2.0, 10.0, 4.0], "float32")
    assert float(_np(losses.masked_mean(values, np.array([1, 0, 0, 1], "float32")))) == 2.5
    assert float(_np(losses.masked_mean(values, np.zeros(4, "float32")))) == 0.0


def test_linear_capacity_and_penalty():
    assert float(_np(losses.linear_capacity(0, 25.0, 100))) == 0.0
    assert float(_np(losses.linear_capacity(40, 25.0, 100))) == pytest.approx(10.0)
    assert float(_np(losses.linear_capacity(500, 25.0, 100))) == pytest.approx(25.0)
    np.testing.assert_allclose(_np(losses.capacity_penalty(np.array([3.0, 7.0], "float32"), 5.0,
                                                           10.0)), [20.0, 20.0])


def test_gaussian_log_density_matches_scipy_form():
    x, m, lv = 0.3, -0.2, np.log(0.5)
    expected = -0.5 * ((x - m) ** 2 / 0.5 + np.log(2 * np.pi * 0.5))
    got = _np(losses.gaussian_log_density(np.float32(x), np.float32(m), np.float32(lv)))
    assert float(got) == pytest.approx(expected, rel=1e-5)


def test_classification_terms_match_numpy():
    logits = rng.normal(size=(5, 4)).astype("float32")
    log_probs = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    labels = np.array([0, 3, 1, 1, 2], "int32")
    np.testing.assert_allclose(_np(losses.label_log_likelihood(log_probs, labels)),
                               log_probs[np.arange(5), labels], rtol=1e-6)
    np.testing.assert_allclose(_np(losses.uniform_cross_entropy(log_probs)),
                               -log_probs.mean(1), rtol=1e-6)
    uniform = np.log(np.full((2, 4), 0.25, "float32"))
    np.testing.assert_allclose(_np(losses.uniform_cross_entropy(uniform)), np.log(4.0),
                               rtol=1e-6)
    np.testing.assert_array_equal(_np(losses.correct_predictions(log_probs, labels)),
                                  (logits.argmax(1) == labels).astype("float32"))
