"""DIP-VAE (Kumar, Sattigeri, Balakrishnan ICLR 2018): match the moments of the aggregate
posterior to the prior's: its covariance pushed to the identity."""

import keras
from keras import ops

from keras_disent import contract, losses
from keras_disent.models.base import GaussianVAE


@keras.saving.register_keras_serializable(package="keras_disent")
class DIPVAE(GaussianVAE):
    """DIP-VAE-I and DIP-VAE-II: ELBO + lambda_od * sum_{i != j} C_ij^2
    + lambda_d * sum_i (C_ii - 1)^2.

    C is estimated on each minibatch: DIP-VAE-I uses the covariance of the encoder means,
    Cov[mu(x)]; DIP-VAE-II the covariance of z under q(z), Cov[mu(x)] + E[diag(sigma^2(x))].
    lambda_d = lambda_d_factor * lambda_od, as in disentanglement_lib, whose study sweeps
    (the models of Locatello et al. ICML 2019) fix lambda_d_factor to 10 for DIP-VAE-I and 1
    for DIP-VAE-II and sweep lambda_od over 1, 2, 5, 10, 20, 50; the KL weight is 1.

    Args:
        latent_dim: latent dimensions.
        lambda_od: weight of the off-diagonal penalty.
        lambda_d_factor: lambda_d / lambda_od; None takes the study's value for `dip_type`.
        dip_type: "i" or "ii".
        **kwargs: image_shape, reconstruction, network config, seed (see `BetaVAE`).

    Logs: loss, recon, kl, dip (the covariance penalty, weighted), off_diagonal (sum of the
    squared off-diagonal entries of C), diagonal (sum of (C_ii - 1)^2).

    Reference:
        Kumar, Sattigeri, Balakrishnan 2018, Variational Inference of Disentangled Latent
        Concepts from Unlabeled Observations, ICLR.
    """

    log_keys = ("loss", "recon", "kl", "dip", "off_diagonal", "diagonal")

    def __init__(self, latent_dim=10, lambda_od=10.0, lambda_d_factor=None, dip_type="i",
                 **kwargs):
        if dip_type not in ("i", "ii"):
            raise ValueError(f"dip_type must be 'i' or 'ii', got {dip_type!r}.")
        if lambda_d_factor is None:
            lambda_d_factor = 10.0 if dip_type == "i" else 1.0
        contract.check_finite(lambda_od=lambda_od, lambda_d_factor=lambda_d_factor)
        for name, value in (("lambda_od", lambda_od), ("lambda_d_factor", lambda_d_factor)):
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}.")
        self.lambda_od, self.lambda_d_factor = float(lambda_od), float(lambda_d_factor)
        self.dip_type = dip_type
        super().__init__(latent_dim=latent_dim, **kwargs)

    @property
    def lambda_d(self):
        return self.lambda_d_factor * self.lambda_od

    def regularizer(self, kl, mean, log_var, z, training):
        covariance = losses.batch_covariance(mean)
        if self.dip_type == "ii":
            covariance = covariance + ops.diag(ops.mean(ops.exp(log_var), axis=0))
        off_diagonal, diagonal = losses.dip_penalties(covariance)
        dip = self.lambda_od * off_diagonal + self.lambda_d * diagonal
        return ops.mean(kl) + dip, {"dip": dip, "off_diagonal": off_diagonal,
                                    "diagonal": diagonal}

    def get_config(self):
        config = super().get_config()
        config.update(lambda_od=self.lambda_od, lambda_d_factor=self.lambda_d_factor,
                      dip_type=self.dip_type)
        return config
