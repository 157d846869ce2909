"""Datasets held as uint8 arrays: labelled image sets (MNIST family) and ground truth from files.

Images stay uint8 (or bit-packed for binary images) and become float32 in [0, 1] one batch at
a time, so no dataset is ever held in memory as float32.
"""

import numpy as np

from keras_disent.data.ground_truth import GroundTruthDataset


def to_float(images):
    """uint8 `(n, H, W[, C])` -> float32 `(n, H, W, C)` in [0, 1]."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    return images.astype(np.float32)


class ImageArrayDataset:
    """Labelled images in memory as uint8 (e.g. MNIST, Fashion-MNIST).

    Args:
        images: uint8 `(n, H, W)` or `(n, H, W, C)`.
        labels: optional int `(n,)`.
        name: dataset name recorded in run configs.
    """

    def __init__(self, images, labels=None, name="images"):
        images = np.asarray(images)
        if images.ndim == 3:
            images = images[..., None]
        if images.ndim != 4 or len(images) == 0:
            raise ValueError(f"{name}: expected images (n, H, W[, C]) with n > 0, got shape "
                             f"{images.shape}.")
        if labels is not None and len(labels) != len(images):
            raise ValueError(f"{name}: {len(images)} images but {len(labels)} labels.")
        self.raw = images
        self.labels = None if labels is None else np.asarray(labels, np.int64)
        self.name = name
        self.image_shape = tuple(images.shape[1:])

    def __len__(self):
        return len(self.raw)

    def images(self, indices):
        indices = np.asarray(indices)
        if indices.size and (indices.min() < 0 or indices.max() >= len(self)):
            raise IndexError(f"{self.name}: index out of range 0..{len(self) - 1}.")
        return to_float(self.raw[indices])

    def sample(self, num, seed=None):
        """`(labels or None, images)` for `num` random examples."""
        indices = np.random.default_rng(seed).choice(len(self), num, replace=num > len(self))
        labels = None if self.labels is None else self.labels[indices]
        return labels, self.images(indices)

    def batches(self, batch_size=64, steps_per_epoch=None, seed=0, with_labels=False):
        """A shuffled `keras.utils.PyDataset` over the images for `model.fit`."""
        from keras_disent.data.pipeline import ShuffledBatches

        return ShuffledBatches(self, batch_size, steps_per_epoch, seed, with_labels)


class ArrayGroundTruth(GroundTruthDataset):
    """A ground-truth dataset read from files: images stored per grid point.

    Args:
        images: uint8 `(n, H, W[, C])`, or bit-packed binary images when `packed_shape` is set.
        factors: int `(n, K)` grid indices of each image.
        factor_sizes, factor_names: the grid.
        packed_shape: image shape when `images` holds `np.packbits(..., axis=1)` rows.
    """

    def __init__(self, images, factors, factor_sizes, factor_names, packed_shape=None,
                 name="ground_truth"):
        self.factor_sizes = tuple(int(s) for s in factor_sizes)
        self.factor_names = tuple(factor_names)
        self.name = name
        self._images = images
        self._packed_shape = packed_shape
        self.image_shape = tuple(packed_shape) if packed_shape else tuple(
            images.shape[1:] if np.ndim(images) == 4 else tuple(images.shape[1:]) + (1,))
        factors = self._check_factors(np.asarray(factors))
        self._position = np.full(len(self), -1, np.int64)
        self._position[self.factors_to_index(factors)] = np.arange(len(factors))
        self.complete = bool((self._position >= 0).all())

    def sample_factors(self, num, seed=None):
        if self.complete:
            return super().sample_factors(num, seed)
        # A partial grid (e.g. a subset): sample among the grid points that are present.
        present = np.flatnonzero(self._position >= 0)
        rng = np.random.default_rng(seed)
        return self.index_to_factors(rng.choice(present, num))

    def images_from_factors(self, factors):
        rows = self._position[self.factors_to_index(factors)]
        if (rows < 0).any():
            raise IndexError(f"{self.name}: some requested grid points are not in the loaded "
                             "data (a partial dataset).")
        if self._packed_shape:
            bits = np.unpackbits(self._images[rows], axis=1)[:, :int(np.prod(self._packed_shape))]
            return bits.reshape((len(rows),) + tuple(self._packed_shape)).astype(np.float32)
        order = np.argsort(rows)
        batch = np.empty((len(rows),) + tuple(self._images.shape[1:]), np.uint8)
        batch[order] = self._images[np.sort(rows)]  # sorted reads: h5py needs them
        return to_float(batch)
