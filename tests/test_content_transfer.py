"""Content transfer: shapes, the zero code for domain A, phases, the procedural benchmark."""

import keras
import numpy as np
import pytest
from keras import ops

from helpers import assert_config_round_trip, changed, weights_of
from keras_disent.data import GlassesBenchmark
from keras_disent.models import ContentTransfer

TINY = dict(image_shape=(32, 32, 1), channels=(8, 16), common_channels=8, specific_channels=2,
            discriminator_units=16, seed=0)


@pytest.fixture(scope="module")
def bench():
    return GlassesBenchmark()


def _pairs(n=8, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0, 0.5, (n, 32, 32, 1)).astype("float32")
    b = a.copy()
    b[:, 10:14, 8:24] = 1.0  # the B-only content
    return a, b


def test_transfer_shapes_and_zero_code():
    model = ContentTransfer(**TINY)
    a, b = _pairs()
    assert model.add_content(a, b).shape == (8, 32, 32, 1)
    removed = model.remove_content(b)
    common, specific = model.encode_parts(b)
    assert common.shape == (8, 8, 8, 8) and specific.shape == (8, 8, 8, 2)
    np.testing.assert_allclose(removed, model.decode_parts(common, np.zeros_like(specific)),
                               atol=1e-6)
    # The contract's flat code is the two maps side by side, and decode takes it back.
    codes = model.encode(b)
    assert codes.shape == (8, model.code_dim) and model.code_dim == 8 * 8 * (8 + 2)
    np.testing.assert_allclose(codes[:, :512].reshape(common.shape), common, atol=1e-6)
    np.testing.assert_allclose(model.decode(codes), model.decode_parts(common, specific),
                               atol=1e-6)
    assert [p.name for p in model.code_layout()] == ["common", "specific"]
    assert model.transfer_matrix(a[:3], b[:4]).shape == (3, 4, 32, 32, 1)
    with pytest.raises(ValueError, match="pairs a\\[i\\] with b\\[i\\]"):
        model.add_content(a[:2], b[:3])


def test_domain_a_reconstruction_ignores_the_specific_encoder():
    model = ContentTransfer(**TINY)
    a, b = _pairs()
    _, before = model.autoencoder_loss((a, b), training=False)
    for variable in model.specific_encoder.trainable_variables:
        variable.assign(variable + 0.5)
    _, after = model.autoencoder_loss((a, b), training=False)
    assert float(ops.convert_to_numpy(after["recon_a"])) == pytest.approx(
        float(ops.convert_to_numpy(before["recon_a"])), abs=1e-6)
    assert float(ops.convert_to_numpy(after["recon_b"])) != pytest.approx(
        float(ops.convert_to_numpy(before["recon_b"])), abs=1e-6)


def _parts(model):
    return {"common": model.common_encoder, "specific": model.specific_encoder,
            "decoder": model.decoder, "discriminator": model.discriminator}


def test_discriminator_phase_changes_only_the_discriminator():
    model = ContentTransfer(**TINY)
    optimizers = model.default_optimizer()
    optimizers["autoencoder"].learning_rate = 0.0
    model.compile(optimizers)
    before = {k: weights_of(v.trainable_variables) for k, v in _parts(model).items()}
    model.fit(_pairs(16), batch_size=8, epochs=1, verbose=0)
    after = {k: weights_of(v.trainable_variables) for k, v in _parts(model).items()}
    assert {k for k in before if changed(before[k], after[k])} == {"discriminator"}
    for name in ("autoencoder", "discriminator"):
        assert int(ops.convert_to_numpy(model.optimizer.members[name].iterations)) == 2


def test_trains_on_the_benchmark(bench):
    keras.utils.set_random_seed(0)
    model = ContentTransfer(**dict(TINY, image_shape=(64, 64, 1), channels=(8, 16, 16)))
    model.compile(model.default_optimizer(1e-3))
    history = model.fit(bench.batches(16, steps_per_epoch=8, seed=0), epochs=3, verbose=0)
    assert set(history.history) == {"loss", "recon_a", "recon_b", "confusion", "d_loss"}
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_benchmark_ground_truth(bench):
    scene, glasses = bench.sample_scenes(6, 0), bench.sample_glasses(6, 1)
    a, b = bench.render(scene), bench.render(scene, glasses)
    assert a.shape == b.shape == (6, 64, 64, 1)
    assert set(np.unique(a)) <= {0.0, 0.5} and b.max() == 1.0
    difference = (b != a)[..., 0]
    mask = bench.glasses_masks(scene, glasses) > 0
    assert np.all(difference <= mask) and difference.sum() > 0
    assert np.all(b[..., 0][mask] == 1.0)
    with pytest.raises(ValueError, match="scene factors must be"):
        bench.render([[3, 0, 0, 0, 0]])


def test_aligned_benchmark_puts_glasses_at_one_place():
    aligned, unaligned = GlassesBenchmark(), GlassesBenchmark(aligned=False)
    assert aligned.scene_sizes == (3, 4, 8, 1, 1) and unaligned.scene_sizes == (3, 4, 8, 8, 8)
    glasses = np.repeat(aligned.sample_glasses(1, 0), 8, axis=0)
    masks = aligned.glasses_masks(aligned.sample_scenes(8, 1), glasses)
    assert np.all(masks == masks[:1])
    columns = np.nonzero(masks[0].any(axis=0))[0]
    assert (columns.min() + columns.max()) / 2 == 32  # centred on the image
    scenes = unaligned.sample_scenes(64, 2)
    moved = unaligned.glasses_masks(scenes, np.repeat(glasses[:1], 64, axis=0))
    assert len({m.tobytes() for m in moved}) > 1
    assert unaligned.name != aligned.name


def test_transfer_errors_scores_the_baselines():
    from keras_disent.metrics import content_transfer

    bench = GlassesBenchmark()

    class CopyInput:
        def add_content(self, a, b):
            return a

        def remove_content(self, b):
            return b

    results, shown = content_transfer.transfer_errors(CopyInput(), bench, num=40, seed=3)
    for task in ("add", "remove"):
        assert results[task]["model"] == results[task]["copy input"]
        assert 0.5 < results[task]["model"]["mae_changed_pixels"] <= 1.0
    assert results["add"]["paste B"]["mae"] > results["add"]["copy input"]["mae"]
    assert shown["a"].shape == (6, 64, 64, 1) and results["num_pairs"] == 40
    assert content_transfer.summary(results)[0].startswith("add: model MAE")
    with pytest.raises(ValueError, match="num must be > 0"):
        content_transfer.transfer_errors(CopyInput(), bench, num=0)


def test_config_round_trip_and_errors():
    assert_config_round_trip(ContentTransfer(**TINY))
    with pytest.raises(ValueError, match="divisible by 4"):
        ContentTransfer(**dict(TINY, image_shape=(30, 30, 1)))
    with pytest.raises(ValueError, match="unpaired batches"):
        ContentTransfer(**TINY).autoencoder_loss(np.zeros((2, 32, 32, 1), "float32"))


def test_global_specific_code_is_the_same_everywhere_on_the_map():
    model = ContentTransfer(**dict(TINY, specific_code="global"))
    _, b = _pairs()
    _, specific = model.encode_parts(b)
    assert specific.shape == (8, 8, 8, 2)
    np.testing.assert_allclose(specific, np.broadcast_to(specific[:, :1, :1], specific.shape),
                               atol=1e-6)
    assert_config_round_trip(model)
    with pytest.raises(ValueError, match="specific_code must be"):
        ContentTransfer(**dict(TINY, specific_code="pooled"))
