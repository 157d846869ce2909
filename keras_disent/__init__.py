"""keras-disent: a Keras 3 multi-backend model zoo for disentangled representation learning."""

__version__ = "0.1.0"

from keras_disent import allocator  # noqa: E402

allocator.keep_freed_memory()  # before keras starts a backend's threads (see allocator.py)

from keras_disent import (data, losses, metrics, models, networks, visualize,  # noqa: E402
                          zoo)
from keras_disent.models import (BetaTCVAE, BetaVAE, ContentTransfer, DCIGN,  # noqa: E402
                                 FactorVAE, InfoGAN)

__all__ = ["BetaTCVAE", "BetaVAE", "ContentTransfer", "DCIGN", "FactorVAE", "InfoGAN", "data",
           "losses", "metrics", "models", "networks", "visualize", "zoo", "__version__"]
