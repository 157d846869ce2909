"""DRIT and UFDN's source classifier on known cases (the harness covers their contract)."""

import keras
import numpy as np
import pytest

from helpers import gradient
from keras_disent import cli
from keras_disent.data import DigitDomains, ImageArrayDataset
from keras_disent.models import DRIT, UFDN
from keras_disent.models.drit import _partner, _pick

DRIT_TINY = dict(num_domains=2, image_shape=(16, 16, 3), conv_channels=(8, 8), content_channels=2,
                 attribute_dim=3, discriminator_channels=(8, 8), seed=3)
UFDN_TINY = dict(num_domains=3, latent_dim=3, image_shape=(16, 16, 3), conv_channels=(8, 8),
                 dense_units=(16,), discriminator_units=(8,), seed=3)


def _images(n, seed=0, shape=(16, 16, 3)):
    return np.random.default_rng(seed).random((n,) + shape).astype("float32")


def _bench(n=40, domains=("mnist", "mnist_m", "colour")):
    labels = np.arange(n) % 10
    images = np.zeros((n, 28, 28), np.uint8)
    for i, label in enumerate(labels):
        images[i, 4:24, 2 * label + 2:2 * label + 5] = 230
    return DigitDomains(ImageArrayDataset(images, labels, name="bars"), domains)


def test_pick_takes_each_examples_domain_and_partner_is_an_involution():
    outputs = [np.full((3, 2), 1.0, "float32"), np.full((3, 2), 2.0, "float32")]
    onehot = np.eye(2, dtype="float32")[[1, 0, 1]]
    picked = keras.ops.convert_to_numpy(_pick([keras.ops.convert_to_tensor(o) for o in outputs],
                                              keras.ops.convert_to_tensor(onehot)))
    np.testing.assert_allclose(picked, [[2, 2], [1, 1], [2, 2]])
    x = keras.ops.convert_to_tensor(np.arange(5.0))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(_partner(x)), [4, 3, 2, 1, 0])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(_partner(_partner(x))), np.arange(5.0))


def test_cross_pairs_give_every_example_a_partner_of_another_domain():
    for domains in (("mnist", "mnist_m"), ("mnist", "mnist_m", "colour")):
        bench = _bench(domains=domains)
        for batch_size in (8, 9):
            batches = bench.batches(batch_size, 3, seed=1, cross_pairs=True)
            for index in range(3):
                _, ids = batches[index]
                half = batch_size // 2
                assert (ids[:half] != ids[::-1][:half]).all(), ids
    with pytest.raises(ValueError, match="cross_pairs needs at least two domains"):
        _bench(domains=("mnist",)).batches(4, 1, cross_pairs=True)


def test_drit_per_domain_encoders_and_translation():
    model = DRIT(**DRIT_TINY)
    images = _images(6)
    as_0, as_1 = model.encode(images, domains=0), model.encode(images, domains=1)
    mixed = model.encode(images, domains=np.array([0, 1, 0, 1, 0, 1]))
    np.testing.assert_allclose(mixed[0::2], as_0[0::2], atol=1e-6)
    np.testing.assert_allclose(mixed[1::2], as_1[1::2], atol=1e-6)
    assert not np.allclose(as_0[:, :model.content_dim], as_1[:, :model.content_dim])
    np.testing.assert_array_equal(as_1[:, -2:], np.tile([0.0, 1.0], (6, 1)))
    # translate = decode([content, attribute, target one-hot])
    attributes = np.random.default_rng(1).standard_normal((6, 3)).astype("float32")
    codes = np.concatenate([as_0[:, :model.content_dim], attributes, np.tile([0.0, 1.0],
                                                                             (6, 1))], 1)
    np.testing.assert_allclose(model.translate(images, 1, attributes, domains=0),
                               model.decode(codes), atol=1e-6)
    # sampled attributes: one seed, one translation; two seeds, two
    np.testing.assert_allclose(model.translate(images, 1, seed=4, domains=0),
                               model.translate(images, 1, seed=4, domains=0), atol=1e-6)
    assert np.abs(model.translate(images, 1, seed=4, domains=0)
                  - model.translate(images, 1, seed=5, domains=0)).mean() > 1e-5
    # the two generators differ: the target domain matters
    assert np.abs(model.translate(images, 0, attributes, domains=0)
                  - model.translate(images, 1, attributes, domains=0)).mean() > 1e-5
    assert model.guess_domains(images).shape == (6,)


