"""Datasets: procedural ground-truth datasets (built in, no download) and input pipelines."""

from keras_disent.data.dsprites import DSprites, dsprites
from keras_disent.data.dsprites_variants import ColorDSprites, NoisyDSprites, color_dsprites, \
    noisy_dsprites
from keras_disent.data.ground_truth import GroundTruthDataset
from keras_disent.data.arrays import ArrayGroundTruth, ImageArrayDataset
from keras_disent.data.content_pairs import GlassesBenchmark, domain_pairs
from keras_disent.data.multi_domain import DigitDomains, digit_domains
from keras_disent.data.labels import label_factor, labelled_batches, labelled_sample, \
    num_classes
from keras_disent.data.files import celeba_folder, dsprites_file, idx, mnist_csv, shapes3d_h5
from keras_disent.data.objects3d import Objects3D, objects3d
from keras_disent.data.synthetic import FactorObservations

__all__ = ["ArrayGroundTruth", "ColorDSprites", "DSprites", "DigitDomains", "DomainPairs",
           "FactorBatches", "FactorObservations", "GlassesBenchmark", "GroundTruthDataset",
           "ImageArrayDataset", "MultiDomainBatches", "NoisyDSprites", "Objects3D",
           "RandomBatches", "ShuffledBatches", "celeba_folder", "color_dsprites",
           "digit_domains", "domain_pairs", "dsprites", "dsprites_file", "get", "idx",
           "label_factor", "labelled_batches", "labelled_sample", "mnist_csv", "noisy_dsprites",
           "num_classes", "objects3d", "shapes3d_h5", "tfds"]

_BUILTIN = {"dsprites": dsprites, "color_dsprites": color_dsprites,
            "noisy_dsprites": noisy_dsprites, "objects3d": objects3d}
_FILE_LOADERS = {"idx": idx, "fashion_mnist_idx": idx, "mnist_idx": idx, "mnist_csv": mnist_csv,
                 "celeba_folder": celeba_folder, "shapes3d_h5": shapes3d_h5,
                 "dsprites_file": dsprites_file}


def tfds(name, split="train", data_dir=None, **kwargs):
    """A TFDS dataset (prepared locally) mapped to the project's interfaces.

    See `keras_disent.data.tfds_loader.load`; fails at once, with instructions, when the
    dataset is not prepared (this never downloads).
    """
    from keras_disent.data import tfds_loader

    return tfds_loader.load(name, split=split, data_dir=data_dir, **kwargs)


def get(spec):
    """A dataset from a CLI-style spec.

    `"dsprites"`, `"color_dsprites"`, `"noisy_dsprites"`, `"objects3d"` (built in), `"<loader>:<path>"` with loader in idx / fashion_mnist_idx /
    mnist_idx / mnist_csv / celeba_folder / shapes3d_h5 / dsprites_file, or
    `"tfds:<name>[:<split>]"`.
    """
    if spec in _BUILTIN:
        return _BUILTIN[spec]()
    kind, _, rest = spec.partition(":")
    if kind == "tfds" and rest:
        name, _, split = rest.partition(":")
        return tfds(name, split or "train")
    if kind in ("fashion_mnist_idx", "mnist_idx") and rest:
        return idx(rest, name=kind[:-len("_idx")])  # the dataset's name in run configs
    if kind in _FILE_LOADERS and rest:
        return _FILE_LOADERS[kind](rest)
    raise ValueError(
        f"Unknown dataset {spec!r}. Use one of {sorted(_BUILTIN)}, "
        f"'<loader>:<path>' with loader in {sorted(_FILE_LOADERS)}, or 'tfds:<name>[:<split>]'."
    )


def __getattr__(name):
    # The input pipeline needs keras (and so a backend); import it only when asked for.
    if name in ("RandomBatches", "FactorBatches", "ShuffledBatches", "DomainPairs",
                "MultiDomainBatches"):
        from keras_disent.data import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'keras_disent.data' has no attribute {name!r}")
