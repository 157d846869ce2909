"""Figures as PNG: latent traversals and reconstructions (Higgins'17 Fig. 7 style grids)."""

import os

import numpy as np
from PIL import Image, ImageDraw

_LABEL_WIDTH = 78
_PAD = 2


def _to_uint8(images):
    images = np.clip(np.asarray(images, np.float32), 0.0, 1.0)
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    return (images * 255.0 + 0.5).astype(np.uint8)


def image_grid(images, labels=None, scale=2):
    """Tiles `(rows, cols, H, W, C)` images into one RGB `PIL.Image`, optional row labels."""
    images = _to_uint8(images)
    if images.ndim != 5:
        raise ValueError(f"image_grid expects (rows, cols, H, W, C), got shape {images.shape}.")
    rows, cols, height, width, _ = images.shape
    label_width = _LABEL_WIDTH if labels is not None else 0
    canvas = np.full((rows * (height + _PAD) + _PAD, label_width + cols * (width + _PAD) + _PAD,
                      3), 255, np.uint8)
    for r in range(rows):
        for c in range(cols):
            top, left = _PAD + r * (height + _PAD), label_width + _PAD + c * (width + _PAD)
            canvas[top:top + height, left:left + width] = images[r, c]
    picture = Image.fromarray(canvas)
    if scale != 1:
        picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    if labels is not None:
        draw = ImageDraw.Draw(picture)
        for r, label in enumerate(labels):
            top = (_PAD + r * (height + _PAD)) * scale + height * scale // 2 - 6
            draw.text((4, top), str(label), fill=(0, 0, 0))
    return picture


def _save(picture, path):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    picture.save(path)
    return path


def traversal_figure(model, image, path, values=np.linspace(-2.0, 2.0, 9), reference=None):
    """Writes a latent traversal grid PNG: one row per latent, sorted by KL (most used first).

    Args:
        model: a model with `encode`, `decode`, `traverse` and `kl_per_dim`.
        image: the image `(H, W, C)` whose code is swept.
        path: output PNG path.
        values: the values each latent takes (columns).
        reference: images `(n, H, W, C)` over which each latent's KL is averaged for sorting;
            defaults to `image` alone.

    Returns:
        `(path, dims in row order, KL per dim)`.
    """
    reference = np.asarray(image)[None] if reference is None else reference
    kl = model.kl_per_dim(reference)
    order = np.argsort(-kl)
    sweeps = model.traverse(image, dims=order, values=values)
    labels = [f"z{d} KL={kl[d]:.2f}" for d in order]
    return _save(image_grid(sweeps, labels), path), order, kl


def reconstruction_figure(model, images, path):
    """Writes a PNG with input images (top row) above their reconstructions (bottom row)."""
    images = np.asarray(images, np.float32)
    recon = model.reconstruct(images)
    return _save(image_grid(np.stack([images, recon]), labels=["input", "reconstruction"]), path)