def test_drit_bad_input_says_what_is_wrong():
    model = DRIT(**DRIT_TINY)
    images = _images(4)
    with pytest.raises(ValueError, match=r"domain ids must be whole numbers in 0..1, got 2..2"):
        model.encode(images, domains=2)
    with pytest.raises(ValueError, match="4 images but 3 domain ids"):
        model.encode(images, domains=[0, 1, 0])
    with pytest.raises(ValueError, match=r"must have shape \(n, 16, 16, 3\)"):
        model.encode(_images(2, shape=(16, 16, 1)))
    with pytest.raises(ValueError, match=r"attributes must have shape \(4, 3\)"):
        model.translate(images, 1, attributes=np.zeros((4, 2)), domains=0)
    model.compile(model.default_optimizer())
    with pytest.raises(ValueError, match=r"domain ids must be in 0..1"):
        model.fit(images, np.array([0, 1, 2, 0]), batch_size=4, verbose=0)
    with pytest.raises(ValueError, match=r"DRIT trains on \(images, domain ids\)"):
        model.fit(images, batch_size=4, verbose=0)
    for name, value in (("num_domains", 1), ("cross_cycle", -1.0), ("kl", float("nan"))):
        with pytest.raises(ValueError, match=name):
            DRIT(**dict(DRIT_TINY, **{name: value}))


def _losses_with_generators_at_zero(model):
    """Zeroes every generator weight (logits 0, every pixel 0.5) and returns the images, their
    domains and the model's loss logs on them."""
    for generator in model.generators:
        for weight in generator.weights:
            weight.assign(np.zeros(weight.shape, "float32"))
    images = _images(6, 2)
    domains = np.array([0, 0, 0, 1, 1, 1], "int32")
    _, logs = model.compute_losses((keras.ops.convert_to_tensor(images),
                                    keras.ops.convert_to_tensor(domains)))
    return images, domains, logs


def test_drit_losses_at_a_known_point():
    """A model whose generators output logits 0 (every pixel 0.5): both L1 terms equal the mean
    |x - 0.5| of the batch, whatever the codes; the KL is the closed form of the encoders'
    statistics."""
    model = DRIT(**DRIT_TINY)
    images, domains, logs = _losses_with_generators_at_zero(model)
    expected = np.mean(np.abs(images - 0.5))
    assert float(logs["self_recon"]) == pytest.approx(expected, rel=1e-5)
    assert float(logs["cross_cycle"]) == pytest.approx(expected, rel=1e-5)
    stats = np.concatenate([model.attribute_encoders[d].predict_on_batch(images[domains == d])
                            for d in (0, 1)])
    mean, log_var = stats[:, :3], stats[:, 3:]
    kl = 0.5 * np.sum(np.exp(log_var) + mean ** 2 - 1.0 - log_var, axis=1).mean()
    assert float(logs["kl"]) == pytest.approx(kl, rel=1e-4)
    weights = model.loss_weights
    total = sum(weights[k] * float(logs[k]) for k in weights)
    assert float(logs["loss"]) == pytest.approx(total, rel=1e-5)


def test_drit_bernoulli_reconstruction_at_a_known_point():
    """With reconstruction="bernoulli" and generators at logits 0, both image terms are the
    binary cross-entropy of p = 0.5, log 2 per pixel, whatever the images; near-black logits
    still get a gradient where L1 through the sigmoid gets almost none."""
    model = DRIT(**dict(DRIT_TINY, reconstruction="bernoulli"))
    _, _, logs = _losses_with_generators_at_zero(model)
    assert float(logs["self_recon"]) == pytest.approx(np.log(2.0), rel=1e-5)
    assert float(logs["cross_cycle"]) == pytest.approx(np.log(2.0), rel=1e-5)
    assert DRIT.from_config(model.get_config()).reconstruction == "bernoulli"
    # d/dlogit at logit -10 where the image is 1: L1 gives -sigmoid'(-10) ~ -4.5e-5, the
    # cross-entropy sigmoid(-10) - 1 ~ -1 (per pixel, before the mean).
    from keras_disent.models import drit

    logit = np.full((1, 1, 1, 1), -10.0, "float32")
    target = keras.ops.ones((1, 1, 1, 1))
    for reconstruction, expected in (("l1", -4.54e-5), ("bernoulli", -1.0)):
        grad = gradient(lambda x: drit._image_distance(x, target, reconstruction)[0], logit)
        assert float(grad[0, 0, 0, 0]) == pytest.approx(expected, rel=1e-2)
    with pytest.raises(ValueError, match="reconstruction must be one of"):
        DRIT(**dict(DRIT_TINY, reconstruction="l2"))


