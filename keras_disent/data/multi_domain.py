"""A multi-domain digits benchmark rendered from real digits, with its truth kept per image.

The same digit images drawn in several domains (styles), all 3-channel in [0, 1]:
  - "mnist": the gray digit on black, copied to three channels;
  - "mnist_m": MNIST-M's rule (Ganin et al. 2016): |texture - digit| per channel, where the
    texture is a procedural colour field (a random 4x4 colour grid, bilinearly upsampled, plus
    fine noise) instead of a crop of a BSDS500 photograph;
  - "colour": the digit in a random flat colour on another random flat colour;
  - "mnist_m_natural": MNIST-M's rule on a texture with the statistics of photographs
    (`natural_texture`): a 1/f amplitude spectrum, channels correlated as in photographs,
    pixel mean and spread of ImageNet's. This is the closer stand-in for real MNIST-M: the
    4x4-grid texture of "mnist_m" mixes independent, saturated channels, so a digit is
    bright in one channel and dark in another, which no photograph does.
Every image is a pure function of (digit index, domain, texture seed), so each carries its
label, its domain and its texture seed, and a translation's ground truth is renderable.

Digits come from a labelled `ImageArrayDataset` of 28x28 gray images: the 5,000-digit MNIST
subset (`data.mnist_csv(path, split=...)`: 4,000 train / 1,000 test) or
Fashion-MNIST's files (`data.idx(DIR, split=...)`, 60,000 / 10,000).

Reference (the domains): Ganin et al. 2016, Domain-Adversarial Training of Neural Networks,
JMLR (MNIST-M); used by Liu et al. 2018 (UFDN) and Lee et al. 2018 (DRIT).
"""

import numpy as np

from keras_disent.data.arrays import to_float

DOMAINS = ("mnist", "mnist_m", "colour", "mnist_m_natural")

# Pixel mean of ImageNet's photographs per channel (the constants torchvision normalises by,
# 0.485, 0.456, 0.406): `natural_texture` draws its luminance around their mean and offsets
# each channel by its difference from it.
_PHOTO_CHANNEL_MEAN = np.array([0.485, 0.456, 0.406])


def _upsample_bilinear(grid, height, width):
    """`(n, h, w, c)` -> `(n, height, width, c)`, bilinear with aligned corners."""
    _, h, w, _ = grid.shape
    ys, xs = np.linspace(0.0, h - 1.0, height), np.linspace(0.0, w - 1.0, width)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    wy, wx = (ys - y0)[None, :, None, None], (xs - x0)[None, None, :, None]
    top = grid[:, y0][:, :, x0] * (1 - wx) + grid[:, y0][:, :, x1] * wx
    bottom = grid[:, y1][:, :, x0] * (1 - wx) + grid[:, y1][:, :, x1] * wx
    return top * (1 - wy) + bottom * wy


def texture(seeds, height=28, width=28):
    """Procedural colour textures `(n, height, width, 3)` in [0, 1], one per seed."""
    grids, noise = [], []
    for seed in np.asarray(seeds, np.int64):
        rng = np.random.default_rng(int(seed))
        grids.append(rng.random((4, 4, 3)))
        noise.append(rng.random((height, width, 3)))
    field = _upsample_bilinear(np.asarray(grids), height, width)
    return np.clip(0.85 * field + 0.15 * np.asarray(noise), 0.0, 1.0).astype(np.float32)


def _one_over_f_fields(noise):
    """White noise `(n, h, w)` -> fields with a 1/f amplitude spectrum, each scaled to mean 0
    and standard deviation 1."""
    height, width = noise.shape[1:]
    frequency = np.hypot(np.fft.fftfreq(height)[:, None], np.fft.fftfreq(width)[None, :])
    amplitude = np.zeros_like(frequency)
    amplitude[frequency > 0] = 1.0 / frequency[frequency > 0]
    fields = np.real(np.fft.ifft2(np.fft.fft2(noise) * amplitude))
    fields -= fields.mean(axis=(1, 2), keepdims=True)
    return fields / (fields.std(axis=(1, 2), keepdims=True) + 1e-8)


