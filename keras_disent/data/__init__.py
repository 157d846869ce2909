"""Datasets: procedural ground-truth datasets (built in, no download) and input pipelines."""

from keras_disent.data.dsprites import DSprites, dsprites
from keras_disent.data.ground_truth import GroundTruthDataset
from keras_disent.data.synthetic import FactorObservations

__all__ = ["DSprites", "FactorObservations", "GroundTruthDataset", "RandomBatches", "dsprites", "get"]

_BUILTIN = {"dsprites": dsprites}


def get(name):
    """A built-in dataset by name, e.g. `get("dsprites")`."""
    if name not in _BUILTIN:
        raise ValueError(
            f"Unknown dataset {name!r}. Built-in datasets: {sorted(_BUILTIN)}."
        )
    return _BUILTIN[name]()


def __getattr__(name):
    # The input pipeline needs keras (and so a backend); import it only when asked for.
    if name == "RandomBatches":
        from keras_disent.data.pipeline import RandomBatches

        return RandomBatches
    raise AttributeError(f"module 'keras_disent.data' has no attribute {name!r}")
