"""The supervised methods (Deep VIB, D2AE): labels, losses, learning, probes and attacks."""

import keras
import numpy as np
import pytest

from keras_disent import contract, data, models, training
from keras_disent.data import ImageArrayDataset, objects3d
from keras_disent.metrics import probes, robustness


def _two_class_images(n, seed, size=16):
    """Class 0: a bright square in the left half; class 1: in the right half; the square's
    height varies (a nuisance factor)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    heights = rng.integers(0, size - 4, n)
    images = np.zeros((n, size, size, 1), np.float32)
    for i in range(n):
        left = 2 if labels[i] == 0 else size // 2 + 2
        images[i, heights[i]:heights[i] + 4, left:left + 4] = 1.0
    return images, labels.astype(np.int32), heights


# -- labels -----------------------------------------------------------------------------------
def test_check_labels_messages():
    assert contract.check_labels(np.array([[0], [2]]), 3).tolist() == [0, 2]
    assert contract.check_labels(np.array([1.0, 0.0]), 2).dtype == np.int32
    with pytest.raises(ValueError, match=r"must be in 0..2 \(num_classes=3\), got range 0..3"):
        contract.check_labels([0, 3], 3)
    with pytest.raises(ValueError, match="got range -1..0"):
        contract.check_labels([-1, 0], 3)
    with pytest.raises(ValueError, match="3 images but 2 labels"):
        contract.check_labels([0, 1], 3, num=3)
    with pytest.raises(ValueError, match="labels are missing"):
        contract.check_labels(None, 3)
    with pytest.raises(ValueError, match="whole class indices"):
        contract.check_labels(["a", "b"], 3)


def test_labels_from_a_factor_or_a_labelled_set():
    objects = objects3d()
    assert data.label_factor(objects, "shape") == 0
    assert data.num_classes(objects, "shape") == 6
    with pytest.raises(ValueError, match="objects3d has no factor 'identity'; its factors: "
                                         "shape, azimuth, elevation, light_azimuth"):
        data.label_factor(objects, "identity")
    with pytest.raises(ValueError, match="name the one that labels the images"):
        data.labelled_batches(objects)
    batches = data.labelled_batches(objects, "shape", batch_size=5, steps_per_epoch=2, seed=1)
    images, labels = batches[0]
    assert images.shape == (5, 64, 64, 1) and labels.dtype == np.int32
    factors = objects.sample_factors(5, batches.rng(0))
    np.testing.assert_array_equal(labels, factors[:, 0])

    raw = (np.random.default_rng(0).random((10, 8, 8)) * 255).astype(np.uint8)
    labelled = ImageArrayDataset(raw, np.arange(10) % 4, name="toy")
    assert data.label_factor(labelled) is None and data.num_classes(labelled) == 4
    labels, images = data.labelled_sample(labelled, 6, seed=0)
    assert labels.shape == (6,) and images.shape == (6, 8, 8, 1)
    with pytest.raises(ValueError, match="toy has no labels"):
        data.labelled_batches(ImageArrayDataset(raw, name="toy"))
    with pytest.raises(ValueError, match="its labels are 'label', not 'shape'"):
        data.label_factor(labelled, "shape")


# -- Deep VIB ---------------------------------------------------------------------------------
def test_vib_loss_is_cross_entropy_plus_beta_kl():
    images, labels, _ = _two_class_images(8, 0)
    model = models.DeepVIB(num_classes=2, bottleneck_dim=3, beta=0.25, image_shape=(16, 16, 1),
                           encoder_units=(8,), seed=0)
    loss, logs = model.compute_losses((images, labels), training=False)
    value = lambda t: float(keras.ops.convert_to_numpy(t))  # noqa: E731
    assert value(loss) == pytest.approx(value(logs["cross_entropy"]) + 0.25 * value(logs["kl"]),
                                         rel=1e-5)
    # The mean KL equals the numpy KL of the posterior the model reports.
    assert value(logs["kl"]) == pytest.approx(model.kl_per_dim(images).sum(), rel=1e-4)
    deterministic = models.DeepVIB(num_classes=2, bottleneck_dim=3, image_shape=(16, 16, 1),
                                   encoder_units=(8,), deterministic=True, seed=0)
    loss, logs = deterministic.compute_losses((images, labels), training=False)
    assert value(logs["kl"]) == 0.0 and value(loss) == pytest.approx(
        value(logs["cross_entropy"]))


def test_vib_test_time_prediction_averages_draws():
    images, _, _ = _two_class_images(6, 1)
    model = models.DeepVIB(num_classes=2, bottleneck_dim=2, image_shape=(16, 16, 1),
                           encoder_units=(8,), num_samples=12, seed=0)
    mean, std = model.encode_distribution(images)
    assert np.all(std > 0) and np.allclose(model.encode(images), mean)
    one = model.class_probabilities(images, num_samples=1)
    many = model.class_probabilities(images)
    assert not np.allclose(one, many)  # 12 draws are not one draw
    np.testing.assert_allclose(model.class_probabilities(images), many)  # fixed draws


def test_vib_learns_a_label_and_beta_limits_its_information():
    images, labels, _ = _two_class_images(256, 2)
    test_images, test_labels, _ = _two_class_images(128, 3)
    kls, accuracies = [], []
    for beta in (1e-3, 1.0):
        model = models.DeepVIB(num_classes=2, bottleneck_dim=4, beta=beta,
                               image_shape=(16, 16, 1), encoder_units=(32,), seed=0)
        model.compile(keras.optimizers.Adam(3e-3))
        model.fit(images, labels, batch_size=32, epochs=8, verbose=0)
        accuracies.append(model.accuracy(test_images, test_labels))
        kls.append(model.kl_per_dim(test_images).sum())
    assert accuracies[0] > 0.95
    assert kls[1] < kls[0]  # a larger beta keeps fewer nats about x


def test_input_gradient_and_gradient_sign_attack():
    x = np.linspace(-1.0, 1.0, 12, dtype=np.float32).reshape(3, 4)
    grad = training.input_gradient(lambda t: keras.ops.sum(keras.ops.square(t) * 3.0), x)
    np.testing.assert_allclose(grad, 6.0 * x, rtol=1e-6)

    images, labels, _ = _two_class_images(256, 4)
    model = models.DeepVIB(num_classes=2, bottleneck_dim=4, beta=1e-3, image_shape=(16, 16, 1),
                           encoder_units=(32,), seed=0)
    model.compile(keras.optimizers.Adam(3e-3))
    model.fit(images, labels, batch_size=32, epochs=8, verbose=0)
    scores = robustness.gradient_sign_accuracy(model, images[:64], labels[:64],
                                               epsilons=(0.0, 0.5), batch_size=32)
    assert scores[0.0] == pytest.approx(model.accuracy(images[:64], labels[:64]))
    assert scores[0.5] < scores[0.0]
    with pytest.raises(ValueError, match="epsilons must be finite and >= 0"):
        robustness.gradient_sign_accuracy(model, images[:4], labels[:4], epsilons=(-0.1,))
    with pytest.raises(contract.MissingCapabilityError, match="'classifier' capability"):
        robustness.gradient_sign_accuracy(models.BetaVAE(latent_dim=2), images[:2], labels[:2])


# -- D2AE -------------------------------------------------------------------------------------
def _tiny_d2ae(**overrides):
    config = dict(num_classes=2, identity_dim=2, rest_dim=3, image_shape=(16, 16, 1),
                  conv_channels=(8, 8), dense_units=(32,), trunk_dim=32, branch_units=16,
                  adversary_units=(16,), seed=0)
    return models.D2AE(**dict(config, **overrides))


def test_d2ae_loss_is_the_weighted_sum_and_swap_recombines_parts():
    images, labels, _ = _two_class_images(6, 5)
    model = _tiny_d2ae(identity_weight=2.0, dispel_weight=0.5, reconstruction_weight=0.1)
    loss, logs = model.compute_losses((images, labels), training=False)
    logs = {k: float(keras.ops.convert_to_numpy(v)) for k, v in logs.items()}
    assert float(keras.ops.convert_to_numpy(loss)) == pytest.approx(
        2.0 * logs["identity_ce"] + 0.5 * logs["confusion"] + 0.1 * logs["recon"], rel=1e-5)
    assert logs["confusion"] >= np.log(2) - 1e-5  # CE against uniform is at least ln N
    swapped = model.swap(images[:2], images[2:5])
    assert swapped.shape == (2, 3, 16, 16, 1)
    codes = model.encode(images)
    parts = model.encode_parts(images)
    np.testing.assert_allclose(np.concatenate([parts["identity"], parts["rest"]], 1), codes)
    expected = model.decode(np.concatenate([codes[1:2, :2], codes[3:4, 2:]], 1))[0]
    np.testing.assert_allclose(swapped[1, 1], expected, atol=1e-5)
    np.testing.assert_allclose(model.swap(images[:1], images[:1])[0, 0],
                               model.reconstruct(images[:1])[0], atol=1e-5)


def test_d2ae_distils_identity_into_f_t():
    images, labels, _ = _two_class_images(256, 6)
    model = _tiny_d2ae()
    model.compile({"autoencoder": keras.optimizers.Adam(3e-3),
                   "adversary": keras.optimizers.Adam(3e-3)})
    history = model.fit(images, labels, batch_size=32, epochs=6, verbose=0)
    test_images, test_labels, _ = _two_class_images(128, 7)
    assert model.accuracy(test_images, test_labels) > 0.9
    assert history.history["recon"][-1] < history.history["recon"][0]


# -- probes -----------------------------------------------------------------------------------
def test_factor_probes_find_present_and_absent_information():
    rng = np.random.default_rng(0)
    factors = np.stack([rng.integers(0, 3, 600), rng.integers(0, 10, 600)], axis=1)
    informative = np.stack([factors[:, 0] + 0.05 * rng.standard_normal(600),
                            factors[:, 1] + 0.05 * rng.standard_normal(600)], axis=1)
    noise = rng.standard_normal((600, 2))
    names = ("identity", "pose")
    found = probes.factor_probes(informative[:400], factors[:400], informative[400:],
                                 factors[400:], names, label_factor=0)
    absent = probes.factor_probes(noise[:400], factors[:400], noise[400:], factors[400:],
                                  names, label_factor=0)
    assert found["identity"]["score"] == "accuracy" and found["pose"]["score"] == "r2"
    assert found["identity"]["linear"] > 0.95 and found["pose"]["nonlinear"] > 0.95
    assert absent["identity"]["nonlinear"] < 0.5 and absent["pose"]["linear"] < 0.05
    assert found["identity"]["chance"] == pytest.approx(1 / 3)


def test_cli_names_the_missing_label(tmp_path):
    from keras_disent import cli

    with pytest.raises(SystemExit, match="^error: deep_vib trains on labelled images: objects3d "
                                         "has factors .*name the one that labels"):
        cli.run(["train", "deep_vib", "--dataset", "objects3d", "--out", str(tmp_path / "a")])
    with pytest.raises(SystemExit, match="^error: d2ae trains on labelled images: objects3d has "
                                         "no factor 'colour'; its factors: shape, azimuth"):
        cli.run(["train", "d2ae", "--dataset", "objects3d", "--label", "colour",
                 "--out", str(tmp_path / "b")])


def test_cli_trains_d2ae_on_a_factor(tmp_path):
    from keras_disent import cli, runs

    model = cli.run(["train", "d2ae", "--dataset", "objects3d", "--label", "shape",
                     "--steps", "2", "--batch-size", "4", "--identity-dim", "3",
                     "--metrics", "", "--out", str(tmp_path)])
    assert model.num_classes == 6 and model.identity_dim == 3
    config = runs.read_json(str(tmp_path / "config.json"))
    assert set(config["optimizers"]) == {"autoencoder", "adversary"}


def test_d2ae_adversary_steps_update_the_adversary_more_often():
    images, labels, _ = _two_class_images(8, 8)
    model = _tiny_d2ae(adversary_steps=3)
    model.compile(model.default_optimizer())
    model.fit(images, labels, batch_size=8, epochs=1, verbose=0)
    members = model.optimizer.members
    assert int(keras.ops.convert_to_numpy(members["adversary"].iterations)) == 3
    assert int(keras.ops.convert_to_numpy(members["autoencoder"].iterations)) == 1
    with pytest.raises(ValueError, match="adversary_steps must be a positive integer"):
        _tiny_d2ae(adversary_steps=0)
