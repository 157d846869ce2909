"""keras-disent: a Keras 3 multi-backend model zoo for disentangled representation learning.

Importing the package changes nothing in the host process (no allocator settings, logging
levels or global seeds) and imports keras only when a submodule that needs it is used:
`keras_disent.BetaVAE`, `keras_disent.zoo.load(...)`, ... The `keras-disent` command, the
recipes and the bench scripts own their processes and tune them
(`keras_disent.allocator.keep_freed_memory()`).
"""

import importlib

__version__ = "0.1.0"

_SUBMODULES = ("allocator", "contract", "data", "losses", "methods", "metrics", "models", "networks",
               "runs", "speed", "train", "training", "visualize", "zoo")
_MODEL_CLASSES = ("BetaTCVAE", "BetaVAE", "ContentTransfer", "D2AE", "DCIGN", "DeepVIB",
                  "FactorVAE", "InfoGAN", "UFDN")

__all__ = list(_MODEL_CLASSES) + [name for name in _SUBMODULES
                                  if name not in ("allocator", "runs", "train", "training")]
__all__ += ["__version__"]


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"keras_disent.{name}")
    if name in _MODEL_CLASSES:
        return getattr(importlib.import_module("keras_disent.models"), name)
    raise AttributeError(f"module 'keras_disent' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES) | set(_MODEL_CLASSES))
