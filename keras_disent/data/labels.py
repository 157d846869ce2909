"""Class labels for the supervised methods (Deep VIB, D2AE): from a labelled image set, or
from one factor of a ground-truth dataset (e.g. the object identity of `objects3d`)."""

import numpy as np


def _dataset_name(dataset):
    return getattr(dataset, "name", type(dataset).__name__)


def label_factor(dataset, label=None):
    """The factor index that labels a ground-truth dataset, or None for a labelled image set.

    Args:
        dataset: a `GroundTruthDataset` (then `label` names one of its factors) or an
            `ImageArrayDataset` with labels (then `label` is None or "label").
        label: the factor name (e.g. "shape" for the object identity of objects3d/dSprites).

    Raises:
        ValueError: the dataset has no such factor (the message lists its factors), or no
            labels at all.
    """
    factor_names = tuple(getattr(dataset, "factor_names", ()) or ())
    if factor_names:
        if label is None:
            raise ValueError(f"{_dataset_name(dataset)} has factors {list(factor_names)}: name "
                             "the one that labels the images, e.g. label='shape'.")
        if label not in factor_names:
            raise ValueError(f"{_dataset_name(dataset)} has no factor {label!r}; its factors: "
                             f"{', '.join(factor_names)}.")
        return factor_names.index(label)
    if getattr(dataset, "labels", None) is None:
        raise ValueError(f"{_dataset_name(dataset)} has no labels: load it with its label file "
                         "(e.g. data.idx(images_path, labels_path)) or use a ground-truth "
                         "dataset and name a factor.")
    if label not in (None, "label"):
        raise ValueError(f"{_dataset_name(dataset)} is a labelled image set without named "
                         f"factors; its labels are 'label', not {label!r}.")
    return None


def num_classes(dataset, label=None):
    """How many classes the labels take (the factor's size, or max label + 1)."""
    factor = label_factor(dataset, label)
    if factor is not None:
        return int(dataset.factor_sizes[factor])
    return int(np.max(dataset.labels)) + 1


def labelled_sample(dataset, num, label=None, seed=None):
    """`(labels int32 (num,), images (num, H, W, C))` drawn at random from `dataset`."""
    factor = label_factor(dataset, label)
    labels, images = dataset.sample(num, seed=seed)
    if factor is not None:
        labels = labels[:, factor]
    return np.asarray(labels, np.int32), images


def labelled_batches(dataset, label=None, batch_size=64, steps_per_epoch=None, seed=0):
    """A `keras.utils.PyDataset` of `(images, labels)` batches for `model.fit`.

    A ground-truth dataset gives batches of uniformly drawn grid points labelled by the factor
    `label`; a labelled image set gives shuffled epochs over its images.
    """
    from keras_disent.data.pipeline import RandomBatches

    factor = label_factor(dataset, label)
    if factor is None:
        return dataset.batches(batch_size, steps_per_epoch, seed=seed, with_labels=True)
    return RandomBatches(dataset, batch_size, steps_per_epoch or 1000, seed, with_factors=True,
                         label_factor=factor)
