"""Procedural lit 3D objects: the DC-IGN setting (Kulkarni et al. 2015) in miniature.

Each image is an orthographic ray-cast of one of six asymmetric objects built from boxes and
ellipsoids, seen under a camera azimuth and elevation and lit by a directional light whose
azimuth varies, with Lambertian shading plus ambient light: 64x64 grayscale in [0, 1], black
background. The factor grid is exact and rendering is vectorised numpy, on demand, so metrics
and "vary one factor only" batches (DC-IGN's clamped training) need no download.
"""

import numpy as np

from keras_disent.data.ground_truth import GroundTruthDataset

IMAGE_SIZE = 64
_AMBIENT = 0.15
_LIGHT_ELEVATION = np.deg2rad(30.0)
_VIEW_EXTENT = 1.25  # the image spans [-extent, extent] in world units

# Object identities: lists of primitives ("box" | "ellipsoid", centre xyz, half sizes / radii).
# y is up; the camera at azimuth 0 looks along -z. Every object is asymmetric under rotation
# about y, so the azimuth is visible in the image.
OBJECTS = (
    ("car", (("box", (0.0, -0.2, 0.0), (0.85, 0.25, 0.4)),
             ("box", (-0.2, 0.2, 0.0), (0.4, 0.2, 0.35)))),
    ("chair", (("box", (0.0, -0.1, 0.0), (0.5, 0.1, 0.5)),
               ("box", (-0.4, 0.45, 0.0), (0.1, 0.5, 0.5)),
               ("box", (0.4, -0.55, 0.4), (0.08, 0.35, 0.08)))),
    ("teapot", (("ellipsoid", (0.0, 0.0, 0.0), (0.6, 0.45, 0.5)),
                ("ellipsoid", (0.75, 0.2, 0.0), (0.35, 0.1, 0.1)),
                ("box", (-0.65, 0.05, 0.0), (0.1, 0.25, 0.06)))),
    ("hammer", (("box", (0.0, 0.0, 0.0), (0.9, 0.08, 0.08)),
                ("box", (0.75, 0.0, 0.0), (0.15, 0.35, 0.15)))),
    ("bird", (("ellipsoid", (0.0, 0.0, 0.0), (0.7, 0.3, 0.3)),
              ("ellipsoid", (0.65, 0.35, 0.0), (0.25, 0.22, 0.22)),
              ("box", (-0.15, 0.1, 0.0), (0.3, 0.04, 0.75)))),
    ("lamp", (("ellipsoid", (0.0, -0.6, 0.0), (0.5, 0.12, 0.5)),
              ("box", (0.0, 0.0, 0.0), (0.06, 0.6, 0.06)),
              ("ellipsoid", (0.3, 0.6, 0.0), (0.4, 0.25, 0.25)))),
)


class Objects3D(GroundTruthDataset):
    """Lit 3D objects under pose and light: 6 x 19 x 7 x 9 = 7,182 images, 64x64x1 in [0, 1].

    Factors:
        shape: 6 object identities (the DC-IGN "intrinsic" factor).
        azimuth: camera azimuth, 19 values from -90 to 90 degrees.
        elevation: camera elevation, 7 values from -30 to 30 degrees.
        light_azimuth: light direction azimuth, 9 values from -80 to 80 degrees (the light
            is 30 degrees above the horizon).

    Example:
        >>> ds = Objects3D()
        >>> factors, images = ds.sample(8, seed=0)
        >>> images.shape
        (8, 64, 64, 1)

    Reference:
        Kulkarni, Whitney, Kohli, Tenenbaum 2015, Deep Convolutional Inverse Graphics Network,
        NeurIPS (the pose/light factors of its face renders, here on procedural objects).
    """

    factor_names = ("shape", "azimuth", "elevation", "light_azimuth")
    factor_sizes = (len(OBJECTS), 19, 7, 9)
    image_shape = (IMAGE_SIZE, IMAGE_SIZE, 1)
    shape_names = tuple(name for name, _ in OBJECTS)
    azimuth_degrees = np.linspace(-90.0, 90.0, 19)
    elevation_degrees = np.linspace(-30.0, 30.0, 7)
    light_degrees = np.linspace(-80.0, 80.0, 9)
    name = "objects3d"

    def __init__(self, cache=True):
        """Args: cache: keep each rendered grid point as uint8 (29 MB for the whole grid), so
        a point is ray-cast once; `False` renders every request afresh."""
        self.cache = cache
        self._cached = np.zeros((len(self), IMAGE_SIZE, IMAGE_SIZE), np.uint8) if cache else None
        self._rendered = np.zeros(len(self), bool) if cache else None

    def render(self, factors):
        """Ray-casts float32 images `(n, 64, 64, 1)` (no cache)."""
        factors = self._check_factors(factors)
        out = np.zeros((len(factors), IMAGE_SIZE, IMAGE_SIZE, 1), np.float32)
        for begin in range(0, len(factors), 256):  # bounded memory: 256 x 4096 rays at once
            chunk = factors[begin:begin + 256]
            out[begin:begin + len(chunk), ..., 0] = _render(chunk)
        return out

    def images_from_factors(self, factors):
        """Images `(n, 64, 64, 1)` float32 in [0, 1], quantised to 1/255 when cached."""
        factors = self._check_factors(factors)
        if not self.cache:
            return self.render(factors)
        indices = self.factors_to_index(factors)
        missing = np.unique(indices[~self._rendered[indices]])
        if len(missing):
            rendered = self.render(self.index_to_factors(missing))[..., 0]
            self._cached[missing] = np.round(rendered * 255.0).astype(np.uint8)
            self._rendered[missing] = True
        return (self._cached[indices].astype(np.float32) / 255.0)[..., None]


