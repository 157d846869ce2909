"""Input pipelines for `model.fit` that work under tensorflow, jax and torch."""

import keras
import numpy as np


class RandomBatches(keras.utils.PyDataset):
    """Batches of images rendered on demand from uniformly sampled grid points.

    Nothing is held in memory beyond one batch, so the full 737,280-image dSprites never
    materialises. Batch `i` of epoch `e` is a pure function of `(seed, e, i)`: runs repeat.

    Args:
        dataset: a `GroundTruthDataset`.
        batch_size: images per batch.
        steps_per_epoch: batches per epoch.
        seed: base seed.
        with_factors: yield `(images, factors)` instead of images alone.
    """

    def __init__(self, dataset, batch_size=64, steps_per_epoch=1000, seed=0,
                 with_factors=False, **kwargs):
        super().__init__(**kwargs)
        if batch_size <= 0 or steps_per_epoch <= 0:
            raise ValueError(
                f"batch_size and steps_per_epoch must be positive, got {batch_size} and "
                f"{steps_per_epoch}."
            )
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.steps_per_epoch = int(steps_per_epoch)
        self.seed = int(seed)
        self.with_factors = with_factors
        self.epoch = 0

    def __len__(self):
        return self.steps_per_epoch

    def __getitem__(self, index):
        rng = np.random.default_rng((self.seed, self.epoch, int(index)))
        factors = self.dataset.sample_factors(self.batch_size, rng)
        images = self.dataset.images_from_factors(factors)
        if self.with_factors:
            return images, factors
        return images

    def on_epoch_end(self):
        self.epoch += 1


class ShuffledBatches(keras.utils.PyDataset):
    """Shuffled epochs over an `ImageArrayDataset`; images become float32 one batch at a time.

    Args:
        dataset: an `ImageArrayDataset`.
        batch_size: images per batch (the last partial batch of an epoch is dropped).
        steps_per_epoch: batches per epoch; default one pass over the data.
        seed: shuffling seed; epoch e uses permutation (seed, e).
        with_labels: yield `(images, labels)`.
    """

    def __init__(self, dataset, batch_size=64, steps_per_epoch=None, seed=0, with_labels=False,
                 **kwargs):
        super().__init__(**kwargs)
        if batch_size <= 0 or batch_size > len(dataset):
            raise ValueError(f"batch_size must be in 1..{len(dataset)}, got {batch_size}.")
        self.dataset, self.batch_size, self.seed = dataset, int(batch_size), int(seed)
        self.steps_per_epoch = steps_per_epoch or len(dataset) // self.batch_size
        self.with_labels = with_labels
        self.epoch = 0
        self._order = None

    def __len__(self):
        return self.steps_per_epoch

    def _indices(self, index):
        per_pass = len(self.dataset) // self.batch_size
        key = (self.epoch, index // per_pass)
        if self._order is None or self._order[0] != key:
            permutation = np.random.default_rng((self.seed,) + key).permutation(len(self.dataset))
            self._order = (key, permutation)
        order = self._order[1]
        start = (index % per_pass) * self.batch_size
        return order[start:start + self.batch_size]

    def __getitem__(self, index):
        indices = self._indices(int(index))
        images = self.dataset.images(indices)
        if self.with_labels:
            return images, self.dataset.labels[indices]
        return images

    def on_epoch_end(self):
        self.epoch += 1
