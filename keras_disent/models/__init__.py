"""keras-disent models: one public class per file."""

from keras_disent.models.base import DisentModel, GaussianVAE
from keras_disent.models.beta_vae import BetaVAE

__all__ = ["BetaVAE", "DisentModel", "GaussianVAE"]
