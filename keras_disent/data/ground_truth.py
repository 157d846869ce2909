"""The ground-truth dataset interface that metrics, samplers and training share.

A ground-truth dataset is a grid of discrete factors of variation (shape, scale, ...) and one
image per grid point. Index <-> factors is mixed radix with the last factor varying fastest,
the layout of the original dSprites `latents_bases`.
"""

import numpy as np


class GroundTruthDataset:
    """Base class: subclasses set `factor_names`, `factor_sizes`, `image_shape` and implement
    `images_from_factors(factors) -> float32 (n, H, W, C) in [0, 1]`."""

    factor_names: tuple = ()
    factor_sizes: tuple = ()
    image_shape: tuple = ()

    @property
    def num_factors(self):
        return len(self.factor_sizes)

    def __len__(self):
        return int(np.prod(self.factor_sizes, dtype=np.int64))

    @property
    def _bases(self):
        sizes = np.asarray(self.factor_sizes, dtype=np.int64)
        return np.concatenate([np.cumprod(sizes[::-1])[::-1][1:], [1]]).astype(np.int64)

    def _check_indices(self, indices):
        indices = np.asarray(indices)
        if not np.issubdtype(indices.dtype, np.integer):
            raise TypeError(f"Dataset indices must be integers, got dtype {indices.dtype}.")
        indices = indices.astype(np.int64)
        if indices.size and (indices.min() < 0 or indices.max() >= len(self)):
            bad = indices[(indices < 0) | (indices >= len(self))].ravel()[0]
            raise IndexError(
                f"Index {bad} is out of range for {type(self).__name__} with {len(self)} images "
                f"(valid: 0..{len(self) - 1})."
            )
        return indices

    def _check_factors(self, factors):
        factors = np.asarray(factors)
        if factors.ndim != 2 or factors.shape[1] != self.num_factors:
            raise ValueError(
                f"Factors must have shape (n, {self.num_factors}) for factors "
                f"{list(self.factor_names)}, got shape {factors.shape}."
            )
        if not np.issubdtype(factors.dtype, np.integer):
            raise TypeError(f"Factors must be integer grid indices, got dtype {factors.dtype}.")
        sizes = np.asarray(self.factor_sizes)
        bad = (factors < 0) | (factors >= sizes)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise IndexError(
                f"Factor {self.factor_names[col]!r} value {factors[row, col]} is out of range "
                f"0..{sizes[col] - 1}."
            )
        return factors.astype(np.int64)

    def index_to_factors(self, indices):
        """Flat indices `(n,)` -> factor grid indices `(n, num_factors)` int64."""
        indices = self._check_indices(indices)
        return (indices[..., None] // self._bases) % np.asarray(self.factor_sizes)

    def factors_to_index(self, factors):
        """Factor grid indices `(n, num_factors)` -> flat indices `(n,)` int64."""
        return self._check_factors(factors) @ self._bases

    def sample_factors(self, num, seed=None):
        """`num` factor vectors drawn uniformly from the grid; `seed` is an int or a Generator."""
        rng = np.random.default_rng(seed)
        return np.stack([rng.integers(0, size, num) for size in self.factor_sizes], axis=1)

    def sample_factor_varying(self, factor, num, seed=None):
        """`num` factor vectors that share every factor but `factor`, which is drawn uniformly.

        The shared values are one uniform draw; `factor` is an index or a name. This is the
        batch of DC-IGN's clamped training ("only factor k varies").
        """
        if isinstance(factor, str):
            if factor not in self.factor_names:
                raise ValueError(f"Unknown factor {factor!r}; factors: {list(self.factor_names)}.")
            factor = self.factor_names.index(factor)
        if not 0 <= int(factor) < self.num_factors:
            raise ValueError(f"factor must be in 0..{self.num_factors - 1}, got {factor}.")
        rng = np.random.default_rng(seed)
        factors = np.repeat(self.sample_factors(1, rng), num, axis=0)
        factors[:, int(factor)] = rng.integers(0, self.factor_sizes[int(factor)], num)
        return factors

    def images(self, indices):
        """Images for flat indices: float32 `(n, *image_shape)` in [0, 1]."""
        return self.images_from_factors(self.index_to_factors(indices))

    def images_from_factors(self, factors):
        raise NotImplementedError

    def sample(self, num, seed=None):
        """`(factors, images)` for `num` uniformly drawn grid points."""
        factors = self.sample_factors(num, seed)
        return factors, self.images_from_factors(factors)

    def iter_images(self, batch_size=4096, start=0, stop=None):
        """Yields `(indices, images)` chunks over the whole grid in bounded memory."""
        stop = len(self) if stop is None else stop
        for begin in range(start, stop, batch_size):
            indices = np.arange(begin, min(begin + batch_size, stop), dtype=np.int64)
            yield indices, self.images(indices)

    def batches(self, batch_size=64, steps_per_epoch=1000, seed=0, with_factors=False):
        """An input pipeline for `model.fit` on every backend (a `keras.utils.PyDataset`)."""
        from keras_disent.data.pipeline import RandomBatches

        return RandomBatches(
            self, batch_size=batch_size, steps_per_epoch=steps_per_epoch, seed=seed,
            with_factors=with_factors,
        )
