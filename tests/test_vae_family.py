"""beta-TCVAE, FactorVAE and DIP-VAE: TC estimators and covariance penalties against closed
forms, permutation, training."""

import keras
import numpy as np
import pytest
from keras import ops

from helpers import TINY, assert_config_round_trip, assert_keras_file_round_trip, changed, \
    weights_of
from keras_disent import losses
from keras_disent.models import BetaTCVAE, DIPVAE, FactorVAE
from keras_disent.models.factor_vae import permute_dims


def _gaussian_batch(correlation, n=1000, d=2, posterior_std=0.3, seed=0):
    """Posterior means ~ N(0, C) with C's off-diagonals = correlation, posterior std fixed."""
    rng = np.random.default_rng(seed)
    cov = np.full((d, d), correlation) + (1 - correlation) * np.eye(d)
    mean = rng.multivariate_normal(np.zeros(d), cov, n).astype("float32")
    log_var = np.full((n, d), 2 * np.log(posterior_std), "float32")
    z = (mean + posterior_std * rng.standard_normal((n, d))).astype("float32")
    total = cov + posterior_std ** 2 * np.eye(d)
    true_tc = 0.5 * (np.sum(np.log(np.diag(total))) - np.linalg.slogdet(total)[1])
    return z, mean, log_var, true_tc


@pytest.mark.parametrize("estimator", ["mws", "mss"])
def test_total_correlation_matches_gaussian_closed_form(estimator):
    z, mean, log_var, _ = _gaussian_batch(0.0)
    _, tc, _ = losses.elbo_decomposition(z, mean, log_var, len(z), estimator)
    assert abs(float(np.mean(ops.convert_to_numpy(tc)))) < 0.1
    z, mean, log_var, true_tc = _gaussian_batch(0.9)
    _, tc, _ = losses.elbo_decomposition(z, mean, log_var, len(z), estimator)
    estimate = float(np.mean(ops.convert_to_numpy(tc)))
    assert true_tc > 0.5 and estimate == pytest.approx(true_tc, abs=0.1)


def test_decomposition_sums_to_sampled_kl():
    z, mean, log_var, _ = _gaussian_batch(0.5, n=200, d=3)
    mi, tc, dim_kl = (ops.convert_to_numpy(t) for t in
                      losses.elbo_decomposition(z, mean, log_var, 200, "mws"))
    var = np.exp(log_var)
    log_q = np.sum(-0.5 * ((z - mean) ** 2 / var + log_var + np.log(2 * np.pi)), axis=1)
    log_p = np.sum(-0.5 * (z ** 2 + np.log(2 * np.pi)), axis=1)
    np.testing.assert_allclose(mi + tc + dim_kl, log_q - log_p, rtol=1e-4, atol=1e-3)


def test_permutation_keeps_each_marginal_and_breaks_dependence():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((256, 1)).astype("float32")
    z = np.concatenate([base, base + 0.01 * rng.standard_normal((256, 1)).astype("float32")],
                       axis=1)
    seed = keras.random.SeedGenerator(0)
    permuted = ops.convert_to_numpy(permute_dims(ops.convert_to_tensor(z), seed))
    np.testing.assert_allclose(np.sort(permuted, axis=0), np.sort(z, axis=0))
    assert np.corrcoef(z.T)[0, 1] > 0.99 and abs(np.corrcoef(permuted.T)[0, 1]) < 0.3
    again = ops.convert_to_numpy(permute_dims(ops.convert_to_tensor(z), seed))
    assert not np.array_equal(again, permuted)


@pytest.fixture(scope="module")
def images():
    from keras_disent.data import dsprites

    return dsprites().images(np.arange(32) * 20_000)


