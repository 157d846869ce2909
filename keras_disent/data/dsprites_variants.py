"""Color-dSprites and noisy-dSprites: the dSprites variants of Locatello et al. (ICML 2019),
rendered as disentanglement_lib defines them (its `data/ground_truth/dsprites.py`).

Both keep dSprites' five factors and grid; what changes is the observation, three channels
with a random nuisance drawn afresh for every image (not a factor, so a metric's "fix factor
k" batches still vary it):
  - color-dSprites: the white sprite multiplied by a colour, each channel uniform in [0.5, 1];
  - noisy-dSprites: the background replaced by uniform noise in [0, 1] per pixel and channel
    (the sprite stays white: min(sprite + noise, 1)).
The draws come from the dataset's own generator (seeded by `seed` at construction: the same
sequence of calls gives the same images), or from `random_state` when a caller passes one
(`data.RandomBatches` does, so its batch `i` of epoch `e` stays a pure function of
`(seed, e, i)`).

Reference:
    Locatello et al. 2019, Challenging Common Assumptions in the Unsupervised Learning of
    Disentangled Representations, ICML (the study's dSprites variants).
"""

import numpy as np

from keras_disent.data.dsprites import IMAGE_SIZE, DSprites


class _NoisyObservations(DSprites):
    """dSprites with a random per-image nuisance; subclasses implement `_apply`."""

    image_shape = (IMAGE_SIZE, IMAGE_SIZE, 3)
    random_observations = True  # pipelines pass their own generator

    def __init__(self, seed=0):
        self.seed = seed
        self._rng = np.random.default_rng(seed)

    def images_from_factors(self, factors, random_state=None):
        """Float32 images `(n, 64, 64, 3)` in [0, 1]; the nuisance is drawn from
        `random_state` (an int or a Generator) or, when None, the dataset's generator."""
        sprites = np.repeat(super().images_from_factors(factors), 3, axis=-1)
        rng = self._rng if random_state is None else np.random.default_rng(random_state)
        return self._apply(sprites, rng).astype(np.float32)


class ColorDSprites(_NoisyObservations):
    """dSprites with the sprite in a random colour: `sprite * c`, c ~ U[0.5, 1]^3 per image."""

    def _apply(self, sprites, rng):
        return sprites * rng.uniform(0.5, 1.0, (len(sprites), 1, 1, 3))


class NoisyDSprites(_NoisyObservations):
    """dSprites on a noise background: `min(sprite + u, 1)`, u ~ U[0, 1] per pixel and
    channel."""

    def _apply(self, sprites, rng):
        return np.minimum(sprites + rng.uniform(0.0, 1.0, sprites.shape), 1.0)


def color_dsprites(seed=0):
    """The built-in color-dSprites (see `ColorDSprites`)."""
    return ColorDSprites(seed)


def noisy_dsprites(seed=0):
    """The built-in noisy-dSprites (see `NoisyDSprites`)."""
    return NoisyDSprites(seed)
