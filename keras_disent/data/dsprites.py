"""Procedural dSprites: the exact factor grid of Matthey et al. 2017, rendered from factors.

The original dSprites (https://github.com/deepmind/dsprites-dataset) is 737,280 binary 64x64
images of a white sprite on black: shape {square, ellipse, heart} x scale 6 values in
[0.5, 1] x orientation 40 values linspace(0, 2pi) x posX 32 x posY 32 values linspace(0, 1).
This module renders the same grid from the factors with vectorised numpy, so there is no
download and any "fix factor k, vary the rest" batch the metrics need is exact. Pixel-level
sprite outlines differ from the original files; `keras_disent.data.dsprites_file` reads those.
"""

import numpy as np

from keras_disent.data.ground_truth import GroundTruthDataset

IMAGE_SIZE = 64
_HALF_SIZE = 10.0  # half side of the square at scale 1, in pixels
_MARGIN = 11.0  # sprite centres span [_MARGIN, IMAGE_SIZE - _MARGIN]
_RENDER_CHUNK = 2048


class DSprites(GroundTruthDataset):
    """Procedural dSprites with the original factor grid (737,280 images, 64x64x1, {0, 1}).

    Example:
        >>> ds = DSprites()
        >>> ds.images([0, 737279]).shape
        (2, 64, 64, 1)
        >>> ds.index_to_factors([737279])
        array([[ 2,  5, 39, 31, 31]])

    Reference:
        Matthey, Higgins, Hassabis, Lerchner. dSprites: Disentanglement testing Sprites
        dataset, 2017.
    """

    factor_names = ("shape", "scale", "orientation", "position_x", "position_y")
    factor_sizes = (3, 6, 40, 32, 32)
    image_shape = (IMAGE_SIZE, IMAGE_SIZE, 1)
    shape_names = ("square", "ellipse", "heart")
    scale_values = np.linspace(0.5, 1.0, 6)
    orientation_values = np.linspace(0.0, 2.0 * np.pi, 40)
    position_values = np.linspace(0.0, 1.0, 32)

    def images_from_factors(self, factors):
        """Renders float32 images `(n, 64, 64, 1)` with values in {0, 1}."""
        factors = self._check_factors(factors)
        out = np.empty((len(factors), IMAGE_SIZE, IMAGE_SIZE, 1), np.float32)
        for begin in range(0, len(factors), _RENDER_CHUNK):
            chunk = factors[begin:begin + _RENDER_CHUNK]
            out[begin:begin + len(chunk), ..., 0] = _render(chunk)
        return out


def _render(factors):
    """Binary masks `(n, 64, 64)` for factor rows (shape, scale, orientation, x, y)."""
    n = len(factors)
    shape = factors[:, 0]
    scale = DSprites.scale_values[factors[:, 1]].astype(np.float32)
    angle = DSprites.orientation_values[factors[:, 2]].astype(np.float32)
    span = IMAGE_SIZE - 2.0 * _MARGIN
    cx = (_MARGIN + span * DSprites.position_values[factors[:, 3]]).astype(np.float32)
    cy = (_MARGIN + span * DSprites.position_values[factors[:, 4]]).astype(np.float32)

    pixel = np.arange(IMAGE_SIZE, dtype=np.float32) + 0.5
    dx = pixel[None, None, :] - cx[:, None, None]
    dy = pixel[None, :, None] - cy[:, None, None]
    cos, sin = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    radius = (_HALF_SIZE * scale)[:, None, None]
    # Sprite frame: rotate the pixel offsets by -angle, normalise by the sprite's size.
    u = (cos * dx + sin * dy) / radius
    v = (-sin * dx + cos * dy) / radius

    mask = np.zeros((n, IMAGE_SIZE, IMAGE_SIZE), bool)
    square, ellipse, heart = (shape == 0), (shape == 1), (shape == 2)
    if square.any():
        mask[square] = (np.abs(u[square]) <= 1.0) & (np.abs(v[square]) <= 1.0)
    if ellipse.any():
        mask[ellipse] = (u[ellipse] / 1.3) ** 2 + (v[ellipse] / 0.65) ** 2 <= 1.0
    if heart.any():
        # Implicit heart (x^2 + y^2 - 1)^3 - x^2 y^3 <= 0, y pointing up, scaled to the square.
        x, y = u[heart] * 1.15, -v[heart] * 1.15 + 0.1
        mask[heart] = (x * x + y * y - 1.0) ** 3 - x * x * y ** 3 <= 0.0
    return mask


def dsprites():
    """The built-in procedural dSprites dataset (no download). See `DSprites`."""
    return DSprites()
