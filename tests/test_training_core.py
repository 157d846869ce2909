"""The multi-backend training core: every test runs under the backend in KERAS_BACKEND."""

import keras
import numpy as np
import pytest
from keras import layers, ops

from helpers import changed, tiny_beta_vae, weights_of
from keras_disent.models import DisentModel
from keras_disent.training import OptimizerGroup, Phase


class TwoPlayerToy(DisentModel):
    """A minimal GAN: discriminator phase ("d") then generator phase ("g")."""

    log_keys = ("d_loss", "g_loss")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.discriminator = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
        self.generator = keras.Sequential([keras.Input((2,)), layers.Dense(2)])
        self.seed_generator = keras.random.SeedGenerator(0)
        self.built = True

    def _fake(self, data):
        noise = keras.random.normal(ops.shape(data), seed=self.seed_generator)
        return self.generator(noise)

    def d_loss(self, data):
        fake = ops.stop_gradient(self._fake(data))
        loss = ops.mean(ops.softplus(-self.discriminator(data)))
        loss = loss + ops.mean(ops.softplus(self.discriminator(fake)))
        return loss, {"d_loss": loss}

    def g_loss(self, data):
        loss = ops.mean(ops.softplus(-self.discriminator(self._fake(data))))
        return loss, {"g_loss": loss}

    def training_phases(self):
        return [Phase(self.d_loss, self.discriminator.trainable_variables, "d"),
                Phase(self.g_loss, self.generator.trainable_variables, "g")]


def _toy_data(n=64):
    return np.random.default_rng(0).normal(3.0, 1.0, (n, 2)).astype("float32")


def test_loss_falls_on_tiny_model(sprites):
    model = tiny_beta_vae(beta=1.0)
    model.compile(keras.optimizers.Adam(2e-3))
    images = sprites.images(np.arange(0, 737_280, 11_520))  # 64 images across the grid
    history = model.fit(images, batch_size=32, epochs=20, verbose=0, shuffle=False)
    losses = history.history["loss"]
    assert losses[-1] < 0.7 * losses[0], losses


def test_consecutive_steps_draw_different_noise(sprites):
    """Catches a fixed seed baked into a jitted JAX step: same weights, different samples."""
    model = tiny_beta_vae()
    model.compile(keras.optimizers.Adam(0.0))  # weights never move
    images = sprites.images(np.arange(32) * 1000)
    first = model.train_on_batch(images, return_dict=True)
    model.reset_metrics()
    second = model.train_on_batch(images, return_dict=True)
    assert first["kl"] == pytest.approx(second["kl"], rel=1e-5)  # same weights
    assert first["recon"] != pytest.approx(second["recon"], rel=1e-7)  # new noise


def test_two_optimizers_each_count_their_updates_and_change_their_weights():
    model = TwoPlayerToy()
    model.compile(optimizer={"d": keras.optimizers.Adam(1e-2), "g": keras.optimizers.Adam(1e-2)})
    d_before = weights_of(model.discriminator.trainable_variables)
    g_before = weights_of(model.generator.trainable_variables)
    history = model.fit(_toy_data(), batch_size=16, epochs=2, verbose=0)  # 8 steps
    assert set(history.history) == {"d_loss", "g_loss"}
    members = model.optimizer.members
    assert int(ops.convert_to_numpy(members["d"].iterations)) == 8
    assert int(ops.convert_to_numpy(members["g"].iterations)) == 8
    assert changed(d_before, weights_of(model.discriminator.trainable_variables))
    assert changed(g_before, weights_of(model.generator.trainable_variables))


@pytest.mark.parametrize("frozen", ["d", "g"])
def test_each_phase_updates_only_its_own_variables(frozen):
    model = TwoPlayerToy()
    rates = {"d": 1e-2, "g": 1e-2, frozen: 0.0}
    model.compile(optimizer={k: keras.optimizers.SGD(v) for k, v in rates.items()})
    nets = {"d": model.discriminator, "g": model.generator}
    before = {k: weights_of(n.trainable_variables) for k, n in nets.items()}
    model.fit(_toy_data(16), batch_size=16, epochs=1, verbose=0)
    after = {k: weights_of(n.trainable_variables) for k, n in nets.items()}
    moving = "g" if frozen == "d" else "d"
    assert not changed(before[frozen], after[frozen])
    assert changed(before[moving], after[moving])


def test_batchnorm_moving_statistics_are_updated(sprites):
    model = tiny_beta_vae(batch_norm=True)
    model.compile(keras.optimizers.Adam(1e-3))
    norms = [layer for layer in model.encoder.layers
             if isinstance(layer, layers.BatchNormalization)]
    assert norms
    before = weights_of([n.moving_mean for n in norms])
    model.fit(sprites.images(np.arange(32) * 997), batch_size=16, epochs=1, verbose=0)
    assert changed(before, weights_of([n.moving_mean for n in norms]))


def test_optimizer_group_errors():
    with pytest.raises(ValueError, match="at least one"):
        OptimizerGroup({})
    with pytest.raises(TypeError, match="keras Optimizer"):
        OptimizerGroup({"d": 3})
    model = tiny_beta_vae()
    model.compile(optimizer={"d": keras.optimizers.Adam()})
    with pytest.raises(ValueError, match="no training phase|compiled with several"):
        model.fit(np.zeros((4, 64, 64, 1), "float32"), batch_size=4, verbose=0)
    toy = TwoPlayerToy()
    toy.compile(keras.optimizers.Adam())
    with pytest.raises(ValueError, match="compile it with a dict"):
        toy.fit(_toy_data(8), batch_size=8, verbose=0)