def natural_texture(seeds, height=28, width=28):
    """Procedural colour textures `(n, height, width, 3)` in [0, 1] with the statistics of
    photographs, one per seed: a stand-in for MNIST-M's BSDS500 crops.

    Luminance is 1/f noise (the amplitude spectrum of natural images, Field 1987; van der
    Schaaf & van Hateren 1996) with a per-image mean drawn from U(0.12, 0.78) and a per-image
    spread from U(0.05, 0.2); colour is that luminance in every channel plus each channel's
    offset from ImageNet's mean, a per-image tint (N(0, 0.05) per channel) and a weak second
    1/f field per channel (N(0, 0.025) times it): channels correlate as in photographs
    (about 0.95 here). Over many seeds the pixels have ImageNet's channel means (0.485, 0.456,
    0.406) and a standard deviation of about 0.23 (ImageNet's: about 0.225).
    """
    seeds = np.asarray(seeds, np.int64)
    if not len(seeds):
        return np.zeros((0, height, width, 3), np.float32)
    noise, means, spreads, tints, chromas = [], [], [], [], []
    for seed in seeds:
        rng = np.random.default_rng(int(seed))
        noise.append(rng.standard_normal((2, height, width)))
        means.append(rng.uniform(0.12, 0.78))
        spreads.append(rng.uniform(0.05, 0.2))
        tints.append(rng.normal(0.0, 0.05, 3))
        chromas.append(rng.normal(0.0, 0.025, 3))
    fields = _one_over_f_fields(np.concatenate(noise)).reshape(len(seeds), 2, height, width)
    luminance = (np.asarray(means)[:, None, None] + np.asarray(spreads)[:, None, None]
                 * fields[:, 0])
    colour = (_PHOTO_CHANNEL_MEAN - _PHOTO_CHANNEL_MEAN.mean()) + np.asarray(tints)
    image = (luminance[..., None] + colour[:, None, None]
             + np.asarray(chromas)[:, None, None] * fields[:, 1, ..., None])
    return np.clip(image, 0.0, 1.0).astype(np.float32)


def flat_colours(seeds):
    """`(foreground, background)` colours `(n, 3)` each, at least 0.5 apart on average."""
    fore, back = [], []
    for seed in np.asarray(seeds, np.int64):
        rng = np.random.default_rng(int(seed) + 1)
        while True:
            f, b = rng.random(3), rng.random(3)
            if np.mean(np.abs(f - b)) >= 0.5:
                break
        fore.append(f)
        back.append(b)
    return np.asarray(fore, np.float32), np.asarray(back, np.float32)