def test_drit_trains_its_three_phases_on_cross_paired_batches():
    bench = _bench(domains=("mnist", "mnist_m"))
    model = DRIT(**dict(DRIT_TINY, image_shape=(28, 28, 3)))
    model.compile(model.default_optimizer(3e-3))
    batches = bench.batches(8, 10, seed=0, cross_pairs=True)
    images, domains = batches[0]
    data = (keras.ops.convert_to_tensor(images), keras.ops.convert_to_tensor(domains))
    before = model.compute_losses(data)[1]
    model.fit(batches, epochs=2, verbose=0)
    after = model.compute_losses(data)[1]
    for key in ("self_recon", "cross_cycle"):
        assert float(after[key]) < 0.8 * float(before[key]), key
    for name, member in model.optimizer.members.items():
        assert int(keras.ops.convert_to_numpy(member.iterations)) == 20, name


def test_ufdn_source_classifier_reads_only_the_labelled_domains():
    model = UFDN(num_classes=4, labelled_domains=(0,), **UFDN_TINY)
    images = keras.ops.convert_to_tensor(_images(6, 1))
    domains = np.array([0, 1, 2, 0, 1, 2], "int32")
    labels = np.array([0, 1, 2, 3, 0, 1], "int32")
    _, logs = model.compute_losses((images, (domains, labels)))
    other = labels.copy()
    other[domains != 0] = 3 - other[domains != 0]  # change only the unlabelled domains' labels
    _, same = model.compute_losses((images, (domains, other)))
    assert float(same["class_loss"]) == float(logs["class_loss"])
    changed = labels.copy()
    changed[0] = 3
    _, moved = model.compute_losses((images, (domains, changed)))
    assert float(moved["class_loss"]) != float(logs["class_loss"])
    # the loss is the source examples' mean cross-entropy from mu(x)
    probabilities = model.class_probabilities(keras.ops.convert_to_numpy(images))
    expected = -np.mean(np.log(probabilities[[0, 3], labels[[0, 3]]]))
    assert float(logs["class_loss"]) == pytest.approx(expected, rel=1e-4)
    # the entropy of C's predictions on the unlabelled examples, added at entropy_weight
    unlabelled = probabilities[[1, 2, 4, 5]]
    entropy = -np.mean(np.sum(unlabelled * np.log(unlabelled), axis=1))
    assert float(logs["unlabelled_entropy"]) == pytest.approx(entropy, rel=1e-4)
    model.entropy_weight = 5.0
    loss_with, _ = model.compute_losses((images, (domains, labels)))
    loss_without = float(logs["loss"])
    assert float(loss_with) - loss_without == pytest.approx(5.0 * entropy, rel=1e-3)


def test_ufdn_source_classifier_errors():
    model = UFDN(num_classes=4, **UFDN_TINY)
    model.compile(model.default_optimizer())
    images = _images(4, 1)
    with pytest.raises(ValueError, match=r"trains on \(images, \(domain ids, class labels\)\)"):
        model.fit(images, np.zeros(4, "int32"), batch_size=4, verbose=0)
    with pytest.raises(ValueError, match=r"class labels must be in 0..3"):
        model.fit(images, (np.zeros(4, "int32"), np.full(4, 4, "int32")), batch_size=4,
                  verbose=0)
    with pytest.raises(ValueError, match=r"domain ids must be in 0..2"):
        model.fit(images, (np.full(4, 3, "int32"), np.zeros(4, "int32")), batch_size=4,
                  verbose=0)
    with pytest.raises(ValueError, match="labelled_domains must be domain ids in 0..2"):
        UFDN(num_classes=4, labelled_domains=(5,), **UFDN_TINY)
    with pytest.raises(ValueError, match="entropy_weight needs the source classifier"):
        UFDN(entropy_weight=1.0, **UFDN_TINY)
    with pytest.raises(ValueError, match="entropy_weight must be >= 0"):
        UFDN(num_classes=4, entropy_weight=-1.0, **UFDN_TINY)
    with pytest.raises(ValueError, match="num_classes must be 0"):
        UFDN(num_classes=1, **UFDN_TINY)
    with pytest.raises(Exception, match="'classifier' capability"):
        UFDN(**UFDN_TINY).class_probabilities(images)


