"""keras-disent models: one public class per file."""

from keras_disent.models.base import DisentModel, GaussianVAE
from keras_disent.models.beta_tcvae import BetaTCVAE
from keras_disent.models.beta_vae import BetaVAE
from keras_disent.models.content_transfer import ContentTransfer
from keras_disent.models.d2ae import D2AE
from keras_disent.models.dc_ign import DCIGN
from keras_disent.models.deep_vib import DeepVIB
from keras_disent.models.dip_vae import DIPVAE
from keras_disent.models.drit import DRIT
from keras_disent.models.factor_vae import FactorVAE
from keras_disent.models.info_gan import InfoGAN, categorical_accuracy
from keras_disent.models.ufdn import UFDN

__all__ = ["BetaTCVAE", "BetaVAE", "ContentTransfer", "D2AE", "DCIGN", "DeepVIB", "DIPVAE", "DRIT",
           "DisentModel",
           "FactorVAE", "GaussianVAE", "InfoGAN", "UFDN", "categorical_accuracy"]
