"""beta-TCVAE (Chen et al. 2018): penalise the total correlation of the aggregate posterior."""

import keras
from keras import ops

from keras_disent import contract, losses
from keras_disent.models.base import GaussianVAE


@keras.saving.register_keras_serializable(package="keras_disent")
class BetaTCVAE(GaussianVAE):
    """beta-TCVAE: recon + alpha * MI + beta * TC + gamma * dimension-wise KL.

    The KL term of the ELBO is decomposed on each minibatch (Chen'18 Eq. 2) into index-code
    mutual information, total correlation (TC) and dimension-wise KL; alpha = gamma = 1 and
    beta > 1 is the paper's beta-TCVAE. The aggregate posterior q(z) is estimated by
    minibatch-weighted sampling ("mws") or minibatch stratified sampling ("mss").

    Args:
        latent_dim: latent dimensions.
        beta: TC weight (paper: 6 on dSprites).
        alpha: MI weight.
        gamma: dimension-wise KL weight.
        dataset_size: N of the training set (dSprites: 737,280), used by both estimators.
        estimator: "mws" or "mss".
        **kwargs: image_shape, reconstruction, network config, seed (see `BetaVAE`).

    Logs: loss, recon, kl (analytic), tc, mi.

    Reference:
        Chen, Li, Grosse, Duvenaud 2018, Isolating Sources of Disentanglement in Variational
        Autoencoders, NeurIPS, Eq. 2-4.
    """

    log_keys = ("loss", "recon", "kl", "tc", "mi")

    def __init__(self, latent_dim=10, beta=6.0, alpha=1.0, gamma=1.0, dataset_size=737_280,
                 estimator="mws", **kwargs):
        contract.check_finite(alpha=alpha, beta=beta, gamma=gamma)
        for name, value in (("alpha", alpha), ("beta", beta), ("gamma", gamma)):
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}.")
        if dataset_size < 2:
            raise ValueError(f"dataset_size must be >= 2, got {dataset_size}.")
        if estimator not in ("mws", "mss"):
            raise ValueError(f"estimator must be 'mws' or 'mss', got {estimator!r}.")
        self.beta, self.alpha, self.gamma = float(beta), float(alpha), float(gamma)
        self.dataset_size, self.estimator = int(dataset_size), estimator
        super().__init__(latent_dim=latent_dim, **kwargs)

    def regularizer(self, kl, mean, log_var, z, training):
        mi, tc, dim_kl = losses.elbo_decomposition(z, mean, log_var, self.dataset_size,
                                                   self.estimator)
        mi, tc, dim_kl = ops.mean(mi), ops.mean(tc), ops.mean(dim_kl)
        return self.alpha * mi + self.beta * tc + self.gamma * dim_kl, {"tc": tc, "mi": mi}

    def get_config(self):
        config = super().get_config()
        config.update(beta=self.beta, alpha=self.alpha, gamma=self.gamma,
                      dataset_size=self.dataset_size, estimator=self.estimator)
        return config
