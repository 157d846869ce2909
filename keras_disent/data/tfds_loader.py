"""TensorFlow Datasets loaders that fail at once, with instructions, when data is absent.

Offline, `tfds.load` of an unprepared dataset retries its download for minutes. `load` checks
`builder.is_prepared()` first and raises `DatasetNotPreparedError` naming the dataset, the
directories looked in, and the ways to prepare it.
"""

import os

import numpy as np

from keras_disent.data.arrays import ArrayGroundTruth, ImageArrayDataset
from keras_disent.data.dsprites import DSprites
from keras_disent.data.files import SHAPES3D_FACTORS

SUPPORTED = ("dsprites", "shapes3d", "celeb_a", "mnist", "fashion_mnist")
# One set of factor names per dataset, shared by every source of it (procedural, local file,
# TFDS): the TFDS feature is `label_<name>`.
_GROUND_TRUTH = {"dsprites": DSprites.factor_names,
                 "shapes3d": tuple(name for name, _ in SHAPES3D_FACTORS)}
_FACTOR_SIZES = {"dsprites": DSprites.factor_sizes,
                 "shapes3d": tuple(size for _, size in SHAPES3D_FACTORS)}
_LOCAL_ALTERNATIVE = {
    "dsprites": "keras_disent.data.dsprites() (procedural, built in) or "
                "keras_disent.data.dsprites_file(path_to_npz)",
    "shapes3d": "keras_disent.data.shapes3d_h5('3dshapes.h5')",
    "celeb_a": "keras_disent.data.celeba_folder(root) with img_align_celeba/ and "
               "list_attr_celeba.txt",
    "mnist": "keras_disent.data.idx(dir) or keras_disent.data.mnist_csv(path)",
    "fashion_mnist": "keras_disent.data.idx('/usr/share/datasets/fashion-mnist') (Debian "
                     "package dataset-fashion-mnist)",
}


class DatasetNotPreparedError(FileNotFoundError):
    """A TFDS dataset is not prepared locally and cannot be downloaded here."""


def _import_tfds():
    try:
        import tensorflow_datasets
    except ImportError as error:
        raise ImportError("TFDS loaders need tensorflow-datasets: pip install "
                          "'keras-disent[datasets]' (or use the local-file loaders).") from error
    return tensorflow_datasets


def _mocked(tfds_module):
    """True inside `tfds.testing.mock_data`, which serves data without any preparation."""
    from tensorflow_datasets.core import dataset_builder

    return "mock_data" in getattr(dataset_builder.DatasetBuilder.as_dataset, "__qualname__", "")


def builder(name, data_dir=None):
    """The TFDS builder of `name`, checked to be prepared (fails fast, never downloads)."""
    if name not in SUPPORTED:
        raise ValueError(f"Unsupported TFDS dataset {name!r}; supported: {SUPPORTED}.")
    tfds = _import_tfds()
    result = tfds.builder(name, data_dir=data_dir)
    if not _mocked(tfds) and not result.is_prepared():
        looked = [result.data_dir]
        default = os.environ.get("TFDS_DATA_DIR", os.path.expanduser("~/tensorflow_datasets"))
        if data_dir is None:
            looked.append(default)
        raise DatasetNotPreparedError(
            f"TFDS dataset {name!r} is not prepared. Looked in: {', '.join(looked)}. "
            f"This machine cannot download it; prepare it where you can and copy it here:\n"
            f"  - `tfds build {name} --data_dir DIR` elsewhere, copy DIR, pass data_dir=DIR;\n"
            f"  - or put the manually downloaded archives in a manual_dir and run "
            f"`tfds.builder({name!r}, data_dir=DIR).download_and_prepare("
            f"download_config=tfds.download.DownloadConfig(manual_dir=MANUAL))`;\n"
            f"  - or use the local-file loader: {_LOCAL_ALTERNATIVE[name]}.")
    return result


def load(name, split="train", data_dir=None, image_size=64, max_examples=None):
    """A TFDS dataset mapped to the project's interfaces.

    dsprites / shapes3d become ground-truth datasets (factors from the TFDS `label_*`
    features); mnist / fashion_mnist become labelled image sets; celeb_a is centre-cropped to
    178 and resized to `image_size`, with `attributes` (bool, TFDS attribute order).
    """
    tfds = _import_tfds()
    data = builder(name, data_dir).as_dataset(split=split)
    if max_examples:
        data = data.take(max_examples)
    examples = list(tfds.as_numpy(data))
    if not examples:
        raise ValueError(f"TFDS {name!r} split {split!r} is empty.")
    images = np.stack([e["image"] for e in examples])
    if name in _GROUND_TRUTH:
        factor_names = _GROUND_TRUTH[name]
        factors = np.stack([[e[f"label_{f}"] for f in factor_names] for e in examples])
        if name == "dsprites":
            binary = (images.reshape(len(images), -1) > 0)
            return ArrayGroundTruth(np.packbits(binary, axis=1), factors,
                                    _FACTOR_SIZES[name], factor_names, packed_shape=(64, 64, 1),
                                    name="tfds_dsprites")
        return ArrayGroundTruth(images, factors, _FACTOR_SIZES[name], factor_names,
                                name=f"tfds_{name}")
    if name == "celeb_a":
        return _celeba(images, examples, image_size)
    return ImageArrayDataset(images, np.array([e["label"] for e in examples]), name=f"tfds_{name}")


def _celeba(images, examples, image_size, crop=178):
    from PIL import Image

    height, width = images.shape[1:3]
    top, left = (height - crop) // 2, (width - crop) // 2
    faces = np.stack([np.asarray(Image.fromarray(im[top:top + crop, left:left + crop]).resize(
        (image_size, image_size), Image.BILINEAR)) for im in images])
    names = sorted(examples[0]["attributes"])
    dataset = ImageArrayDataset(faces, None, name="tfds_celeb_a")
    dataset.attribute_names = names
    dataset.attributes = np.array([[bool(e["attributes"][n]) for n in names] for e in examples])
    return dataset
