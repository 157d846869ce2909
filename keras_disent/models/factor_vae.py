"""FactorVAE (Kim & Mnih 2018): a discriminator estimates the total correlation."""

import keras
from keras import layers, ops

from keras_disent import contract, training
from keras_disent.models.base import GaussianVAE, unpack_images
from keras_disent.speed import call_network


def permute_dims(z, seed_generator):
    """Shuffles each latent dimension independently across the batch (Kim & Mnih Alg. 1).

    Samples of the permuted batch follow prod_j q(z_j): each column keeps its marginal.
    """
    noise = keras.random.uniform(ops.shape(z), seed=seed_generator)
    return ops.take_along_axis(z, ops.argsort(noise, axis=0), axis=0)


def tc_discriminator(latent_dim, units=1000, depth=6, name="discriminator"):
    """Kim & Mnih's MLP: `depth` layers of `units` with LeakyReLU(0.2), 2 logits."""
    inputs = keras.Input((latent_dim,), name="latents")
    x = inputs
    for i in range(depth):
        x = layers.Dense(units, name=f"dense{i}")(x)
        x = layers.LeakyReLU(0.2)(x)
    return keras.Model(inputs, layers.Dense(2, name="logits")(x), name=name)


@keras.saving.register_keras_serializable(package="keras_disent")
class FactorVAE(GaussianVAE):
    """FactorVAE: ELBO - gamma * TC(z), TC estimated by a density-ratio discriminator.

    Two phases per train step through the training core's `OptimizerGroup`:
    "vae" (encoder + decoder, loss = recon + KL + gamma * (D_0(z) - D_1(z))) and
    "discriminator" (cross-entropy: q(z) samples are class 0, permuted samples class 1).

    Args:
        latent_dim: latent dimensions.
        gamma: TC weight (paper on dSprites: 35; disentanglement_lib sweeps 10..100).
        discriminator_units, discriminator_depth: the MLP (paper: 1000 x 6).
        **kwargs: image_shape, reconstruction, network config, seed (see `BetaVAE`).

    Compile with `model.compile(model.default_optimizer())` or a dict
    `{"vae": ..., "discriminator": ...}` (paper: Adam 1e-4 (0.9, 0.999); Adam 1e-4 (0.5, 0.9)).

    Logs: loss, recon, kl, tc, d_loss.

    Reference:
        Kim & Mnih 2018, Disentangling by Factorising, ICML, Eq. 2-3 and Algorithm 2.
    """

    log_keys = ("loss", "recon", "kl", "tc", "d_loss")

    def __init__(self, latent_dim=10, gamma=35.0, discriminator_units=1000,
                 discriminator_depth=6, **kwargs):
        contract.check_finite(gamma=gamma)
        if gamma < 0:
            raise ValueError(f"gamma must be >= 0, got {gamma}.")
        self.gamma = float(gamma)
        self.discriminator_units = int(discriminator_units)
        self.discriminator_depth = int(discriminator_depth)
        super().__init__(latent_dim=latent_dim, **kwargs)
        self.discriminator = tc_discriminator(self.latent_dim, self.discriminator_units,
                                              self.discriminator_depth)
        self.permutation_seed = keras.random.SeedGenerator(
            None if self.seed is None else self.seed + 1)

    def default_optimizer(self, learning_rate=None):
        """The paper's optimizers; `learning_rate` (if given) replaces 1e-4 in both."""
        rate = 1e-4 if learning_rate is None else learning_rate
        return {"vae": keras.optimizers.Adam(rate, beta_1=0.9, beta_2=0.999),
                "discriminator": keras.optimizers.Adam(rate, beta_1=0.5, beta_2=0.9)}

    def regularizer(self, kl, mean, log_var, z, training):
        logits = call_network(self.discriminator, z, training)
        tc = ops.mean(logits[:, 0] - logits[:, 1])
        return ops.mean(kl) + self.gamma * tc, {"tc": tc}

    def discriminator_loss(self, data, training=True):
        """Cross-entropy of the density-ratio discriminator (Kim & Mnih Alg. 2, line 8)."""
        images = unpack_images(data)
        mean, log_var = self.posterior(images, training=training)
        z = ops.stop_gradient(self.reparameterize(mean, log_var, training))
        joint = call_network(self.discriminator, z, training)
        permuted = permute_dims(z, self.noise_seed(self.permutation_seed, training, offset=1))
        product = call_network(self.discriminator, permuted, training)
        # Class 0 = sample of q(z), class 1 = sample of prod_j q(z_j).
        loss = 0.5 * (ops.mean(ops.softplus(joint[:, 1] - joint[:, 0]))
                      + ops.mean(ops.softplus(product[:, 0] - product[:, 1])))
        return loss, {"d_loss": loss}

    def vae_loss(self, data, training=True):
        """The VAE phase: recon + KL + gamma * TC estimate."""
        return super().compute_losses(data, training)

    def compute_losses(self, data, training=False):
        """The VAE loss, logging the discriminator's loss too."""
        loss, logs = self.vae_loss(data, training)
        logs.update(self.discriminator_loss(data, training)[1])
        return loss, logs

    def training_phases(self):
        vae_variables = self.encoder.trainable_variables + self.decoder.trainable_variables
        return [
            training.Phase(self.vae_loss, vae_variables, "vae"),
            training.Phase(self.discriminator_loss, self.discriminator.trainable_variables,
                           "discriminator"),
        ]

    def get_config(self):
        config = super().get_config()
        config.update(gamma=self.gamma, discriminator_units=self.discriminator_units,
                      discriminator_depth=self.discriminator_depth)
        return config