def _rotation(azimuth, elevation):
    """World-from-object rotations `(n, 3, 3)`: azimuth about y, then elevation about x."""
    ca, sa = np.cos(azimuth), np.sin(azimuth)
    ce, se = np.cos(elevation), np.sin(elevation)
    zero, one = np.zeros_like(ca), np.ones_like(ca)
    yaw = np.stack([np.stack([ca, zero, sa], -1), np.stack([zero, one, zero], -1),
                    np.stack([-sa, zero, ca], -1)], -2)
    pitch = np.stack([np.stack([one, zero, zero], -1), np.stack([zero, ce, -se], -1),
                      np.stack([zero, se, ce], -1)], -2)
    return pitch @ yaw


def _intersect(kind, centre, size, origin, direction):
    """Ray hits `(t (n, p), normal (n, p, 3))` in the object frame; t = inf where missed."""
    centre, size = np.asarray(centre, np.float32), np.asarray(size, np.float32)
    o = origin - centre
    if kind == "ellipsoid":
        os_, ds = o / size, direction / size
        a = np.sum(ds * ds, -1)
        b = 2.0 * np.sum(os_ * ds, -1)
        c = np.sum(os_ * os_, -1) - 1.0
        disc = b * b - 4.0 * a * c
        hit = disc >= 0.0
        t = np.where(hit, (-b - np.sqrt(np.maximum(disc, 0.0))) / (2.0 * a), np.inf)
        point = o + np.where(hit, t, 0.0)[..., None] * direction
        normal = point / (size * size)
    else:  # box: slab method
        inverse = 1.0 / np.where(np.abs(direction) < 1e-9, 1e-9, direction)
        t1, t2 = (-size - o) * inverse, (size - o) * inverse
        t_near = np.max(np.minimum(t1, t2), -1)
        t_far = np.min(np.maximum(t1, t2), -1)
        hit = t_near <= t_far
        t = np.where(hit, t_near, np.inf)
        point = o + np.where(hit, t, 0.0)[..., None] * direction
        axis = np.argmax(np.abs(point) / size, -1)
        normal = np.zeros_like(point)
        np.put_along_axis(normal, axis[..., None],
                          np.sign(np.take_along_axis(point, axis[..., None], -1)), -1)
    normal = normal / np.maximum(np.linalg.norm(normal, axis=-1, keepdims=True), 1e-9)
    return t, normal


def _render(factors):
    n = len(factors)
    azimuth = np.deg2rad(Objects3D.azimuth_degrees[factors[:, 1]])
    elevation = np.deg2rad(Objects3D.elevation_degrees[factors[:, 2]])
    light_azimuth = np.deg2rad(Objects3D.light_degrees[factors[:, 3]])
    rotation = _rotation(azimuth, elevation).astype(np.float32)  # world <- object
    # Orthographic rays in the world: pixel (row, col) -> (x, y) on the image plane, along -z.
    coords = (np.arange(IMAGE_SIZE, dtype=np.float32) + 0.5) / IMAGE_SIZE * 2.0 - 1.0
    x, y = np.meshgrid(coords * _VIEW_EXTENT, -coords * _VIEW_EXTENT)
    origin_world = np.stack([x, y, np.full_like(x, 5.0)], -1).reshape(1, -1, 3)
    direction_world = np.array([0.0, 0.0, -1.0], np.float32)
    # Into each object's frame: p_obj = R^T p_world.
    origin = np.einsum("nji,npj->npi", rotation, np.broadcast_to(origin_world, (n,) +
                                                                  origin_world.shape[1:]))
    direction = np.einsum("nji,j->ni", rotation, direction_world)[:, None, :]
    best_t = np.full(origin.shape[:2], np.inf, np.float32)
    best_normal = np.zeros(origin.shape, np.float32)
    for shape_index, (_, primitives) in enumerate(OBJECTS):
        rows = np.flatnonzero(factors[:, 0] == shape_index)
        if not len(rows):
            continue
        for kind, centre, size in primitives:
            t, normal = _intersect(kind, centre, size, origin[rows], direction[rows])
            closer = t < best_t[rows]
            best_t[rows] = np.where(closer, t, best_t[rows])
            best_normal[rows] = np.where(closer[..., None], normal, best_normal[rows])
    light_world = np.stack([np.sin(light_azimuth) * np.cos(_LIGHT_ELEVATION),
                            np.full(n, np.sin(_LIGHT_ELEVATION)),
                            np.cos(light_azimuth) * np.cos(_LIGHT_ELEVATION)], -1)
    light = np.einsum("nji,nj->ni", rotation, light_world.astype(np.float32))
    diffuse = np.maximum(np.einsum("npi,ni->np", best_normal, light), 0.0)
    shade = np.where(np.isfinite(best_t), _AMBIENT + (1.0 - _AMBIENT) * diffuse, 0.0)
    return shade.reshape(n, IMAGE_SIZE, IMAGE_SIZE).astype(np.float32)


def objects3d():
    """The built-in procedural 3D objects dataset (no download). See `Objects3D`."""
    return Objects3D()