class DigitDomains:
    """Digits rendered in several domains (3-channel, in [0, 1]).

    Args:
        digits: a labelled `ImageArrayDataset` of gray digits `(n, H, W, 1)`.
        domains: the domain names to use, in order (a subset of `DOMAINS`); a model's domain
            index is the position here.
        name: recorded in run configs.

    Example:
        >>> bench = digit_domains("mnist_csv:data/mnist_5k.csv.gz", split="train")
        >>> batch = bench.sample(8, "mnist_m", seed=0)
        >>> batch["images"].shape, batch["labels"][:3], batch["domains"][:3]
        ((8, 28, 28, 3), array([...]), array([1, 1, 1]))
    """

    def __init__(self, digits, domains=DOMAINS, name="digit_domains"):
        if getattr(digits, "labels", None) is None:
            raise ValueError(f"{getattr(digits, 'name', 'the digits')} has no labels: the "
                             "digit domains need labelled digits (data.mnist_csv, data.idx).")
        if digits.image_shape[-1] != 1:
            raise ValueError(f"digits must be gray (n, H, W, 1), got images of shape "
                             f"{digits.image_shape}.")
        unknown = [d for d in domains if d not in DOMAINS]
        if unknown or not domains or len(set(domains)) != len(domains):
            raise ValueError(f"domains must be distinct names from {DOMAINS}, got "
                             f"{tuple(domains)}.")
        self.digits = digits
        self.domains = tuple(domains)
        self.name = name
        self.image_shape = tuple(digits.image_shape[:2]) + (3,)
        self.num_classes = int(np.max(digits.labels)) + 1

    def __len__(self):
        return len(self.digits)

    @property
    def num_domains(self):
        return len(self.domains)

    def domain_index(self, domain):
        """The index of `domain` (a name or an index); an unknown one lists the domains."""
        if isinstance(domain, (int, np.integer)) and not isinstance(domain, bool):
            if 0 <= domain < self.num_domains:
                return int(domain)
        elif domain in self.domains:
            return self.domains.index(domain)
        raise ValueError(f"Unknown domain {domain!r}; this benchmark's domains: "
                         f"{', '.join(f'{i}={d}' for i, d in enumerate(self.domains))}.")

    def render(self, digit_indices, domain, texture_seeds):
        """Images `(n, H, W, 3)` of the given digits in `domain` with the given textures."""
        name = self.domains[self.domain_index(domain)]
        gray = to_float(self.digits.raw[np.asarray(digit_indices)])
        seeds = np.asarray(texture_seeds, np.int64)
        if len(seeds) != len(gray):
            raise ValueError(f"{len(gray)} digits but {len(seeds)} texture seeds.")
        if name == "mnist":
            return np.repeat(gray, 3, axis=-1)
        if name == "mnist_m":
            return np.abs(texture(seeds, *self.image_shape[:2]) - gray)
        if name == "mnist_m_natural":
            return np.abs(natural_texture(seeds, *self.image_shape[:2]) - gray)
        fore, back = flat_colours(seeds)
        return back[:, None, None] * (1.0 - gray) + fore[:, None, None] * gray

    def sample(self, num, domain, seed=None):
        """`num` random digits in `domain`: a dict of images, labels, domains (index per
        image), texture_seeds and digit_indices."""
        rng = np.random.default_rng(seed)
        indices = rng.integers(0, len(self.digits), num)
        seeds = rng.integers(0, 2 ** 31 - 1, num)
        index = self.domain_index(domain)
        return {"images": self.render(indices, index, seeds),
                "labels": self.digits.labels[indices].astype(np.int32),
                "domains": np.full(num, index, np.int32), "texture_seeds": seeds,
                "digit_indices": indices}

    def batches(self, batch_size=64, steps_per_epoch=1000, seed=0, with_labels=False,
                cross_pairs=False, invert_gray=False):
        """A `keras.utils.PyDataset` of `(images, domain ids)` mixing every domain (see
        `data.pipeline.MultiDomainBatches`: `cross_pairs` for DRIT, `invert_gray` for the
        polarity augmentation)."""
        from keras_disent.data.pipeline import MultiDomainBatches

        return MultiDomainBatches(self, batch_size, steps_per_epoch, seed, with_labels,
                                  cross_pairs, invert_gray)

    def all_images(self, domain, seed=0):
        """Every digit once in `domain` (textures from `seed`): `(images, labels)`."""
        indices = np.arange(len(self.digits))
        seeds = np.random.default_rng(seed).integers(0, 2 ** 31 - 1, len(indices))
        return (self.render(indices, domain, seeds),
                self.digits.labels.astype(np.int32))


def digit_domains(spec="mnist_csv:data/mnist_5k.csv.gz", split="train", domains=DOMAINS):
    """The benchmark on a digit source with a fixed split.

    Args:
        spec: "mnist_csv:PATH" (the 5,000-digit subset, split by `data.mnist_csv(split=)`:
            1,000 test digits), or "fashion_mnist_idx:DIR" / "mnist_idx:DIR" (the files'
            own train and t10k splits).
        split: "train" or "test".
        domains: the domains, in order.
    """
    from keras_disent.data import files

    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
    kind, _, path = spec.partition(":")
    if kind == "mnist_csv" and path:
        digits = files.mnist_csv(path, "mnist_5k", split)
    elif kind in ("fashion_mnist_idx", "mnist_idx") and path:
        digits = files.idx(path, name=f"{kind[:-len('_idx')]}_{split}", split=split)
    else:
        raise ValueError(f"Unknown digit source {spec!r}: use mnist_csv:PATH, "
                         "fashion_mnist_idx:DIR or mnist_idx:DIR.")
    return DigitDomains(digits, domains, name=f"digit_domains_{digits.name}")
