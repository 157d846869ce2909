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
