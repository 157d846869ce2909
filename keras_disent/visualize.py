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
    """Writes a latent traversal grid PNG: one row per traversable code dim, most used first.

    Args:
        model: a model with the "traversable" capability (see `models.contract`).
        image: the image `(H, W, C)` whose code is swept.
        path: output PNG path.
        values: the values each dim takes (columns).
        reference: images `(n, H, W, C)` over which each dim's activity
            (`model.latent_activity`: KL for the VAE family, the code's std otherwise) is
            measured for sorting; defaults to `image` alone.

    Returns:
        `(path, dims in row order, activity per code dim)`.

    Raises:
        contract.MissingCapabilityError: the model is not traversable.
    """
    from keras_disent import contract

    contract.require_capability(model, contract.TRAVERSABLE, "draw a latent traversal")
    reference = np.asarray(image)[None] if reference is None else reference
    activity, label = model.latent_activity(reference)
    dims = np.asarray(model.traversable_dims())
    order = dims[np.argsort(-activity[dims], kind="stable")]
    sweeps = model.traverse(image, dims=order, values=values)
    labels = [f"z{d} {label}={activity[d]:.2f}" for d in order]
    return _save(image_grid(sweeps, labels), path), order, activity


def reconstruction_figure(model, images, path):
    """Writes a PNG with input images (top row) above their reconstructions (bottom row)."""
    from keras_disent import contract

    contract.require_capability(model, contract.ENCODER, "draw reconstructions")
    contract.require_capability(model, contract.DECODER, "draw reconstructions")
    images = np.asarray(images, np.float32)
    recon = model.reconstruct(images)
    return _save(image_grid(np.stack([images, recon]), labels=["input", "reconstruction"]), path)


