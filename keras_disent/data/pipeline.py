"""Input pipelines for `model.fit` that work under tensorflow, jax and torch."""

import keras
import numpy as np


class SeededEpochs(keras.utils.PyDataset):
    """Base of the pipelines whose batch `i` of epoch `e` is a pure function of
    `(seed, e, i)`: runs repeat, and resuming mid-run draws the same batches.

    Subclasses implement `__getitem__` with `self.rng(index)`.
    """

    def __init__(self, batch_size=64, steps_per_epoch=1000, seed=0, **kwargs):
        super().__init__(**kwargs)
        if batch_size <= 0 or steps_per_epoch <= 0:
            raise ValueError(
                f"batch_size and steps_per_epoch must be positive, got {batch_size} and "
                f"{steps_per_epoch}."
            )
        self.batch_size = int(batch_size)
        self.steps_per_epoch = int(steps_per_epoch)
        self.seed = int(seed)
        self.epoch = 0

    def __len__(self):
        return self.steps_per_epoch

    def rng(self, index):
        """The generator of batch `index` of the current epoch."""
        return np.random.default_rng((self.seed, self.epoch, int(index)))

    def on_epoch_end(self):
        self.epoch += 1


class RandomBatches(SeededEpochs):
    """Batches of images rendered on demand from uniformly sampled grid points.

    Nothing is held in memory beyond one batch, so the full 737,280-image dSprites never
    materialises. Batch `i` of epoch `e` is a pure function of `(seed, e, i)`: runs repeat.

    Args:
        dataset: a `GroundTruthDataset`.
        batch_size: images per batch.
        steps_per_epoch: batches per epoch.
        seed: base seed.
        with_factors: yield `(images, factors)` instead of images alone.
        label_factor: with `with_factors`, yield only this factor's column, as int32 class
            labels `(batch,)` (see `data.labelled_batches`).
    """

    def __init__(self, dataset, batch_size=64, steps_per_epoch=1000, seed=0,
                 with_factors=False, label_factor=None, **kwargs):
        super().__init__(batch_size, steps_per_epoch, seed, **kwargs)
        self.dataset = dataset
        self.with_factors = with_factors
        self.label_factor = label_factor

    def __getitem__(self, index):
        rng = self.rng(index)
        factors = self.dataset.sample_factors(self.batch_size, rng)
        if getattr(self.dataset, "random_observations", False):  # color/noisy dSprites
            images = self.dataset.images_from_factors(factors, random_state=rng)
        else:
            images = self.dataset.images_from_factors(factors)
        if self.with_factors and self.label_factor is not None:
            return images, factors[:, self.label_factor].astype(np.int32)
        if self.with_factors:
            return images, factors
        return images


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


