"""InfoGAN: which weights each phase changes, optimizer counts, generation, code recovery."""

import keras
import numpy as np
import pytest
from keras import ops

from helpers import assert_config_round_trip, changed, weights_of
from keras_disent.models import InfoGAN, categorical_accuracy

TINY = dict(noise_dim=4, categorical_codes=(4,), continuous_codes=1, image_shape=(16, 16, 1),
            discriminator_channels=(8, 16), generator_channels=(16, 8), dense_units=32,
            q_units=16, seed=0)


def _images(n=64, seed=0):
    """Synthetic data: a bright square in one of four quadrants."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 16, 16, 1), "float32")
    for i, quadrant in enumerate(rng.integers(0, 4, n)):
        top, left = 8 * (quadrant // 2), 8 * (quadrant % 2)
        images[i, top + 2:top + 6, left + 2:left + 6] = 1.0
    return images


def _parts(model):
    return {"trunk": model.trunk, "d_head": model.d_head, "generator": model.generator,
            "q_head": model.q_head}


@pytest.mark.parametrize("frozen", ["discriminator", "generator"])
def test_each_phase_changes_only_its_weights(frozen):
    model = InfoGAN(**TINY)
    optimizers = model.default_optimizer()
    optimizers[frozen].learning_rate = 0.0
    model.compile(optimizers)
    before = {k: weights_of(v.trainable_variables) for k, v in _parts(model).items()}
    model.fit(_images(16), batch_size=16, epochs=1, verbose=0)
    after = {k: weights_of(v.trainable_variables) for k, v in _parts(model).items()}
    moved = {k for k in before if changed(before[k], after[k])}
    if frozen == "generator":  # only phase 1 moves: D trunk and D head
        assert moved == {"trunk", "d_head"}
    else:  # only phase 2 moves: G and Q head
        assert moved == {"generator", "q_head"}


def test_each_adam_counts_one_update_per_step():
    model = InfoGAN(**TINY)
    model.compile(model.default_optimizer())
    history = model.fit(_images(48), batch_size=16, epochs=1, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss", "info"}
    for name in ("discriminator", "generator"):
        assert int(ops.convert_to_numpy(model.optimizer.members[name].iterations)) == 3
    assert model.optimizer.members["generator"].learning_rate.numpy() == pytest.approx(1e-3)


def test_generate_shapes_ranges_and_given_codes():
    model = InfoGAN(**TINY)
    images = model.generate(num=5, seed=0)
    assert images.shape == (5, 16, 16, 1) and images.min() >= 0 and images.max() <= 1
    np.testing.assert_allclose(model.generate(num=5, seed=0), images)
    latents = model.latents(categorical=[0, 3], continuous=[[0.5], [-0.5]], seed=1)
    assert latents.shape == (2, 4 + 4 + 1)
    np.testing.assert_array_equal(latents[:, 4:8], [[1, 0, 0, 0], [0, 0, 0, 1]])
    assert model.code_sweep("categorical", range(4), rows=2).shape == (2, 4, 16, 16, 1)
    assert model.code_sweep(0, [-2, 0, 2], rows=3).shape == (3, 3, 16, 16, 1)
    with pytest.raises(ValueError, match="noise must have shape"):
        model.latents(noise=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="at least one categorical or continuous"):
        InfoGAN(**dict(TINY, categorical_codes=(), continuous_codes=0))


def test_q_recovers_the_categorical_code_after_short_training():
    keras.utils.set_random_seed(0)
    model = InfoGAN(**TINY)
    model.compile(model.default_optimizer())
    model.fit(_images(512), batch_size=32, epochs=5, verbose=0)  # 80 steps
    codes = np.repeat(np.arange(4), 50)
    generated = model.generate(categorical=codes, seed=3)
    inferred = model.infer_codes(generated)["categorical"][:, 0]
    accuracy = float(np.mean(inferred == codes))
    assert accuracy > 0.5, accuracy  # chance is 0.25
    assert model.infer_codes(generated)["continuous"].shape == (200, 1)


def test_categorical_accuracy_uses_best_assignment():
    labels = np.array([0, 0, 1, 1, 2, 2])
    assert categorical_accuracy([2, 2, 0, 0, 1, 1], labels) == 1.0
    assert categorical_accuracy([0, 1, 0, 1, 2, 2], labels) == pytest.approx(4 / 6)


def test_config_round_trip():
    clone = assert_config_round_trip(InfoGAN(**TINY))
    assert clone.latent_dim == 9
