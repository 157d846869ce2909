import numpy as np
import pytest
from PIL import Image

from helpers import tiny_beta_vae
from keras_disent import visualize


def test_image_grid_tiles_rows_and_columns():
    images = np.zeros((2, 3, 4, 5, 1), "float32")
    images[1, 2] = 1.0
    grid = visualize.image_grid(images, scale=1)
    assert grid.size == (3 * (5 + 2) + 2, 2 * (4 + 2) + 2)
    pixels = np.asarray(grid)
    assert pixels[2 + 6, 2 + 2 * 7, 0] == 255 and pixels[2, 2, 0] == 0


def test_traversal_figure_rows_sorted_by_kl(tmp_path, sprites):
    model = tiny_beta_vae(latent_dim=3)
    reference = sprites.images(np.arange(8) * 5000)
    path, order, kl = visualize.traversal_figure(model, reference[0], str(tmp_path / "t.png"),
                                                 values=np.linspace(-2, 2, 5),
                                                 reference=reference)
    assert list(kl[order]) == sorted(kl, reverse=True)
    picture = Image.open(path)
    assert picture.size == (2 * (78 + 5 * 66 + 2), 2 * (3 * 66 + 2))


def test_reconstruction_figure(tmp_path, sprites):
    model = tiny_beta_vae()
    path = visualize.reconstruction_figure(model, sprites.images(np.arange(4)),
                                           str(tmp_path / "sub" / "r.png"))
    assert Image.open(path).size == (2 * (78 + 4 * 66 + 2), 2 * (2 * 66 + 2))


def test_line_plot_draws_series_where_the_data_are(tmp_path):
    path = visualize.line_plot({"rising": ([0, 1, 2], [0.0, 0.5, 1.0])}, str(tmp_path / "l.png"),
                               title="t", xlabel="x", hlines={"ref": 0.5}, y_range=(0, 1),
                               size=(200, 140))
    pixels = np.asarray(Image.open(path).convert("RGB")).astype(int)
    blue = (np.abs(pixels - [31, 119, 180]).sum(axis=-1) < 30)
    rows, cols = np.nonzero(blue[20:, :])  # below the legend line
    left, right = cols.min(), cols.max()
    # The rising line: its left end is lower in the picture (larger row) than its right end.
    assert rows[cols == left].mean() > rows[cols == right].mean()
    with np.testing.assert_raises(ValueError):
        visualize.line_plot({"empty": ([], [])}, str(tmp_path / "e.png"))


def test_scatter_plot_colours_classes_and_checks_shapes(tmp_path):
    from PIL import Image

    from keras_disent import visualize

    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 50)
    points = rng.standard_normal((100, 2)) + 6.0 * labels[:, None]
    path = visualize.scatter_plot(points, labels, str(tmp_path / "s.png"), title="t",
                                  class_names=["zero", "one"], spreads=np.full((100, 2), 0.3))
    pixels = np.asarray(Image.open(path).convert("RGB")).reshape(-1, 3)
    colours = {tuple(c) for c in pixels}
    assert tuple(visualize._COLORS[0]) in colours and tuple(visualize._COLORS[1]) in colours
    with pytest.raises(ValueError, match=r"points \(n, 2\) and labels \(n,\)"):
        visualize.scatter_plot(points[:, :1], labels, str(tmp_path / "bad.png"))
