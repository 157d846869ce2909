"""keras-disent: a Keras 3 multi-backend model zoo for disentangled representation learning."""

__version__ = "0.1.0"

from keras_disent import data, losses, models, networks  # noqa: E402
from keras_disent.models import BetaTCVAE, BetaVAE, FactorVAE  # noqa: E402

__all__ = ["BetaTCVAE", "BetaVAE", "FactorVAE", "data", "losses", "models", "networks", "__version__"]
