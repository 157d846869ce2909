"""Shared test helpers: tiny models, round trips, one fit step."""

import os

import keras
import numpy as np

from keras_disent.models import BetaVAE

TINY = dict(conv_channels=(8, 8, 8, 8), dense_units=(32,))


def tiny_beta_vae(**kwargs):
    config = dict(latent_dim=4, beta=4.0, seed=1, **TINY)
    config.update(kwargs)
    return BetaVAE(**config)


def weights_of(variables):
    return [np.array(keras.ops.convert_to_numpy(v)) for v in variables]


def changed(before, after):
    return any(not np.allclose(b, a) for b, a in zip(before, after))


def assert_config_round_trip(model):
    config = model.get_config()
    clone = type(model).from_config(config)
    assert clone.get_config() == config
    return clone


def assert_keras_file_round_trip(model, images, tmp_path):
    """Saves to .keras, loads, and checks identical encodings and decodings."""
    path = os.path.join(str(tmp_path), "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(model)
    np.testing.assert_allclose(loaded.encode(images), model.encode(images), atol=1e-5)
    z = np.random.default_rng(0).standard_normal((3, model.latent_dim)).astype("float32")
    np.testing.assert_allclose(loaded.decode(z), model.decode(z), atol=1e-5)
    return loaded


def gradient(fn, x):
    """d fn(x) / dx as numpy for a scalar `fn` written with keras.ops, by the current
    backend's autodiff (tests only: the library keeps backend imports in training/)."""
    x = np.asarray(x, np.float32)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        value = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(value)
            result = fn(value)
        return tape.gradient(result, value).numpy()
    if backend == "jax":
        import jax

        return np.asarray(jax.grad(fn)(jax.numpy.asarray(x)))
    import torch

    value = torch.tensor(x, requires_grad=True)
    fn(value).backward()
    return value.grad.numpy()
