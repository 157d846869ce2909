"""Metrics on synthetic ground truth with known answers (disentanglement_lib-style tests)."""

import numpy as np
import pytest

from keras_disent import metrics
from keras_disent.data import FactorObservations
from keras_disent.metrics import utils

DATA = FactorObservations((10, 10, 10))
SMALL = dict(num_train=2000, num_test=1000)


def identity(x):
    return np.asarray(x, np.float64)


def permuted(x):
    return identity(x)[:, [2, 0, 1]]


def constant(x):
    return np.zeros((len(x), 3))


def noise(x):
    return np.random.default_rng(len(x)).normal(size=(len(x), 3))


def duplicated(x):
    x = identity(x)
    return np.stack([x[:, 0], x[:, 0], x[:, 1], x[:, 2]], axis=1)


def rotated(x):
    x = identity(x) - 4.5
    angle = np.pi / 4
    rotation = np.array([[np.cos(angle), -np.sin(angle), 0],
                         [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    return x @ rotation.T


def test_mig_known_answers():
    assert metrics.mig(identity, DATA, num_train=3000)["mig"] > 0.9
    assert metrics.mig(permuted, DATA, num_train=3000)["mig"] > 0.9
    assert metrics.mig(constant, DATA, num_train=3000)["mig"] == pytest.approx(0.0, abs=1e-9)
    assert metrics.mig(noise, DATA, num_train=3000)["mig"] < 0.05
    dup = metrics.mig(duplicated, DATA, num_train=3000)
    assert dup["mig_per_factor"][0] < 0.05 and dup["mig_per_factor"][1] > 0.9
    assert metrics.mig(rotated, DATA, num_train=3000)["mig"] < 0.6


def test_sap_known_answers():
    # A linear SVM on one scalar separates few of 10 classes, so even identity scores ~0.2
    # (as in disentanglement_lib); the gap to entangled codes is what matters.
    good = metrics.sap(identity, DATA, **SMALL)["sap"]
    assert good > 0.15
    assert metrics.sap(constant, DATA, **SMALL)["sap"] == 0.0
    assert metrics.sap(noise, DATA, **SMALL)["sap"] < 0.03
    assert metrics.sap(duplicated, DATA, **SMALL)["sap"] < good - 0.04


def test_modularity_known_answers():
    good = metrics.modularity(identity, DATA, **SMALL)
    assert good["modularity"] > 0.99
    assert good["explicitness_test"] > 0.9
    assert metrics.modularity(rotated, DATA, **SMALL)["modularity"] < 0.9
    assert metrics.modularity(noise, DATA, **SMALL)["explicitness_test"] < 0.6


def test_dci_known_answers():
    good = metrics.dci(identity, DATA, num_train=1000, num_test=500, verbose=False)
    assert good["disentanglement"] > 0.9 and good["completeness"] > 0.9
    assert good["informativeness_test"] > 0.9
    mixed = metrics.dci(rotated, DATA, num_train=1000, num_test=500, verbose=False)
    assert mixed["disentanglement"] < good["disentanglement"] - 0.15
    bad = metrics.dci(noise, DATA, num_train=1000, num_test=500, classifier="lasso",
                      verbose=False)
    assert bad["informativeness_test"] < 0.3


def test_beta_vae_and_factor_vae_scores_known_answers():
    sizes = dict(num_train=300, num_eval=200, batch_size=16)
    assert metrics.beta_vae_score(identity, DATA, **sizes)["eval_accuracy"] > 0.95
    assert metrics.beta_vae_score(noise, DATA, **sizes)["eval_accuracy"] < 0.6
    fv = metrics.factor_vae_score(identity, DATA, num_variance_estimate=1000, **sizes)
    assert fv["eval_accuracy"] > 0.95 and fv["num_active_dims"] == 3
    assert metrics.factor_vae_score(constant, DATA, **sizes)["num_active_dims"] == 0
    assert metrics.factor_vae_score(noise, DATA, num_variance_estimate=1000,
                                    **sizes)["eval_accuracy"] < 0.6


def test_metrics_are_deterministic_for_a_seed():
    a = metrics.mig(noise, DATA, num_train=500, seed=7)
    b = metrics.mig(noise, DATA, num_train=500, seed=7)
    assert a == b
    c = metrics.beta_vae_score(rotated, DATA, num_train=100, num_eval=50, seed=3)
    assert c == metrics.beta_vae_score(rotated, DATA, num_train=100, num_eval=50, seed=3)


def test_mutual_information_matches_sklearn():
    from sklearn.metrics import mutual_info_score

    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 5, 400), rng.integers(0, 7, 400)
    b[:200] = a[:200]
    assert utils.mutual_information(a, b) == pytest.approx(mutual_info_score(a, b))


def test_clear_errors():
    with pytest.raises(ValueError, match="no ground-truth factors"):
        metrics.mig(identity, object())
    with pytest.raises(ValueError, match="one row per input"):
        metrics.mig(lambda x: np.zeros((3, 2)), DATA, num_train=100)
    with pytest.raises(ValueError, match="Unknown metric"):
        metrics.evaluate(identity, DATA, metrics=("nope",))
    with pytest.raises(TypeError, match="encode"):
        metrics.evaluate(3, DATA, metrics=("mig",))


def test_evaluate_runs_several_with_overrides():
    results = metrics.evaluate(identity, DATA, metrics=("mig", "sap"), num_train=500,
                               sap__num_test=200, verbose=False, cache_codes=False)
    assert set(results) == {"mig", "sap"}
    assert results["mig"]["mig"] > 0.9 and "seconds" in results["sap"]


def mixed(x):
    """A deterministic, entangled code (rotation of the factors plus a nonlinearity)."""
    x = identity(x)
    return np.stack([x[:, 0] + 0.5 * x[:, 1], np.tanh(x[:, 1] - x[:, 2]), x[:, 2] ** 2], 1)


def test_grid_code_cache_gives_the_same_scores():
    calls = []

    def counted(x):
        calls.append(len(x))
        return mixed(x)

    names = ("beta_vae", "factor_vae", "mig", "sap")
    sizes = dict(num_train=300, num_eval=150, num_test=150, num_variance_estimate=300)
    plain = metrics.evaluate(mixed, DATA, names, seed=3, verbose=False, cache_codes=False,
                             **sizes)
    cached = metrics.evaluate(counted, DATA, names, seed=3, verbose=False, cache_codes=True,
                              **sizes)
    assert sum(calls) == len(DATA)  # each grid point encoded once, nothing else
    assert cached["grid_codes"]["num_images"] == 1000
    for name, key in (("beta_vae", "eval_accuracy"), ("factor_vae", "eval_accuracy"),
                      ("mig", "mig"), ("sap", "sap")):
        assert cached[name][key] == pytest.approx(plain[name][key], abs=1e-9), name


def test_cache_is_chosen_when_it_encodes_fewer_images():
    assert metrics._worth_caching(DATA, ("mig",), {})  # 10,000 encodes > 1,000 grid points
    assert not metrics._worth_caching(FactorObservations((100, 100, 100)), ("mig",), {})
    assert metrics._worth_caching(FactorObservations((100, 100, 100)), ("beta_vae",), {})
    # a metric's own smaller protocol counts too (it used to be ignored: the whole grid was
    # encoded for a 1,000-point FactorVAE score)
    grid = FactorObservations((100, 100, 100))
    assert not metrics._worth_caching(grid, ("beta_vae",), {"beta_vae__num_train": 100})
    assert not metrics._worth_caching(grid, ("beta_vae",), {"num_train": 100})


def test_udr_scores_permuted_codes_one_and_mixed_codes_lower():
    from keras_disent.metrics import udr

    rng = np.random.default_rng(0)
    factors = rng.standard_normal((1000, 3))
    kl = np.ones(3)
    same = [factors, factors[:, [2, 0, 1]] * [1, -2, 0.5]]  # permuted, rescaled, sign-flipped
    # Spearman: a permutation scores 1; Lasso(alpha=0.1) on standardised latents shrinks each
    # matched coefficient to 0.9, and relative strength (max^2 / sum) is then 0.9
    for correlation, expected in (("spearman", 1.0), ("lasso", 0.9)):
        result = udr.udr_from_representations(same, [kl, kl], correlation)
        assert result["model_scores"] == pytest.approx([expected] * 2, abs=0.03), correlation
    rotation = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    mixed = udr.udr_from_representations([factors, factors @ rotation], [kl, kl], "spearman")
    assert mixed["model_scores"][0] < 0.8
    assert udr.relative_strength(np.eye(3)) == 1.0
    assert udr.relative_strength(np.ones((3, 3))) == pytest.approx(1 / 3)
    # an uninformative latent (KL <= threshold) is left out of the score
    noisy = np.concatenate([factors[:, :2], rng.standard_normal((1000, 1))], axis=1)
    kept = udr.udr_from_representations([noisy, noisy[:, [1, 0, 2]]],
                                        [np.array([1, 1, 0.0])] * 2, "spearman")
    assert kept["model_scores"] == pytest.approx([1.0, 1.0], abs=0.03)
    with pytest.raises(ValueError, match="UDR compares at least 2 models"):
        udr.udr_from_representations([factors], [kl])
    with pytest.raises(ValueError, match="correlation must be 'lasso' or 'spearman'"):
        udr.udr_from_representations(same, [kl, kl], "pearson")
