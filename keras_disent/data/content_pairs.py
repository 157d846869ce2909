"""Unpaired two-domain data for content transfer (Press et al. 2019), with a procedural
benchmark whose transfer results have a ground truth.

Domain A: a gray dSprites-style sprite (shape, scale, position) on black. Domain B: the same
kind of scene plus "glasses": a white pair of lenses (two squares, optionally joined by a
bridge) placed on the sprite, with their own factors (width, vertical offset, lens size,
bridge). Because both domains are rendered from factors, the true result of adding B's
glasses to an A scene, or removing them from a B scene, is known, so transfer is measurable.
"""

import numpy as np

from keras_disent.data.dsprites import DSprites

IMAGE_SIZE = 64
SPRITE_INTENSITY = 0.5


class GlassesBenchmark:
    """Procedural content-transfer benchmark (64x64x1 in [0, 1]).

    Scene factors (both domains): shape 3, scale 4 (dSprites scales 0.7..1), orientation 8
    (dSprites orientations 0, 5, .., 35 of 40: steps of about 46 degrees), x and y. Glasses
    factors (domain B): half width 3 (5, 7, 9 px), vertical offset 3 (-4, -2, 0 px from the
    sprite centre), lens 2 (squares of side 3 or 5 px), bridge 2 (absent / present).

    Args:
        aligned: True (default): every sprite is centred, as the paper's faces are aligned
            and cropped, so the glasses of every B image sit at the same place. False: x and
            y take 8 values each (centres 18..46 px) and the glasses move with the sprite.
            The paper's spatial E2 code then carries B's glasses *position*, and
            `add_content` draws them where B's sprite was, not on A's (measured:
            `bench/content_transfer_steps.py`); a harder setting than the paper's.

    Example:
        >>> bench = GlassesBenchmark()
        >>> scene, glasses = bench.sample_scenes(4, 0), bench.sample_glasses(4, 1)
        >>> a = bench.render(scene)                 # domain A
        >>> b = bench.render(scene, glasses)        # domain B, same scenes with glasses
    """

    scene_names = ("shape", "scale", "orientation", "x", "y")
    glasses_names = ("half_width", "offset", "lens", "bridge")
    glasses_sizes = (3, 3, 2, 2)
    image_shape = (IMAGE_SIZE, IMAGE_SIZE, 1)

    def __init__(self, aligned=True):
        self.aligned = bool(aligned)
        # dSprites position index p puts the sprite centre at pixel 16 + p.
        self._positions = np.array([16]) if self.aligned else 4 * np.arange(8) + 2
        self.scene_sizes = (3, 4, 8, len(self._positions), len(self._positions))
        self.name = "glasses_benchmark" if self.aligned else "glasses_benchmark_unaligned"
        self._sprites = DSprites()

    def sample_scenes(self, num, seed=None):
        rng = np.random.default_rng(seed)
        return np.stack([rng.integers(0, s, num) for s in self.scene_sizes], axis=1)

    def sample_glasses(self, num, seed=None):
        rng = np.random.default_rng(seed)
        return np.stack([rng.integers(0, s, num) for s in self.glasses_sizes], axis=1)

    def _centres(self, scene):
        return 16 + self._positions[scene[:, 3]], 16 + self._positions[scene[:, 4]]

    def render(self, scene, glasses=None):
        """Images `(n, 64, 64, 1)`: the scenes, with `glasses` drawn on them when given."""
        scene = np.asarray(scene, np.int64)
        if scene.ndim != 2 or scene.shape[1] != len(self.scene_sizes) or (scene < 0).any() or \
                (scene >= np.asarray(self.scene_sizes)).any():
            raise ValueError(f"scene factors must be (n, {len(self.scene_sizes)}) within "
                             f"{self.scene_sizes} {self.scene_names}, got shape {scene.shape}.")
        sprite_factors = np.stack([scene[:, 0], scene[:, 1] + 2, 5 * scene[:, 2],
                                   self._positions[scene[:, 3]], self._positions[scene[:, 4]]],
                                  axis=1)
        images = SPRITE_INTENSITY * self._sprites.images_from_factors(sprite_factors)
        if glasses is not None:
            glasses = np.asarray(glasses, np.int64)
            if glasses.shape != (len(scene), 4) or (glasses < 0).any() or \
                    (glasses >= np.asarray(self.glasses_sizes)).any():
                raise ValueError(f"glasses factors must be ({len(scene)}, 4) within "
                                 f"{self.glasses_sizes}, got shape {glasses.shape}.")
            images[..., 0] = np.maximum(images[..., 0], self.glasses_masks(scene, glasses))
        return images

    def glasses_masks(self, scene, glasses):
        """`(n, 64, 64)` {0, 1} masks of the glasses drawn on `scene`."""
        cx, cy = self._centres(np.asarray(scene))
        half_width = np.array([5, 7, 9])[glasses[:, 0]]
        row = cy + np.array([-4, -2, 0])[glasses[:, 1]]
        lens = np.array([1, 2])[glasses[:, 2]]
        rows = np.arange(IMAGE_SIZE)[None, :, None]
        cols = np.arange(IMAGE_SIZE)[None, None, :]
        near_row = np.abs(rows - row[:, None, None]) <= lens[:, None, None]
        mask = np.zeros((len(scene), IMAGE_SIZE, IMAGE_SIZE), bool)
        for side in (-1, 1):
            centre = (cx + side * half_width)[:, None, None]
            mask |= near_row & (np.abs(cols - centre) <= lens[:, None, None])
        bridge = (glasses[:, 3] == 1)[:, None, None] & (rows == row[:, None, None]) & \
            (np.abs(cols - cx[:, None, None]) < half_width[:, None, None])
        return (mask | bridge).astype(np.float32)

    def domain_a(self, num, seed=None):
        """`(scene factors, images)` of domain A."""
        scene = self.sample_scenes(num, seed)
        return scene, self.render(scene)

    def domain_b(self, num, seed=None):
        """`(scene factors, glasses factors, images)` of domain B."""
        rng = np.random.default_rng(seed)
        scene, glasses = self.sample_scenes(num, rng), self.sample_glasses(num, rng)
        return scene, glasses, self.render(scene, glasses)

    def batches(self, batch_size=64, steps_per_epoch=1000, seed=0):
        """Unpaired `(a, b)` batches for `model.fit` (independent scenes in A and B)."""
        from keras_disent.data.pipeline import DomainPairs

        return DomainPairs(lambda n, rng: self.domain_a(n, rng)[1],
                           lambda n, rng: self.domain_b(n, rng)[2],
                           batch_size, steps_per_epoch, seed)


def domain_pairs(domain_a, domain_b, batch_size=64, steps_per_epoch=1000, seed=0):
    """Unpaired `(a, b)` batches from two image datasets (e.g. CelebA without / with glasses).

    Args:
        domain_a, domain_b: datasets with `sample(num, seed) -> (labels, images)`
            (`ImageArrayDataset`).
    """
    from keras_disent.data.pipeline import DomainPairs

    return DomainPairs(lambda n, rng: domain_a.sample(n, rng)[1],
                       lambda n, rng: domain_b.sample(n, rng)[1],
                       batch_size, steps_per_epoch, seed)
