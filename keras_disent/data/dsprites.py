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
_TEMPLATE = 32  # sprite template size; positions move the template by whole pixels
_FIRST_CENTRE = 16.0  # sprite centre at position 0; position k puts it at 16 + k pixels


class DSprites(GroundTruthDataset):
    """Procedural dSprites with the original factor grid (737,280 images, 64x64x1, {0, 1}).

    Sprite centres move one pixel per position step (x, y in 16..47), so a sprite never leaves
    the image and rendering is a copy of one of 720 cached (shape, scale, orientation)
    templates: ~10x faster than evaluating the shapes per image, and exactly equal to it
    (`render_analytic`).

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

    # TFDS's feature names (label_<name>): every dSprites source uses these.
    factor_names = ("shape", "scale", "orientation", "x_position", "y_position")
    factor_sizes = (3, 6, 40, 32, 32)
    image_shape = (IMAGE_SIZE, IMAGE_SIZE, 1)
    shape_names = ("square", "ellipse", "heart")
    scale_values = np.linspace(0.5, 1.0, 6)
    orientation_values = np.linspace(0.0, 2.0 * np.pi, 40)
    position_values = np.linspace(0.0, 1.0, 32)
    _templates = None

    def images_from_factors(self, factors):
        """Renders float32 images `(n, 64, 64, 1)` with values in {0, 1}."""
        factors = self._check_factors(factors)
        if DSprites._templates is None:
            DSprites._templates = _make_templates()
        template = (factors[:, 0] * 6 + factors[:, 1]) * 40 + factors[:, 2]
        offsets = np.arange(_TEMPLATE)
        rows = factors[:, 4, None, None] + offsets[None, :, None]
        cols = factors[:, 3, None, None] + offsets[None, None, :]
        out = np.zeros((len(factors), IMAGE_SIZE, IMAGE_SIZE, 1), np.float32)
        out[np.arange(len(factors))[:, None, None], rows, cols, 0] = DSprites._templates[template]
        return out

    def render_analytic(self, factors):
        """Reference renderer: evaluates each shape on the full 64x64 pixel grid."""
        factors = self._check_factors(factors)
        centre_x = _FIRST_CENTRE + factors[:, 3].astype(np.float32)
        centre_y = _FIRST_CENTRE + factors[:, 4].astype(np.float32)
        masks = _sprite_masks(factors[:, 0], factors[:, 1], factors[:, 2], centre_x, centre_y,
                              IMAGE_SIZE)
        return masks[..., None].astype(np.float32)


def _make_templates():
    """Masks `(720, 32, 32)` of every (shape, scale, orientation), centred at (16, 16)."""
    grid = np.stack(np.meshgrid(np.arange(3), np.arange(6), np.arange(40), indexing="ij"),
                    axis=-1).reshape(-1, 3)
    centre = np.full(len(grid), _FIRST_CENTRE, np.float32)
    return _sprite_masks(grid[:, 0], grid[:, 1], grid[:, 2], centre, centre, _TEMPLATE)


def _sprite_masks(shape, scale_index, orientation_index, centre_x, centre_y, size):
    """Binary masks `(n, size, size)`: is each pixel centre inside the sprite?"""
    n = len(shape)
    scale = DSprites.scale_values[scale_index].astype(np.float32)
    angle = DSprites.orientation_values[orientation_index].astype(np.float32)
    pixel = np.arange(size, dtype=np.float32) + 0.5
    dx = pixel[None, None, :] - centre_x[:, None, None]
    dy = pixel[None, :, None] - centre_y[:, None, None]
    cos, sin = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    radius = (_HALF_SIZE * scale)[:, None, None]
    # Sprite frame: rotate the pixel offsets by -angle, normalise by the sprite's size.
    u = (cos * dx + sin * dy) / radius
    v = (-sin * dx + cos * dy) / radius

    mask = np.zeros((n, size, size), bool)
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