@pytest.mark.parametrize("estimator", ["mws", "mss"])
def test_beta_tcvae_trains_and_logs_tc(images, estimator):
    model = BetaTCVAE(latent_dim=4, beta=6.0, estimator=estimator, seed=0, **TINY)
    model.compile(keras.optimizers.Adam(1e-3))
    history = model.fit(images, batch_size=16, epochs=3, verbose=0)
    assert set(history.history) == {"loss", "recon", "kl", "tc", "mi"}
    assert np.isfinite(history.history["loss"]).all()
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_factor_vae_two_phases(images, tmp_path):
    model = FactorVAE(latent_dim=4, gamma=10.0, discriminator_units=16, discriminator_depth=2,
                      seed=0, **TINY)
    model.compile(model.default_optimizer(1e-3))
    before = weights_of(model.discriminator.trainable_variables)
    history = model.fit(images, batch_size=16, epochs=2, verbose=0)  # 4 steps
    assert set(history.history) == {"loss", "recon", "kl", "tc", "d_loss"}
    members = model.optimizer.members
    assert int(ops.convert_to_numpy(members["vae"].iterations)) == 4
    assert int(ops.convert_to_numpy(members["discriminator"].iterations)) == 4
    assert changed(before, weights_of(model.discriminator.trainable_variables))
    assert history.history["d_loss"][0] == pytest.approx(np.log(2), abs=0.2)
    assert_config_round_trip(model)
    loaded = assert_keras_file_round_trip(model, images[:4], tmp_path)
    assert int(ops.convert_to_numpy(loaded.optimizer.members["discriminator"].iterations)) == 4


@pytest.mark.parametrize("cls, kwargs, message", [
    (BetaTCVAE, dict(beta=-1.0), "beta must be >= 0"),
    (BetaTCVAE, dict(estimator="exact"), "estimator must be"),
    (FactorVAE, dict(gamma=-2.0), "gamma must be >= 0"),
    (DIPVAE, dict(dip_type="iii"), "dip_type must be 'i' or 'ii'"),
    (DIPVAE, dict(lambda_od=-1.0), "lambda_od must be >= 0"),
    (DIPVAE, dict(lambda_d_factor=float("inf")), "lambda_d_factor must be a finite number"),
])
def test_bad_arguments(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls(**dict(TINY, **kwargs))


def test_dip_covariance_penalties_match_numpy():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 3)).astype("float32") @ np.array(
        [[1.0, 0.5, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 0.3]], "float32")
    covariance = ops.convert_to_numpy(losses.batch_covariance(ops.convert_to_tensor(x)))
    np.testing.assert_allclose(covariance, np.cov(x, rowvar=False, bias=True), rtol=1e-4,
                               atol=1e-5)
    off, diag = losses.dip_penalties(ops.convert_to_tensor(covariance))
    expected_off = np.sum(covariance ** 2) - np.sum(np.diag(covariance) ** 2)
    assert float(off) == pytest.approx(expected_off, rel=1e-4)
    assert float(diag) == pytest.approx(np.sum((np.diag(covariance) - 1) ** 2), rel=1e-4)
    identity = losses.dip_penalties(ops.convert_to_tensor(np.eye(3, dtype="float32")))
    assert [float(v) for v in identity] == [0.0, 0.0]


@pytest.mark.parametrize("dip_type, factor", [("i", 10.0), ("ii", 1.0)])
def test_dip_vae_regulariser_is_kl_plus_weighted_covariance_penalty(dip_type, factor):
    model = DIPVAE(latent_dim=2, lambda_od=5.0, dip_type=dip_type, **TINY)
    assert model.lambda_d_factor == factor and model.lambda_d == 5.0 * factor
    rng = np.random.default_rng(1)
    mean = rng.standard_normal((64, 2)) * [1.5, 0.5]
    mean[:, 1] += 0.8 * mean[:, 0]
    mean = mean.astype("float32")
    log_var = np.full((64, 2), np.log(0.2), "float32")
    kl = losses.gaussian_kl(ops.convert_to_tensor(mean), ops.convert_to_tensor(log_var))
    value, logs = model.regularizer(kl, ops.convert_to_tensor(mean),
                                    ops.convert_to_tensor(log_var), None, False)
    covariance = np.cov(mean, rowvar=False, bias=True)
    if dip_type == "ii":  # Cov_q(z) = Cov[mu] + E[diag(sigma^2)]
        covariance = covariance + 0.2 * np.eye(2)
    off = 2 * covariance[0, 1] ** 2
    diag = np.sum((np.diag(covariance) - 1) ** 2)
    expected = float(np.mean(ops.convert_to_numpy(kl))) + 5.0 * off + 5.0 * factor * diag
    assert float(value) == pytest.approx(expected, rel=1e-4)
    assert float(logs["off_diagonal"]) == pytest.approx(off, rel=1e-4)


def test_dip_vae_decorrelates_its_code(images):
    model = DIPVAE(latent_dim=3, lambda_od=50.0, seed=0, **TINY)
    model.compile(keras.optimizers.Adam(1e-3))
    history = model.fit(images, batch_size=16, epochs=4, verbose=0)
    assert history.history["dip"][-1] < history.history["dip"][0]
    assert_config_round_trip(model)
