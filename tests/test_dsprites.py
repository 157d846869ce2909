import numpy as np
import pytest

from keras_disent.data import DSprites


def test_factor_grid_matches_original(sprites):
    assert sprites.factor_names == ("shape", "scale", "orientation", "x_position", "y_position")
    assert sprites.factor_sizes == (3, 6, 40, 32, 32)
    assert len(sprites) == 737_280
    np.testing.assert_allclose(DSprites.scale_values, np.linspace(0.5, 1.0, 6))
    assert DSprites.orientation_values[-1] == pytest.approx(2 * np.pi)


def test_index_factor_round_trip_last_factor_fastest(sprites):
    np.testing.assert_array_equal(sprites.index_to_factors([0, 1, 32, 737_279]),
                                  [[0, 0, 0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 1, 0],
                                   [2, 5, 39, 31, 31]])
    indices = np.random.default_rng(0).integers(0, len(sprites), 1000)
    np.testing.assert_array_equal(sprites.factors_to_index(sprites.index_to_factors(indices)),
                                  indices)


def test_out_of_range_index_and_factor_errors(sprites):
    with pytest.raises(IndexError, match="737280 is out of range"):
        sprites.images([737_280])
    with pytest.raises(IndexError, match="out of range"):
        sprites.index_to_factors([-1])
    with pytest.raises(IndexError, match="'scale' value 6"):
        sprites.images_from_factors([[0, 6, 0, 0, 0]])
    with pytest.raises(ValueError, match=r"shape \(n, 5\)"):
        sprites.images_from_factors([[0, 0, 0]])
    with pytest.raises(TypeError, match="integers"):
        sprites.images([1.5])


def test_images_are_binary_float32_and_follow_factors(sprites):
    images = sprites.images_from_factors([[0, 5, 0, 0, 0], [0, 5, 0, 31, 0], [0, 0, 0, 0, 0],
                                          [2, 5, 0, 16, 16], [1, 5, 0, 16, 16]])
    assert images.shape == (5, 64, 64, 1) and images.dtype == np.float32
    assert set(np.unique(images)) <= {0.0, 1.0}
    area = images.sum(axis=(1, 2, 3))
    assert area[0] > 3 * area[2]  # scale 1 is bigger than scale 0.5
    centre_x = [np.argwhere(im[..., 0])[:, 1].mean() for im in images[:2]]
    assert centre_x[1] - centre_x[0] == pytest.approx(31)  # one pixel per position step
    assert not np.array_equal(images[3], images[4])  # heart != ellipse


def test_orientation_rotates_square(sprites):
    upright, rotated = sprites.images_from_factors([[0, 5, 0, 16, 16], [0, 5, 5, 16, 16]])
    assert not np.array_equal(upright, rotated)
    assert abs(upright.sum() - rotated.sum()) / upright.sum() < 0.1  # same area


def test_sample_factors_is_deterministic_and_in_range(sprites):
    a = sprites.sample_factors(500, seed=3)
    np.testing.assert_array_equal(a, sprites.sample_factors(500, seed=3))
    assert a.shape == (500, 5) and (a >= 0).all() and (a < np.array(sprites.factor_sizes)).all()
    assert not np.array_equal(a, sprites.sample_factors(500, seed=4))


def test_iter_images_covers_range_in_chunks(sprites):
    chunks = list(sprites.iter_images(batch_size=100, start=1000, stop=1250))
    assert [len(i) for i, _ in chunks] == [100, 100, 50]
    np.testing.assert_array_equal(chunks[-1][1], sprites.images(np.arange(1200, 1250)))


def test_random_batches_pipeline(sprites):
    batches = sprites.batches(batch_size=16, steps_per_epoch=3, seed=0)
    assert len(batches) == 3
    first = batches[0]
    assert first.shape == (16, 64, 64, 1)
    np.testing.assert_array_equal(first, batches[0])  # deterministic
    assert not np.array_equal(first, batches[1])
    batches.on_epoch_end()
    assert not np.array_equal(first, batches[0])  # new epoch, new batches
    images, factors = sprites.batches(8, 1, with_factors=True)[0]
    np.testing.assert_array_equal(images, sprites.images_from_factors(factors))
    with pytest.raises(ValueError, match="positive"):
        sprites.batches(0, 1)


def test_template_renderer_equals_analytic_renderer(sprites):
    factors = sprites.sample_factors(300, seed=1)
    corners = np.array([[s, 5, o, x, y] for s in range(3) for o in (0, 7)
                        for x in (0, 31) for y in (0, 31)])
    factors = np.concatenate([factors, corners])
    np.testing.assert_array_equal(sprites.images_from_factors(factors),
                                  sprites.render_analytic(factors))


def test_largest_sprites_stay_inside_the_image(sprites):
    # A sprite touching the border would lose pixels at the extreme positions.
    for shape in range(3):
        for orientation in range(0, 40, 5):
            centre = sprites.images_from_factors([[shape, 5, orientation, 16, 16]]).sum()
            for x, y in ((0, 0), (31, 31), (0, 31)):
                moved = sprites.images_from_factors([[shape, 5, orientation, x, y]]).sum()
                assert moved == centre


def test_color_and_noisy_dsprites_follow_disentanglement_lib():
    from keras_disent import data

    factors = np.array([[0, 5, 0, 10, 10], [2, 3, 7, 0, 31]])
    sprite = data.dsprites().images_from_factors(factors)  # (2, 64, 64, 1) in {0, 1}
    on = sprite[..., 0] > 0
    colour = data.color_dsprites(seed=1)
    images = colour.images_from_factors(factors, random_state=5)
    assert images.shape == (2, 64, 64, 3) and images.dtype == np.float32
    for i in range(2):
        pixel = images[i][on[i]]  # one colour over the whole sprite, each channel in [0.5, 1]
        np.testing.assert_allclose(pixel, np.broadcast_to(pixel[0], pixel.shape))
        assert (pixel[0] >= 0.5).all() and (pixel[0] <= 1.0).all()
        assert (images[i][~on[i]] == 0).all()
    rng = np.random.default_rng(5)
    expected = np.repeat(sprite, 3, -1) * rng.uniform(0.5, 1.0, (2, 1, 1, 3))
    np.testing.assert_allclose(images, expected, atol=1e-6)
    noisy = data.noisy_dsprites(seed=1).images_from_factors(factors, random_state=5)
    rng = np.random.default_rng(5)
    np.testing.assert_allclose(
        noisy, np.minimum(np.repeat(sprite, 3, -1) + rng.uniform(0, 1, (2, 64, 64, 3)), 1.0),
        atol=1e-6)
    assert (noisy[on] == 1.0).all() and 0.4 < noisy[~on].mean() < 0.6
    # the nuisance is drawn afresh per call, reproducibly from the dataset's seed
    first = data.color_dsprites(seed=1)
    a, b = first.images_from_factors(factors), first.images_from_factors(factors)
    assert not np.allclose(a, b)
    again = data.color_dsprites(seed=1)
    np.testing.assert_allclose(again.images_from_factors(factors), a)
    # pipelines: batch i of an epoch is a pure function of (seed, epoch, i)
    batches = data.get("noisy_dsprites").batches(4, 2, seed=3)
    np.testing.assert_allclose(batches[1], data.noisy_dsprites(seed=9).batches(4, 2, seed=3)[1])
    assert data.get("color_dsprites").image_shape == (64, 64, 3)
