"""The multi-domain digits benchmark and the cross-domain scores, on known cases."""

import numpy as np
import pytest

from keras_disent.data import DigitDomains, ImageArrayDataset, digit_domains
from keras_disent.data import multi_domain as domains_module
from keras_disent.metrics import domain_transfer


def _digits(n=40, seed=0):
    """Gray 'digits': class k is a bright bar at column 2k+2 (10 classes)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    images = np.zeros((n, 28, 28), np.uint8)
    for i, label in enumerate(labels):
        images[i, 4:24, 2 * label + 2:2 * label + 5] = rng.integers(200, 256)
    return ImageArrayDataset(images, labels, name="bars")


def test_each_domain_follows_its_rule():
    bench = DigitDomains(_digits())
    assert bench.image_shape == (28, 28, 3) and bench.num_domains == 4
    gray = bench.digits.images([3])[..., 0]
    mnist = bench.render([3], "mnist", [7])
    np.testing.assert_allclose(mnist[0], np.repeat(gray[0][..., None], 3, -1))
    texture = domains_module.texture([7])
    np.testing.assert_allclose(bench.render([3], "mnist_m", [7])[0],
                               np.abs(texture[0] - gray[0][..., None]), atol=1e-6)
    fore, back = domains_module.flat_colours([7])
    colour = bench.render([3], "colour", [7])[0]
    on = gray[0] > 0.99
    np.testing.assert_allclose(colour[on], np.broadcast_to(fore[0], colour[on].shape),
                               atol=1e-2)
    np.testing.assert_allclose(colour[~on & (gray[0] == 0)][0], back[0], atol=1e-6)
    assert np.mean(np.abs(fore - back)) >= 0.5
    natural = domains_module.natural_texture([7])
    np.testing.assert_allclose(bench.render([3], "mnist_m_natural", [7])[0],
                               np.abs(natural[0] - gray[0][..., None]), atol=1e-6)
    # a pure function of (digit, domain, texture seed); another seed, another texture
    np.testing.assert_array_equal(bench.render([3], 1, [7]), bench.render([3], "mnist_m", [7]))
    assert not np.allclose(bench.render([3], 1, [8]), bench.render([3], 1, [7]))


def test_natural_texture_has_the_statistics_of_photographs():
    textures = domains_module.natural_texture(np.arange(400))
    assert textures.shape == (400, 28, 28, 3) and textures.dtype == np.float32
    assert textures.min() >= 0.0 and textures.max() <= 1.0
    pixels = textures.reshape(-1, 3)
    # ImageNet's channel means and (about) its spread
    np.testing.assert_allclose(pixels.mean(0), [0.485, 0.456, 0.406], atol=0.02)
    assert 0.2 < pixels.std() < 0.26
    # channels move together, as in photographs (the 4x4-grid texture's are independent)
    assert np.corrcoef(pixels.T)[np.triu_indices(3, 1)].min() > 0.9
    grid = domains_module.texture(np.arange(400)).reshape(-1, 3)
    assert np.abs(np.corrcoef(grid.T)[np.triu_indices(3, 1)]).max() < 0.2
    # 1/f amplitude spectrum: the slope of log amplitude on log radial frequency is about -1
    luminance = textures.mean(-1) - textures.mean(axis=(1, 2, 3))[:, None, None]
    amplitude = np.abs(np.fft.fft2(luminance)).mean(0)
    frequency = np.hypot(np.fft.fftfreq(28)[:, None], np.fft.fftfreq(28)[None, :])
    inside = (frequency > 0) & (frequency < 0.3)
    slope = np.polyfit(np.log(frequency[inside]), np.log(amplitude[inside]), 1)[0]
    assert -1.2 < slope < -0.8, slope
    # a pure function of each seed, whatever the batch
    np.testing.assert_array_equal(domains_module.natural_texture([5, 9])[1],
                                  domains_module.natural_texture([9])[0])
    assert domains_module.natural_texture([]).shape == (0, 28, 28, 3)


def test_sample_carries_label_domain_and_texture_seed():
    bench = DigitDomains(_digits())
    batch = bench.sample(6, "colour", seed=3)
    assert batch["images"].shape == (6, 28, 28, 3)
    assert batch["images"].min() >= 0.0 and batch["images"].max() <= 1.0
    np.testing.assert_array_equal(batch["domains"], 2)
    np.testing.assert_array_equal(batch["labels"], bench.digits.labels[batch["digit_indices"]])
    np.testing.assert_allclose(batch["images"], bench.render(batch["digit_indices"], "colour",
                                                             batch["texture_seeds"]))
    images, labels = bench.all_images("mnist")
    assert len(images) == len(labels) == 40


def test_bad_domains_and_sources_say_what_to_do(tmp_path):
    bench = DigitDomains(_digits(), domains=("mnist", "mnist_m"))
    with pytest.raises(ValueError, match="Unknown domain 'svhn'; this benchmark's domains: "
                                         "0=mnist, 1=mnist_m"):
        bench.sample(2, "svhn")
    with pytest.raises(ValueError, match="Unknown domain 2"):
        bench.render([0], 2, [0])
    with pytest.raises(ValueError, match="domains must be distinct names"):
        DigitDomains(_digits(), domains=("mnist", "mnist"))
    with pytest.raises(ValueError, match="has no labels"):
        DigitDomains(ImageArrayDataset(np.zeros((2, 28, 28), np.uint8)))
    with pytest.raises(ValueError, match="Unknown digit source"):
        digit_domains("dsprites")
    with pytest.raises(FileNotFoundError):
        digit_domains(f"mnist_csv:{tmp_path / 'absent.csv.gz'}")


def test_mnist_csv_split_is_fixed_and_disjoint(tmp_path):
    digits = _digits(1200)
    raw = digits.raw.copy()
    raw[:, 0, 0, 0], raw[:, 0, 1, 0] = np.arange(1200) % 256, np.arange(1200) // 256  # row id
    table = np.concatenate([raw.reshape(1200, -1), digits.labels[:, None]], axis=1)
    path = str(tmp_path / "digits.csv")
    np.savetxt(path, table, fmt="%d", delimiter=",")
    train = digit_domains(f"mnist_csv:{path}", "train")
    test = digit_domains(f"mnist_csv:{path}", "test")
    assert (len(train), len(test)) == (200, 1000)

    def row_id(bench):
        return bench.digits.raw[:, 0, 0, 0] + 256 * bench.digits.raw[:, 0, 1, 0].astype(int)

    assert set(row_id(train)).isdisjoint(row_id(test))
    assert len(set(row_id(train)) | set(row_id(test))) == 1200
    again = digit_domains(f"mnist_csv:{path}", "train")
    np.testing.assert_array_equal(again.digits.raw, train.digits.raw)


def test_domain_adaptation_accuracy_known_cases():
    bench = DigitDomains(_digits(200))
    source = bench.sample(200, "mnist", seed=0)
    target = bench.sample(200, "colour", seed=1)
    # Codes that are the label itself: perfect transfer. Codes of raw pixels: the flat colours
    # move every pixel, so a classifier fitted on black-background digits falls far.
    ideal = domain_transfer.domain_adaptation_accuracy(
        lambda images: _label_code(bench, images), source["images"], source["labels"],
        target["images"], target["labels"])
    assert ideal["target_accuracy"] == 1.0 and ideal["num_target"] == 200
    pixels = domain_transfer.domain_adaptation_accuracy(
        lambda images: images.reshape(len(images), -1), source["images"], source["labels"],
        target["images"], target["labels"])
    assert pixels["source_train_accuracy"] == 1.0 and pixels["target_accuracy"] < 0.6
    with pytest.raises(ValueError, match="source: 3 images but 2 labels"):
        domain_transfer.domain_adaptation_accuracy(lambda x: x, np.zeros((3, 2)), [0, 1],
                                                   np.zeros((2, 2)), [0, 1])


def _label_code(bench, images):
    """Reads the bar column (the label) from any domain: the code an ideal model would give."""
    contrast = np.abs(images - images[:, :1, :1]).mean(axis=(1, 3))  # (n, 28) per column
    column = contrast.argmax(axis=1)
    return np.eye(10)[np.clip((column - 2) // 2, 0, 9)]


def test_content_preservation_and_diversity_known_cases():
    bench = DigitDomains(_digits(200))
    truth = bench.sample(200, "mnist_m", seed=2)
    classify = domain_transfer.image_classifier(truth["images"], truth["labels"])
    same = bench.sample(100, "mnist_m", seed=3)
    assert domain_transfer.content_preservation(classify, same["images"], same["labels"]) > 0.9
    wrong = (same["labels"] + 1) % 10
    assert domain_transfer.content_preservation(classify, same["images"], wrong) < 0.1

    images = same["images"][:8]
    assert domain_transfer.translation_diversity(lambda x, seed: x, images) == 0.0
    sigma = 0.1

    def noisy(x, seed):
        return x + sigma * np.random.default_rng(seed).standard_normal(x.shape)

    # E|a - b| for independent N(0, s^2) draws is 2 s / sqrt(pi).
    assert domain_transfer.translation_diversity(noisy, images) == pytest.approx(
        2 * sigma / np.sqrt(np.pi), rel=0.02)
    with pytest.raises(ValueError, match="num_samples must be at least 2"):
        domain_transfer.translation_diversity(noisy, images, num_samples=1)


def test_multi_domain_batches_mix_domains_and_repeat():
    bench = DigitDomains(_digits(40))
    batches = bench.batches(batch_size=30, steps_per_epoch=2, seed=5, with_labels=True)
    images, (domains, labels) = batches[0]
    assert images.shape == (30, 28, 28, 3) and domains.dtype == np.int32
    assert set(domains.tolist()) == {0, 1, 2, 3}
    again_images, (again_domains, _) = batches[0]
    np.testing.assert_array_equal(again_domains, domains)
    np.testing.assert_allclose(again_images, images)
    gray = images[domains == 0]
    np.testing.assert_allclose(gray[..., 0], gray[..., 2])  # the mnist domain is gray
    assert labels.shape == (30,) and labels.max() < 10
    plain_images, plain_domains = bench.batches(batch_size=4, steps_per_epoch=1)[0]
    assert plain_images.shape == (4, 28, 28, 3) and plain_domains.shape == (4,)
