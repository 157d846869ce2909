"""Local-file and TFDS loaders on small files the tests write, and their offline failures."""

import gzip
import os
import time

import numpy as np
import pytest

from keras_disent import data
from keras_disent.data import files

rng = np.random.default_rng(0)


def write_idx(path, array):
    codes = {np.dtype(np.uint8): 0x08}
    header = bytes([0, 0, codes[array.dtype], array.ndim])
    dims = np.array(array.shape, ">i4").tobytes()
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "wb") as handle:
        handle.write(header + dims + array.tobytes())


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip_and_directory_form(tmp_path, suffix):
    images = rng.integers(0, 256, (7, 28, 28)).astype(np.uint8)
    labels = rng.integers(0, 10, 7).astype(np.uint8)
    write_idx(str(tmp_path / f"train-images-idx3-ubyte{suffix}"), images)
    write_idx(str(tmp_path / f"train-labels-idx1-ubyte{suffix}"), labels)
    dataset = data.get(f"fashion_mnist_idx:{tmp_path}")
    assert len(dataset) == 7 and dataset.image_shape == (28, 28, 1)
    assert dataset.name == "fashion_mnist"
    np.testing.assert_array_equal(dataset.labels, labels)
    np.testing.assert_allclose(dataset.images([2])[0, ..., 0], images[2] / 255.0, rtol=1e-6)
    write_idx(str(tmp_path / f"t10k-images-idx3-ubyte{suffix}"), images[:3])
    write_idx(str(tmp_path / f"t10k-labels-idx1-ubyte{suffix}"), labels[:3])
    test = data.idx(str(tmp_path), split="test")
    assert len(test) == 3
    np.testing.assert_array_equal(test.labels, labels[:3])
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        data.idx(str(tmp_path), split="validation")


def test_idx_errors(tmp_path):
    bad = tmp_path / "bad-idx"
    bad.write_bytes(b"\x01\x02\x03\x04rest")
    with pytest.raises(ValueError, match="not an IDX file"):
        files.read_idx(str(bad))
    short = str(tmp_path / "short-idx")
    write_idx(short, np.zeros((4, 3, 3), np.uint8))
    with open(short, "r+b") as handle:
        handle.truncate(30)
    with pytest.raises(ValueError, match="truncated or corrupt"):
        files.read_idx(short)
    with pytest.raises(FileNotFoundError, match="IDX file not found"):
        files.read_idx(str(tmp_path / "absent"))
    with pytest.raises(FileNotFoundError, match="No train-images-idx3-ubyte"):
        data.idx(str(tmp_path))


def test_mnist_csv(tmp_path):
    table = np.concatenate([rng.integers(0, 256, (5, 784)), np.arange(5)[:, None]], axis=1)
    path = str(tmp_path / "mnist.csv.gz")
    with gzip.open(path, "wt") as handle:
        np.savetxt(handle, table, fmt="%d", delimiter=",")
    dataset = data.mnist_csv(path)
    np.testing.assert_array_equal(dataset.labels, np.arange(5))
    assert dataset.images([4]).shape == (1, 28, 28, 1)
    np.savetxt(str(tmp_path / "wrong.csv"), table[:, :100], fmt="%d", delimiter=",")
    with pytest.raises(ValueError, match="784 pixels and a label"):
        data.mnist_csv(str(tmp_path / "wrong.csv"))
    with pytest.raises(ValueError, match="split must be None, 'train' or 'test'"):
        data.mnist_csv(path, split="valid")


def test_mnist_csv_fixed_split(tmp_path):
    table = np.concatenate([rng.integers(0, 256, (1005, 784)), np.arange(1005)[:, None] % 10],
                           axis=1)
    table[:, 0] = np.arange(1005) % 256  # a row id in the first two pixels
    table[:, 1] = np.arange(1005) // 256
    path = str(tmp_path / "mnist.csv")
    np.savetxt(path, table, fmt="%d", delimiter=",")
    train = data.mnist_csv(path, "mnist_5k", "train")
    test = data.mnist_csv(path, "mnist_5k", "test")
    assert (len(train), len(test), test.name) == (5, 1000, "mnist_5k_test")
    order = np.random.default_rng(0).permutation(1005)  # the documented rule
    ids = lambda d: d.raw[:, 0, 0, 0] + 256 * d.raw[:, 0, 1, 0].astype(int)  # noqa: E731
    np.testing.assert_array_equal(ids(test), order[:1000])
    np.testing.assert_array_equal(ids(train), order[1000:])