class FactorBatches(SeededEpochs):
    """DC-IGN's training batches: in each batch only one factor varies (Kulkarni et al. 2015).

    Batch `i` picks a group with probability proportional to `ratios`, then samples images
    that share every factor except that group's factor. Yields `(images, group)` where `group`
    is an int32 `(batch,)` vector repeating the group index; the index `len(groups)` marks a
    batch with every factor free (drawn with weight `free_ratio`).

    Args:
        dataset: a `GroundTruthDataset`.
        groups: factor names (or indices), one per clamped latent group, in the model's order.
        ratios: relative frequency of each group's batches (paper: 1:1:1:10 with the intrinsic
            group last).
        free_ratio: relative frequency of batches where every factor varies (0: none).
        batch_size, steps_per_epoch, seed: as `RandomBatches`; batch i of epoch e depends only
            on (seed, e, i).
    """

    def __init__(self, dataset, groups, ratios=None, free_ratio=0.0, batch_size=64,
                 steps_per_epoch=1000, seed=0, **kwargs):
        super().__init__(batch_size, steps_per_epoch, seed, **kwargs)
        self.dataset = dataset
        self.groups = [dataset.factor_names.index(g) if isinstance(g, str) else int(g)
                       for g in groups]
        ratios = [1.0] * len(self.groups) if ratios is None else list(ratios)
        if len(ratios) != len(self.groups):
            raise ValueError(f"{len(self.groups)} groups but {len(ratios)} ratios.")
        weights = np.asarray(ratios + [free_ratio], np.float64)
        if (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(f"ratios must be >= 0 with a positive sum, got {ratios}, "
                             f"free_ratio {free_ratio}.")
        self.probabilities = weights / weights.sum()

    def batch(self, index):
        """`(factors, images, group)` of batch `index` of the current epoch."""
        rng = self.rng(index)
        group = int(rng.choice(len(self.probabilities), p=self.probabilities))
        if group == len(self.groups):
            factors = self.dataset.sample_factors(self.batch_size, rng)
        else:
            factors = self.dataset.sample_factor_varying(self.groups[group], self.batch_size,
                                                         rng)
        return factors, self.dataset.images_from_factors(factors), group

    def __getitem__(self, index):
        _, images, group = self.batch(index)
        return images, np.full((self.batch_size,), group, np.int32)


class DomainPairs(SeededEpochs):
    """Unpaired two-domain batches `(a, b)` for content transfer: `a` from domain A, `b` from
    domain B, drawn independently. Batch `i` of epoch `e` depends only on `(seed, e, i)`.

    Args:
        sample_a, sample_b: `fn(num, rng) -> float32 images (num, H, W, C)`.
        batch_size, steps_per_epoch, seed: as `RandomBatches`.
    """

    def __init__(self, sample_a, sample_b, batch_size=64, steps_per_epoch=1000, seed=0,
                 **kwargs):
        super().__init__(batch_size, steps_per_epoch, seed, **kwargs)
        self.sample_a, self.sample_b = sample_a, sample_b

    def __getitem__(self, index):
        rng = self.rng(index)
        return self.sample_a(self.batch_size, rng), self.sample_b(self.batch_size, rng)


class MultiDomainBatches(SeededEpochs):
    """Batches of a `DigitDomains` benchmark mixing its domains: `(images, domain ids)`, each
    example's domain drawn uniformly (UFDN / DRIT training: no class labels). With
    `with_labels`, `(images, (domain ids, labels))`. With `cross_pairs`, example
    `n - 1 - i` is of another domain than example `i` (DRIT pairs them; with an odd batch the
    middle example is its own partner). With `invert_gray`, each image of the gray "mnist"
    domain is inverted (1 - x) with probability 1/2: the polarity augmentation UFDN's authors
    use for digit adaptation (their public training script inverts gray batches every other
    step), since an MNIST-M digit is dark or light depending on its texture. Batch `i` of
    epoch `e` depends only on `(seed, e, i)`.
    """

    def __init__(self, bench, batch_size=64, steps_per_epoch=1000, seed=0, with_labels=False,
                 cross_pairs=False, invert_gray=False, **kwargs):
        super().__init__(batch_size, steps_per_epoch, seed, **kwargs)
        self.bench = bench
        self.with_labels = with_labels
        self.cross_pairs = cross_pairs
        self.invert_gray = invert_gray
        if cross_pairs and bench.num_domains < 2:
            raise ValueError("cross_pairs needs at least two domains.")

    def __getitem__(self, index):
        rng = self.rng(index)
        domains = rng.integers(0, self.bench.num_domains, self.batch_size)
        if self.cross_pairs:
            half = self.batch_size // 2
            shift = rng.integers(1, self.bench.num_domains, half)
            domains[self.batch_size - half:] = ((domains[:half] + shift)
                                                % self.bench.num_domains)[::-1]
        digits = rng.integers(0, len(self.bench), self.batch_size)
        seeds = rng.integers(0, 2 ** 31 - 1, self.batch_size)
        images = np.empty((self.batch_size,) + self.bench.image_shape, np.float32)
        for domain in np.unique(domains):
            chosen = domains == domain
            images[chosen] = self.bench.render(digits[chosen], int(domain), seeds[chosen])
        if self.invert_gray and "mnist" in self.bench.domains:
            flip = (domains == self.bench.domain_index("mnist")) & (
                rng.random(self.batch_size) < 0.5)
            images[flip] = 1.0 - images[flip]
        domains = domains.astype(np.int32)
        if self.with_labels:
            return images, (domains, self.bench.digits.labels[digits].astype(np.int32))
        return images, domains