_COLORS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
           (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


def _tick(value):
    """Axis tick text: whole numbers for large values (steps), 3 significant digits else."""
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


def line_plot(series, path, title="", xlabel="", ylabel="", hlines=None, size=(560, 360),
              markers=False, y_range=None):
    """Writes a line chart PNG (no matplotlib needed): e.g. L_I over training, metric vs beta.

    Args:
        series: `{label: (x values, y values)}`; each drawn in its own colour with a legend.
        path: output PNG path.
        title, xlabel, ylabel: text on the chart.
        hlines: `{label: y}` dashed reference lines (e.g. `{"H(c) = ln 10": 2.303}`).
        size: `(width, height)` in pixels.
        markers: draw a dot at every point (for a few points, e.g. a sweep).
        y_range: `(low, high)` of the y axis; default: the data's range plus 5%.

    Returns:
        the path written.
    """
    hlines = hlines or {}
    points = [(float(x), float(y)) for xs, ys in series.values() for x, y in zip(xs, ys)
              if np.isfinite(y)]
    if not points:
        raise ValueError("line_plot needs at least one finite point.")
    xs = [p[0] for p in points]
    ys = [p[1] for p in points] + [float(v) for v in hlines.values()]
    x_low, x_high = min(xs), max(xs)
    y_low, y_high = min(ys), max(ys)
    if x_high == x_low:
        x_low, x_high = x_low - 1.0, x_high + 1.0
    margin = 0.05 * (y_high - y_low or 1.0)
    y_low, y_high = (y_low - margin, y_high + margin) if y_range is None else y_range
    digits = max(3, int(np.ceil(-np.log10(max(y_high - y_low, 1e-12)))) + 3)
    width, height = size
    left, right, top, bottom = 56, 12, 28, 40
    picture = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(picture)

    def to_pixel(x, y):
        px = left + (x - x_low) / (x_high - x_low) * (width - left - right)
        py = height - bottom - (y - y_low) / (y_high - y_low) * (height - top - bottom)
        return px, py

    draw.rectangle([left, top, width - right, height - bottom], outline=(0, 0, 0))
    for fraction in np.linspace(0.0, 1.0, 5):
        y = y_low + fraction * (y_high - y_low)
        _, py = to_pixel(x_low, y)
        draw.line([left - 4, py, left, py], fill=(0, 0, 0))
        draw.text((2, py - 6), f"{y:.{digits}g}", fill=(0, 0, 0))
        x = x_low + fraction * (x_high - x_low)
        px, _ = to_pixel(x, y_low)
        draw.line([px, height - bottom, px, height - bottom + 4], fill=(0, 0, 0))
        draw.text((px - 12, height - bottom + 6), _tick(x), fill=(0, 0, 0))
    draw.text((left, 6), title, fill=(0, 0, 0))
    draw.text((width // 2 - 3 * len(xlabel), height - 16), xlabel, fill=(0, 0, 0))
    draw.text((left + 4, top + 2), ylabel, fill=(90, 90, 90))
    legend_y = top + 16
    for label, value in hlines.items():
        y = to_pixel(x_low, float(value))[1]
        for start in range(left, width - right, 10):
            draw.line([start, y, min(start + 5, width - right), y], fill=(120, 120, 120))
        draw.text((width - right - 6 * len(label) - 4, y - 13), label, fill=(90, 90, 90))
    for i, (label, (x_values, y_values)) in enumerate(series.items()):
        color = _COLORS[i % len(_COLORS)]
        pixels = [to_pixel(float(x), float(y)) for x, y in zip(x_values, y_values)
                  if np.isfinite(y)]
        if len(pixels) > 1:
            draw.line(pixels, fill=color, width=2)
        if markers or len(pixels) == 1:
            for px, py in pixels:
                draw.ellipse([px - 3, py - 3, px + 3, py + 3], fill=color)
        if len(series) > 1 or label:
            draw.line([left + 8, legend_y + 6, left + 24, legend_y + 6], fill=color, width=2)
            draw.text((left + 28, legend_y), str(label), fill=(0, 0, 0))
            legend_y += 14
    return _save(picture, path)


def grid_figure(images, path, labels=None, scale=2):
    """Writes `(rows, cols, H, W, C)` images as one PNG grid with optional row labels."""
    return _save(image_grid(images, labels, scale), path)


def scatter_plot(points, labels, path, title="", class_names=None, spreads=None,
                 size=(560, 560)):
    """Writes a 2-D scatter PNG coloured by class (e.g. a 2-D bottleneck embedding).

    Args:
        points: `(n, 2)` coordinates.
        labels: int `(n,)` class of each point (colour; up to 10 distinct colours).
        path: output PNG path.
        title: text on top.
        class_names: legend text per class (default: the class numbers).
        spreads: optional `(n, 2)` standard deviations, drawn as ellipses around the first
            200 points (the posterior's spread, as in Alemi et al. Fig. 2).
    """
    points = np.asarray(points, np.float64)
    labels = np.asarray(labels).astype(int)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) != len(labels):
        raise ValueError(f"scatter_plot needs points (n, 2) and labels (n,), got "
                         f"{points.shape} and {labels.shape}.")
    low = np.percentile(points, 0.5, axis=0)
    high = np.percentile(points, 99.5, axis=0)
    span = np.where(high > low, high - low, 1.0)
    low, high = low - 0.05 * span, high + 0.05 * span
    width, height = size
    left, right, top, bottom = 48, 110, 28, 36
    picture = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(picture)

    def to_pixel(x, y):
        return (left + (x - low[0]) / (high[0] - low[0]) * (width - left - right),
                height - bottom - (y - low[1]) / (high[1] - low[1]) * (height - top - bottom))

    draw.rectangle([left, top, width - right, height - bottom], outline=(0, 0, 0))
    for fraction in np.linspace(0.0, 1.0, 5):
        px, _ = to_pixel(low[0] + fraction * (high[0] - low[0]), low[1])
        draw.text((px - 12, height - bottom + 6), _tick(low[0] + fraction * (high[0] - low[0])),
                  fill=(0, 0, 0))
        _, py = to_pixel(low[0], low[1] + fraction * (high[1] - low[1]))
        draw.text((2, py - 6), _tick(low[1] + fraction * (high[1] - low[1])), fill=(0, 0, 0))
    draw.text((left, 6), title, fill=(0, 0, 0))
    if spreads is not None:
        spreads = np.asarray(spreads, np.float64)
        for (x, y), (sx, sy), label in list(zip(points, spreads, labels))[:200]:
            x0, y0 = to_pixel(x - sx, y - sy)
            x1, y1 = to_pixel(x + sx, y + sy)
            color = tuple(int(c + (255 - c) * 0.6) for c in _COLORS[label % len(_COLORS)])
            draw.ellipse([min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)], outline=color)
    inside = np.all((points >= low) & (points <= high), axis=1)
    for (x, y), label in zip(points[inside], labels[inside]):
        px, py = to_pixel(x, y)
        draw.ellipse([px - 1.5, py - 1.5, px + 1.5, py + 1.5],
                     fill=_COLORS[label % len(_COLORS)])
    for i, label in enumerate(np.unique(labels)):
        name = class_names[label] if class_names is not None else str(label)
        y = top + 4 + 14 * i
        draw.rectangle([width - right + 8, y + 3, width - right + 16, y + 11],
                       fill=_COLORS[label % len(_COLORS)])
        draw.text((width - right + 20, y), str(name), fill=(0, 0, 0))
    return _save(picture, path)


def box_plot(groups, path, title="", ylabel="", size=None):
    """Writes a box plot PNG: one box per group (quartiles, median line, whiskers to the
    extremes, every value as a dot), e.g. a metric's distribution over seeds per method and
    strength (Locatello et al. 2019, Fig. 2 style).

    Args:
        groups: list of `(label, values)`; groups with no finite value are drawn empty.
        path: output PNG path.
        title, ylabel: text on the chart.
        size: `(width, height)`; default grows with the number of groups.
    """
    groups = [(str(label), np.asarray(values, np.float64)) for label, values in groups]
    finite = np.concatenate([v[np.isfinite(v)] for _, v in groups] + [np.zeros(0)])
    if not groups or finite.size == 0:
        raise ValueError("box_plot needs at least one group with a finite value.")
    low, high = float(finite.min()), float(finite.max())
    margin = 0.05 * (high - low or 1.0)
    low, high = low - margin, high + margin
    width, height = size or (max(360, 70 + 112 * len(groups)), 400)
    left, right, top, bottom = 56, 12, 28, 100
    picture = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(picture)

    def y_pixel(y):
        return height - bottom - (y - low) / (high - low) * (height - top - bottom)

    draw.rectangle([left, top, width - right, height - bottom], outline=(0, 0, 0))
    for fraction in np.linspace(0.0, 1.0, 5):
        y = low + fraction * (high - low)
        draw.text((2, y_pixel(y) - 6), _tick(y), fill=(0, 0, 0))
    draw.text((left, 6), title, fill=(0, 0, 0))
    draw.text((left + 4, top + 2), ylabel, fill=(90, 90, 90))
    slot = (width - left - right) / len(groups)
    for i, (label, values) in enumerate(groups):
        centre = left + slot * (i + 0.5)
        color = _COLORS[i % len(_COLORS)]
        values = values[np.isfinite(values)]
        if values.size:
            q1, median, q3 = np.percentile(values, [25, 50, 75])
            half = min(18.0, slot * 0.3)
            draw.line([centre, y_pixel(values.min()), centre, y_pixel(values.max())],
                      fill=(0, 0, 0))
            draw.rectangle([centre - half, y_pixel(q3), centre + half, y_pixel(q1)],
                           outline=color, fill=(245, 245, 245))
            draw.line([centre - half, y_pixel(median), centre + half, y_pixel(median)],
                      fill=color, width=2)
            for value in values:
                draw.ellipse([centre - 2, y_pixel(value) - 2, centre + 2, y_pixel(value) + 2],
                             fill=color)
        for line, text in enumerate(label.split("\n")[:7]):
            draw.text((centre - 3 * len(text), height - bottom + 6 + 12 * line), text[:18],
                      fill=(0, 0, 0))
    return _save(picture, path)


def heatmap(matrix, labels, path, title="", cell=56):
    """Writes a square matrix in [-1, 1] (e.g. rank correlations between metrics) as a PNG:
    blue negative, red positive, the value printed in each cell."""
    matrix = np.asarray(matrix, np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or len(labels) != len(matrix):
        raise ValueError(f"heatmap needs a square matrix and one label per row, got "
                         f"{matrix.shape} and {len(labels)} labels.")
    count = len(matrix)
    left, top = 130, 28
    picture = Image.new("RGB", (left + count * cell + 8, top + count * cell + 60),
                        (255, 255, 255))
    draw = ImageDraw.Draw(picture)
    draw.text((4, 6), title, fill=(0, 0, 0))
    for i in range(count):
        draw.text((4, top + i * cell + cell // 2 - 6), str(labels[i])[:20], fill=(0, 0, 0))
        for j in range(count):
            value = matrix[i, j]
            if np.isfinite(value):
                strength = int(255 * (1.0 - min(abs(value), 1.0)))
                color = (255, strength, strength) if value >= 0 else (strength, strength, 255)
                text = f"{value:.2f}"
            else:
                color, text = (220, 220, 220), "n/a"
            x, y = left + j * cell, top + i * cell
            draw.rectangle([x, y, x + cell - 1, y + cell - 1], fill=color, outline=(0, 0, 0))
            ink = (255, 255, 255) if np.isfinite(value) and abs(value) > 0.7 else (0, 0, 0)
            draw.text((x + 8, y + cell // 2 - 6), text, fill=ink)
    for j in range(count):
        for line, text in enumerate(str(labels[j])[:20].split(" ")[:4]):
            draw.text((left + j * cell + 2, top + count * cell + 6 + 12 * line), text,
                      fill=(0, 0, 0))
    return _save(picture, path)
