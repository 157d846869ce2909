"""beta-VAE (Higgins et al. 2017) and its capacity-annealed form (Burgess et al. 2018)."""

import keras
from keras import ops

from keras_disent import contract, losses
from keras_disent.models.base import GaussianVAE


@keras.saving.register_keras_serializable(package="keras_disent")
class BetaVAE(GaussianVAE):
    """beta-VAE: maximise E_q[log p(x|z)] - beta * KL(q(z|x) || p(z)).

    With `capacity_max` set, the regulariser becomes Burgess et al.'s
    `gamma * |KL - C(t)|` with the capacity C rising linearly from 0 to `capacity_max` nats over
    `capacity_steps` training steps ("beta-VAE B" in Locatello et al. 2019).

    Args:
        latent_dim: number of latent dimensions (paper: 10).
        beta: KL weight (Higgins'17 Eq. 4); beta = 1 is the plain VAE. Ignored when annealing.
        image_shape: input shape `(H, W, C)`, values in [0, 1].
        reconstruction: "bernoulli" (binary images such as dSprites) or "gaussian".
        capacity_max: C_max in nats (Burgess'18 used 25 on dSprites); None disables annealing.
        capacity_steps: steps over which C rises to C_max (Burgess'18: 100,000).
        gamma: weight of |KL - C| (Burgess'18: 1000).
        conv_channels, dense_units, kernel_size, decoder_upsample, batch_norm: network config
            (see `keras_disent.networks`); the defaults are the Burgess'18 64x64 network.
        seed: seed of the model's `SeedGenerator` (reparameterisation noise).

    Logs: loss, recon, kl (batch mean of the summed KL), capacity (when annealing).

    Example:
        >>> model = BetaVAE(latent_dim=10, beta=4.0)
        >>> model.compile(keras.optimizers.Adam(5e-4))
        >>> model.fit(keras_disent.data.dsprites().batches(64, 1000))
        >>> codes = model.encode(images)

    References:
        Higgins et al. 2017, beta-VAE: Learning Basic Visual Concepts with a Constrained
        Variational Framework, ICLR, Eq. 4.
        Burgess et al. 2018, Understanding disentangling in beta-VAE, arXiv:1804.03599, Eq. 8.
    """

    def __init__(self, latent_dim=10, beta=1.0, image_shape=(64, 64, 1),
                 reconstruction="bernoulli", capacity_max=None, capacity_steps=100_000,
                 gamma=1000.0, **kwargs):
        contract.check_finite(beta=beta, capacity_max=capacity_max, gamma=gamma)
        if beta < 0:
            raise ValueError(f"beta must be >= 0, got {beta}.")
        if capacity_max is not None and (capacity_max < 0 or capacity_steps <= 0 or gamma < 0):
            raise ValueError(
                "Capacity annealing needs capacity_max >= 0, capacity_steps > 0 and gamma >= 0; "
                f"got {capacity_max}, {capacity_steps}, {gamma}."
            )
        self.beta = float(beta)
        self.capacity_max = None if capacity_max is None else float(capacity_max)
        self.capacity_steps = int(capacity_steps)
        self.gamma = float(gamma)
        if self.capacity_max is not None:
            self.log_keys = ("loss", "recon", "kl", "capacity")
        super().__init__(latent_dim=latent_dim, image_shape=image_shape,
                         reconstruction=reconstruction, **kwargs)
        if self.capacity_max is not None:
            self.add_step_counter()

    def regularizer(self, kl, mean, log_var, z, training):
        kl = ops.mean(kl)
        if self.capacity_max is None:
            return self.beta * kl, {}
        capacity = losses.linear_capacity(self.counted_step(training), self.capacity_max,
                                          self.capacity_steps)
        return losses.capacity_penalty(kl, capacity, self.gamma), {"capacity": capacity}

    def get_config(self):
        config = super().get_config()
        config.update(beta=self.beta, capacity_max=self.capacity_max,
                      capacity_steps=self.capacity_steps, gamma=self.gamma)
        return config