def test_ufdn_domain_ramp_scales_the_adversary_with_the_step_count():
    model = UFDN(domain_weight=2.0, domain_ramp_steps=10, **UFDN_TINY)
    images = keras.ops.convert_to_tensor(_images(6, 1))
    domains = np.array([0, 1, 2, 0, 1, 2], "int32")

    def adversary_part():
        loss, logs = model.compute_losses((images, domains))
        rest = float(logs["recon"]) + model.beta * float(logs["kl"])
        return float(loss) - rest, float(logs["confusion"]), float(logs["domain_ramp"])

    part, confusion, ramp = adversary_part()
    assert ramp == 0.0 and part == pytest.approx(0.0, abs=1e-3)
    model.compile(model.default_optimizer())
    model.fit(images, domains, batch_size=2, epochs=1, verbose=0)  # 3 steps
    assert int(keras.ops.convert_to_numpy(model.train_steps)) == 3
    part, confusion, ramp = adversary_part()  # evaluation does not count a step
    assert int(keras.ops.convert_to_numpy(model.train_steps)) == 3
    assert ramp == pytest.approx(2 / (1 + np.exp(-3.0)) - 1, rel=1e-5)
    assert part == pytest.approx(2.0 * ramp * confusion, rel=1e-3)
    with pytest.raises(ValueError, match="domain_ramp_steps must be >= 0"):
        UFDN(domain_ramp_steps=-1, **UFDN_TINY)


def test_ufdn_flip_adversary_pushes_away_from_the_true_domain():
    from keras_disent.models.base import sample_gaussian

    model = UFDN(adversary="flip", **dict(UFDN_TINY, num_domains=2))
    images = keras.ops.convert_to_tensor(_images(6, 2))
    domains = np.array([0, 1, 1, 0, 1, 0], "int32")
    _, logs = model.compute_losses((images, domains))
    stats = model.encoder(images)
    mean, log_var = stats[:, :3], stats[:, 3:]
    z = sample_gaussian(mean, log_var, model.noise_seed(model.seed_generator, False))
    probs = keras.ops.convert_to_numpy(keras.ops.softmax(model.domain_discriminator(z)))
    expected = np.mean(-np.log(1.0 - probs[np.arange(6), domains]))
    assert float(logs["confusion"]) == pytest.approx(expected, rel=1e-4)
    assert UFDN.from_config(model.get_config()).adversary == "flip"
    with pytest.raises(ValueError, match="adversary must be 'uniform' or 'flip'"):
        UFDN(adversary="reverse", **UFDN_TINY)


def test_cli_points_drit_to_its_recipe(tmp_path):
    with pytest.raises(SystemExit, match="recipes/lee2018_drit_digits.py"):
        cli.run(["train", "drit", "--out", str(tmp_path / "d")])


def test_invert_gray_flips_about_half_of_the_gray_digits_only():
    bench = _bench(domains=("mnist", "mnist_m"))
    plain = bench.batches(64, 1, seed=2)[0]
    flipped = bench.batches(64, 1, seed=2, invert_gray=True)[0]
    images, domains = plain
    inverted, same_domains = flipped
    np.testing.assert_array_equal(domains, same_domains)
    gray = domains == 0
    changed = np.array([not np.allclose(a, b) for a, b in zip(images, inverted)])
    assert not changed[~gray].any()
    np.testing.assert_allclose(inverted[changed], 1.0 - images[changed], atol=1e-6)
    assert 0.25 < changed[gray].mean() < 0.75


def test_cnn_classifier_learns_the_source_and_inverts_on_request():
    from keras_disent.metrics import domain_transfer

    bench = _bench(60, domains=("mnist",))
    images, labels = bench.all_images("mnist")
    classify = domain_transfer.cnn_classifier(images, labels, 10, steps=150, batch_size=20,
                                              learning_rate=3e-3)
    assert np.mean(classify(images) == labels) > 0.9
    both = domain_transfer.cnn_classifier(images, labels, 10, steps=300, batch_size=20,
                                          learning_rate=3e-3, invert=True)
    assert np.mean(both(1.0 - images) == labels) > 0.9
    normalised = domain_transfer.cnn_classifier(images, labels, 10, steps=150, batch_size=20,
                                                learning_rate=3e-3, batch_norm=True)
    assert np.mean(normalised(images) == labels) > 0.9