def test_celeba_folder_crop_resize_and_attribute_filter(tmp_path):
    from PIL import Image

    os.makedirs(tmp_path / "img_align_celeba")
    names = ["000001.jpg", "000002.jpg", "000003.jpg"]
    for i, name in enumerate(names):
        pixels = np.full((218, 178, 3), 40 * (i + 1), np.uint8)
        Image.fromarray(pixels).save(tmp_path / "img_align_celeba" / name)
    lines = ["3", "Eyeglasses Male"] + [f"{n} {g} {m}" for n, g, m in
                                        zip(names, (1, -1, 1), (-1, 1, 1))]
    (tmp_path / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    everything = data.celeba_folder(str(tmp_path))
    assert len(everything) == 3 and everything.image_shape == (64, 64, 3)
    glasses = data.celeba_folder(str(tmp_path), image_size=128, attributes={"Eyeglasses": True})
    assert len(glasses) == 2 and glasses.image_shape == (128, 128, 3)
    assert glasses.images([1])[0].mean() == pytest.approx(120 / 255, abs=0.02)
    with pytest.raises(ValueError, match="Unknown CelebA attribute 'Hat'"):
        data.celeba_folder(str(tmp_path), attributes={"Hat": True})
    with pytest.raises(FileNotFoundError, match="list_attr_celeba.txt"):
        data.celeba_folder(str(tmp_path / "nowhere"))


def test_shapes3d_h5_reads_factors_lazily(tmp_path):
    import h5py

    grid = np.stack(np.meshgrid(*[np.arange(2)] * 6, indexing="ij"), -1).reshape(-1, 6)
    values = grid * 0.1 + 0.05
    images = (grid.sum(1)[:, None, None, None] * 20 * np.ones((1, 64, 64, 3))).astype(np.uint8)
    path = str(tmp_path / "3dshapes.h5")
    with h5py.File(path, "w") as handle:
        handle["images"], handle["labels"] = images, values
    dataset = data.shapes3d_h5(path)
    assert dataset.factor_sizes == (10, 10, 10, 8, 4, 15) and not dataset.complete
    assert dataset.factor_names[:3] == ("floor_hue", "wall_hue", "object_hue")
    factors = dataset.sample_factors(5, seed=0)
    assert (factors <= 1).all()
    batch = dataset.images_from_factors(factors)
    np.testing.assert_allclose(batch[:, 0, 0, 0], factors.sum(1) * 20 / 255.0, rtol=1e-6)
    with pytest.raises(IndexError, match="not in the loaded data"):
        dataset.images_from_factors([[5, 0, 0, 0, 0, 0]])


def test_dsprites_file_matches_layout(tmp_path, sprites):
    indices = np.array([0, 5, 12345, 737_279])
    factors = sprites.index_to_factors(indices)
    imgs = sprites.images(indices)[..., 0].astype(np.uint8)
    classes = np.concatenate([np.zeros((4, 1), np.int64), factors], axis=1)
    path = str(tmp_path / "dsprites.npz")
    np.savez_compressed(path, imgs=imgs, latents_classes=classes)
    dataset = data.dsprites_file(path)
    np.testing.assert_array_equal(dataset.images_from_factors(factors), sprites.images(indices))
    assert dataset.factor_names == sprites.factor_names


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist", "celeb_a", "dsprites", "shapes3d"])
def test_tfds_loaders_with_mock_data(name):
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=6):
        dataset = data.tfds(name, split="train")
    if name in ("dsprites", "shapes3d"):
        factors = dataset.sample_factors(3, seed=0)
        images = dataset.images_from_factors(factors)
        assert images.shape == (3,) + dataset.image_shape
        # One set of factor names across every source of the same dataset.
        expected = {"dsprites": data.dsprites().factor_names,
                    "shapes3d": tuple(n for n, _ in data.files.SHAPES3D_FACTORS)}[name]
        assert dataset.factor_names == expected
    else:
        _, images = dataset.sample(3, seed=0)
        expected = {"celeb_a": (64, 64, 3)}.get(name, (28, 28, 1))
        assert dataset.image_shape == expected
    assert images.dtype == np.float32 and 0.0 <= images.min() and images.max() <= 1.0


@pytest.mark.parametrize("name", ["celeb_a", "shapes3d"])
def test_tfds_offline_failure_is_fast_and_explains(name, tmp_path):
    pytest.importorskip("tensorflow_datasets")
    start = time.time()
    with pytest.raises(data.tfds_loader.DatasetNotPreparedError) as error:
        data.tfds(name, data_dir=str(tmp_path))
    assert time.time() - start < 5.0
    message = str(error.value)
    assert name in message and str(tmp_path) in message and "manual_dir" in message


def test_get_spec_errors():
    with pytest.raises(ValueError, match="Unknown dataset 'cifar'"):
        data.get("cifar")
    with pytest.raises(ValueError, match="Unsupported TFDS dataset"):
        data.get("tfds:cifar10")


def test_shuffled_batches_cover_each_image_once_per_epoch():
    dataset = data.ImageArrayDataset(np.arange(10 * 4, dtype=np.uint8).reshape(10, 2, 2),
                                     np.arange(10))
    batches = dataset.batches(batch_size=3, with_labels=True)
    seen = np.concatenate([batches[i][1] for i in range(len(batches))])
    assert len(batches) == 3 and len(np.unique(seen)) == 9
    first = batches[0][1]
    batches.on_epoch_end()
    assert not np.array_equal(first, batches[0][1])
    with pytest.raises(ValueError, match="batch_size must be in 1..10"):
        dataset.batches(batch_size=11)
