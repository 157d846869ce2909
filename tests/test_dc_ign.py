"""DC-IGN: clamping gradients, one-factor batches, the procedural 3D dataset, training."""

import keras
import numpy as np
import pytest
from keras import ops

from helpers import assert_config_round_trip, gradient
from keras_disent import losses
from keras_disent.data import FactorBatches, Objects3D
from keras_disent.models import DCIGN

TINY = dict(factor_latents=[("azimuth", 1), ("elevation", 1), ("light_azimuth", 1)],
            intrinsic_dim=2, conv_channels=(8, 8, 8, 8), dense_units=(32,), seed=0)
ACTIVE = np.array([0, 1, 0, 0, 0], np.float32)  # only latent 1 (elevation) varies


@pytest.fixture(scope="module")
def objects():
    return Objects3D()


def test_clamp_latents_matches_numpy():
    z = np.random.default_rng(0).standard_normal((6, 5)).astype("float32")
    clamped, aux = losses.clamp_latents(ops.convert_to_tensor(z), ACTIVE)
    mean = z.mean(axis=0, keepdims=True)
    expected = np.where(ACTIVE > 0, z, mean)
    np.testing.assert_allclose(ops.convert_to_numpy(clamped), expected, atol=1e-6)
    np.testing.assert_allclose(ops.convert_to_numpy(aux),
                               0.5 * np.sum((1 - ACTIVE) * (z - mean) ** 2, axis=1), rtol=1e-5)


def test_decoder_gets_no_gradient_through_inactive_latents():
    z = np.random.default_rng(1).standard_normal((6, 5)).astype("float32")
    weights = np.random.default_rng(2).standard_normal((6, 5)).astype("float32")

    def decoder_term(value):  # any function of the clamped code, e.g. a linear decoder
        clamped, _ = losses.clamp_latents(value, ACTIVE)
        return ops.sum(ops.convert_to_tensor(weights) * clamped)

    grad = gradient(decoder_term, z)
    assert np.all(grad[:, ACTIVE == 0] == 0.0)  # exactly zero, not just small
    np.testing.assert_allclose(grad[:, ACTIVE == 1], weights[:, ACTIVE == 1], rtol=1e-6)


def test_inactive_gradient_is_difference_from_batch_mean():
    z = np.random.default_rng(3).standard_normal((6, 5)).astype("float32")

    def per_example_loss(value):
        clamped, aux = losses.clamp_latents(value, ACTIVE)
        return ops.sum(ops.square(clamped)) + ops.sum(aux)

    grad = gradient(per_example_loss, z)
    np.testing.assert_allclose(grad[:, ACTIVE == 0],
                               (z - z.mean(axis=0, keepdims=True))[:, ACTIVE == 0], atol=1e-5)
    np.testing.assert_allclose(grad[:, ACTIVE == 1], 2 * z[:, ACTIVE == 1], rtol=1e-5)


def test_factor_batches_vary_exactly_one_factor(objects):
    batches = FactorBatches(objects, ["azimuth", "elevation", "light_azimuth", "shape"],
                            ratios=(1, 1, 1, 10), free_ratio=1, batch_size=32, seed=0)
    counts = np.zeros(5, int)
    for i in range(120):
        factors, _, group = batches.batch(i)
        counts[group] += 1
        varying = [k for k in range(4) if len(np.unique(factors[:, k])) > 1]
        if group < 4:
            assert set(varying) <= {batches.groups[group]}, (group, varying)
            assert varying, "the group's factor should take several values in 32 draws"
        else:
            assert len(varying) == 4
    assert counts[3] > 3 * max(counts[:3])  # intrinsic batches are ~10x as frequent
    images, group = batches[0]
    assert images.shape == (32, 64, 64, 1) and group.shape == (32,) and len(set(group)) == 1
    with pytest.raises(ValueError, match="2 groups but 3 ratios"):
        FactorBatches(objects, ["azimuth", "shape"], ratios=(1, 1, 1))


def test_objects3d_grid_and_rendering(objects):
    assert len(objects) == 6 * 19 * 7 * 9
    indices = np.array([0, 1234, len(objects) - 1])
    np.testing.assert_array_equal(objects.factors_to_index(objects.index_to_factors(indices)),
                                  indices)
    base = np.array([[2, 9, 3, 4]])
    image = objects.images_from_factors(base)
    assert image.shape == (1, 64, 64, 1) and 0.0 <= image.min() and image.max() <= 1.0
    assert 0.05 < (image > 0).mean() < 0.6  # an object, not an empty or full frame
    for k in range(4):  # every factor changes the picture
        other = base.copy()
        other[0, k] = (other[0, k] + 2) % objects.factor_sizes[k]
        assert np.abs(objects.images_from_factors(other) - image).mean() > 1e-3, k
    np.testing.assert_allclose(objects.images_from_factors(base), objects.render(base),
                               atol=0.5 / 255 + 1e-6)  # cached uint8 == ray-cast
    with pytest.raises(IndexError, match="out of range"):
        objects.images_from_factors([[6, 0, 0, 0]])


def test_dcign_trains_on_clamped_batches(objects):
    model = DCIGN(**TINY)
    assert model.latent_dim == 5 and model.factor_dims("elevation") == [1]
    assert model.group_factors == ["azimuth", "elevation", "light_azimuth", "shape"]
    model.compile(keras.optimizers.Adam(1e-3))
    batches = FactorBatches(objects, model.group_factors, ratios=(1, 1, 1, 10),
                            batch_size=16, steps_per_epoch=6, seed=0)
    history = model.fit(batches, epochs=2, verbose=0)
    assert set(history.history) == {"loss", "recon", "kl", "clamp"}
    assert history.history["loss"][1] < history.history["loss"][0]
    assert int(ops.convert_to_numpy(model.optimizer.iterations)) == 12
    _, images = objects.sample(4, seed=0)
    assert model.encode(images).shape == (4, 5)
    assert model.reconstruct(images).shape == (4, 64, 64, 1)
    # Plain images (no group): every latent active, so the clamp term is zero.
    logs = model.evaluate(images, verbose=0, return_dict=True)
    assert logs["clamp"] == pytest.approx(0.0, abs=1e-7)


def test_dcign_config_and_errors():
    clone = assert_config_round_trip(DCIGN(**TINY))
    assert clone.factor_latents == [("azimuth", 1), ("elevation", 1), ("light_azimuth", 1)]
    with pytest.raises(ValueError, match="distinct"):
        DCIGN(factor_latents=[("shape", 1)], intrinsic_factor="shape")
    with pytest.raises(ValueError, match=">= 1 dim"):
        DCIGN(factor_latents=[("azimuth", 0)])
    with pytest.raises(ValueError, match="No latent group 'colour'"):
        DCIGN(**TINY).factor_dims("colour")
