import keras
import numpy as np
import pytest

from helpers import (TINY, assert_config_round_trip, assert_keras_file_round_trip,
                     tiny_beta_vae)
from keras_disent.models import BetaVAE


@pytest.fixture(scope="module")
def images():
    from keras_disent.data import dsprites

    return dsprites().images(np.arange(16) * 40_000)


def test_public_methods_shapes_and_ranges(images):
    model = tiny_beta_vae(latent_dim=5)
    codes = model.encode(images)
    assert codes.shape == (16, 5) and codes.dtype == np.float32
    mean, log_var = model.encode_distribution(images)
    np.testing.assert_allclose(mean, codes)
    assert log_var.shape == (16, 5)
    decoded = model.decode(codes)
    assert decoded.shape == (16, 64, 64, 1)
    assert decoded.min() >= 0.0 and decoded.max() <= 1.0
    assert model.sample(3, seed=0).shape == (3, 64, 64, 1)
    np.testing.assert_allclose(model.sample(3, seed=0), model.sample(3, seed=0))
    assert model.reconstruct(images[:3]).shape == (3, 64, 64, 1)
    assert model.kl_per_dim(images).shape == (5,)
    values = np.linspace(-1, 1, 4)
    sweep = model.traverse(images[0], dims=[2, 0], values=values)
    assert sweep.shape == (2, 4, 64, 64, 1)
    code = np.repeat(codes[:1], 4, axis=0)
    code[:, 0] = values
    np.testing.assert_allclose(sweep[1], model.decode(code), atol=1e-5)


def test_encode_handles_batches_larger_than_batch_size(images):
    model = tiny_beta_vae()
    np.testing.assert_allclose(model.encode(images, batch_size=5), model.encode(images),
                               atol=1e-5)


def test_config_and_keras_file_round_trip(images, tmp_path):
    model = tiny_beta_vae(capacity_max=12.0, capacity_steps=50, reconstruction="gaussian")
    clone = assert_config_round_trip(model)
    assert clone.capacity_max == 12.0 and clone.reconstruction == "gaussian"
    model.compile(keras.optimizers.Adam(1e-3))
    model.fit(images, batch_size=8, epochs=1, verbose=0)
    loaded = assert_keras_file_round_trip(model, images, tmp_path)
    assert int(keras.ops.convert_to_numpy(loaded.train_steps)) == 2
    assert int(keras.ops.convert_to_numpy(loaded.optimizer.iterations)) == 2  # resumable


def test_capacity_annealing_logs_linear_schedule(images):
    model = tiny_beta_vae(capacity_max=20.0, capacity_steps=10, gamma=100.0)
    model.compile(keras.optimizers.Adam(1e-3))
    history = model.fit(images, batch_size=4, epochs=1, verbose=0, shuffle=False)  # 4 steps
    # C(t) at steps 1..4 is 2, 4, 6, 8: the epoch mean is 5.
    assert history.history["capacity"][0] == pytest.approx(5.0)
    assert int(keras.ops.convert_to_numpy(model.train_steps)) == 4
    assert set(history.history) == {"loss", "recon", "kl", "capacity"}


def test_beta_weights_the_kl(images):
    logs = {}
    for beta in (0.0, 10.0):
        model = tiny_beta_vae(beta=beta, seed=3)
        model.compile(keras.optimizers.Adam(0.0))
        logs[beta] = model.evaluate(images, batch_size=16, verbose=0, return_dict=True)
    assert logs[0.0]["loss"] == pytest.approx(logs[0.0]["recon"], rel=1e-5)
    assert logs[10.0]["loss"] == pytest.approx(logs[10.0]["recon"] + 10 * logs[10.0]["kl"],
                                               rel=1e-4)


@pytest.mark.parametrize("kwargs, message", [
    (dict(latent_dim=0), "latent_dim must be a positive integer"),
    (dict(latent_dim=-3), "latent_dim must be a positive integer"),
    (dict(beta=-1.0), "beta must be >= 0"),
    (dict(reconstruction="poisson"), "reconstruction must be"),
    (dict(capacity_max=-1.0), "Capacity annealing needs"),
    (dict(decoder_upsample="bilinear"), "upsample must be"),
    (dict(image_shape=(64, 64)), "image_shape must be"),
])
def test_bad_constructor_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BetaVAE(**dict(TINY, **kwargs))


def test_bad_images_get_clear_errors(images):
    model = tiny_beta_vae()
    with pytest.raises(ValueError, match=r"shape \(n, 64, 64, 1\), got \(2, 32, 32, 1\)"):
        model.encode(np.zeros((2, 32, 32, 1), "float32"))
    with pytest.raises(ValueError, match="single image"):
        model.encode(images[0])
    with pytest.raises(ValueError, match="divide by 255|x.astype"):
        model.encode((images * 255).astype("uint8"))
    with pytest.raises(ValueError, match=r"values in \[0, 1\].*divide by 255"):
        model.encode(images * 255.0)
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        model.encode(images - 0.5)
    with pytest.raises(ValueError, match=r"codes must have shape \(n, 4\)"):
        model.decode(np.zeros((2, 3), "float32"))


def test_other_image_sizes_build_and_train():
    model = BetaVAE(latent_dim=3, image_shape=(28, 28, 1), conv_channels=(8, 8),
                    dense_units=(16,))
    x = np.random.default_rng(0).random((8, 28, 28, 1)).astype("float32")
    model.compile(keras.optimizers.Adam(1e-3))
    model.fit(x, batch_size=4, epochs=1, verbose=0)
    assert model.reconstruct(x).shape == (8, 28, 28, 1)
    odd = BetaVAE(latent_dim=3, image_shape=(28, 28, 3), conv_channels=(8, 8, 8, 8),
                  dense_units=(16,), decoder_upsample="resize")
    assert odd.decode(np.zeros((1, 3), "float32")).shape == (1, 28, 28, 3)
