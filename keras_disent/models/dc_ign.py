"""DC-IGN (Kulkarni et al. 2015): a VAE whose latents are tied to named factors by training on
batches in which only one factor varies."""

import keras
import numpy as np
from keras import ops

from keras_disent import losses
from keras_disent import contract
from keras_disent.models.base import GaussianVAE
from keras_disent.speed import call_network


@keras.saving.register_keras_serializable(package="keras_disent")
class DCIGN(GaussianVAE):
    """Deep Convolutional Inverse Graphics Network: clamped mini-batch training.

    The code is split into named factor latents (e.g. azimuth, elevation, light; one or more
    dims each) and an intrinsic block (identity, shape). Training batches come from
    `keras_disent.data.FactorBatches`: images in which only one factor varies, with the index
    of the latent group that may vary. In such a batch every other latent is replaced by its
    batch mean before decoding, and their gradient is replaced by their difference from that
    mean (`losses.clamp_latents`); the varying group passes through. A batch given without a
    group (plain images: evaluation, reconstruction) has every latent active.

    Loss per batch: mean(recon) + beta * mean(KL) + mean(clamp), with clamp the auxiliary
    0.5 * ||z_inactive - stop_gradient(mean)||^2 term.

    Args:
        factor_latents: `[(factor name, dims), ...]`, the clamped groups in order; the names
            are the dataset's factor names (`FactorBatches(groups=model.group_factors)`).
        intrinsic_dim: dims of the intrinsic block (the last group).
        intrinsic_factor: the dataset factor that varies in intrinsic batches (e.g. "shape").
        beta: KL weight (1: the paper's VAE objective).
        **kwargs: image_shape, reconstruction, network config, seed (see `BetaVAE`).

    Logs: loss, recon, kl, clamp.

    Example:
        >>> model = DCIGN(factor_latents=[("azimuth", 1), ("elevation", 1),
        ...                              ("light_azimuth", 1)], intrinsic_dim=7)
        >>> batches = data.FactorBatches(data.objects3d(), model.group_factors,
        ...                              ratios=(1, 1, 1, 10))
        >>> model.compile(keras.optimizers.Adam(5e-4)); model.fit(batches)
        >>> model.factor_dims("azimuth")
        [0]

    Reference:
        Kulkarni, Whitney, Kohli, Tenenbaum 2015, Deep Convolutional Inverse Graphics Network,
        NeurIPS, Sec. 3.1 and Fig. 3.
    """

    log_keys = ("loss", "recon", "kl", "clamp")

    def __init__(self, factor_latents=(("azimuth", 1), ("elevation", 1), ("light_azimuth", 1)),
                 intrinsic_dim=7, intrinsic_factor="shape", beta=1.0, **kwargs):
        factor_latents = [(str(name), int(dims)) for name, dims in factor_latents]
        if any(dims <= 0 for _, dims in factor_latents) or intrinsic_dim < 0:
            raise ValueError(f"Every factor latent needs >= 1 dim and intrinsic_dim >= 0; got "
                             f"{factor_latents}, intrinsic_dim={intrinsic_dim}.")
        names = [name for name, _ in factor_latents]
        if len(set(names)) != len(names) or intrinsic_factor in names:
            raise ValueError(f"Factor latent names must be distinct and differ from the "
                             f"intrinsic factor; got {names} and {intrinsic_factor!r}.")
        contract.check_finite(beta=beta)
        if beta < 0:
            raise ValueError(f"beta must be >= 0, got {beta}.")
        kwargs.pop("latent_dim", None)
        self.factor_latents = factor_latents
        self.intrinsic_dim = int(intrinsic_dim)
        self.intrinsic_factor = str(intrinsic_factor)
        self.beta = float(beta)
        latent_dim = sum(dims for _, dims in factor_latents) + self.intrinsic_dim
        super().__init__(latent_dim=latent_dim, **kwargs)
        masks, start = [], 0
        for _, dims in factor_latents + [(self.intrinsic_factor, self.intrinsic_dim)]:
            mask = np.zeros(latent_dim, np.float32)
            mask[start:start + dims] = 1.0
            masks.append(mask)
            start += dims
        masks.append(np.ones(latent_dim, np.float32))  # a batch with every factor free
        self.group_masks = np.stack(masks)

    @property
    def group_factors(self):
        """Dataset factor names in group order (factor latents, then the intrinsic factor)."""
        groups = [name for name, _ in self.factor_latents]
        return groups + ([self.intrinsic_factor] if self.intrinsic_dim else [])

    def factor_dims(self, name):
        """Latent dims of the group named `name` (a factor latent or the intrinsic factor)."""
        start = 0
        for group, dims in self.factor_latents + [(self.intrinsic_factor, self.intrinsic_dim)]:
            if group == name:
                return list(range(start, start + dims))
            start += dims
        raise ValueError(f"No latent group {name!r}; groups: {self.group_factors}.")

    def code_layout(self):
        """One gaussian part per factor latent group, then the intrinsic block."""
        groups = self.factor_latents + [(self.intrinsic_factor, self.intrinsic_dim)]
        return tuple(contract.CodePart(name, dims, "gaussian", traversable=True,
                                       description=f"varies with the dataset factor {name!r}")
                     for name, dims in groups if dims)

    def active_mask(self, group):
        """`(batch, latent_dim)` 1/0 mask of the latents that vary in each example's batch."""
        return ops.take(ops.convert_to_tensor(self.group_masks), ops.cast(group, "int32"),
                        axis=0)

    def compute_losses(self, data, training=False):
        images, group, _ = keras.utils.unpack_x_y_sample_weight(data)
        images = ops.convert_to_tensor(images, dtype="float32")
        mean, log_var = self.posterior(images, training=training)
        z = self.reparameterize(mean, log_var, training)
        if group is None:
            active = ops.ones_like(z)
        else:
            active = self.active_mask(ops.reshape(group, (-1,)))
        clamped, clamp = losses.clamp_latents(z, active)
        logits = call_network(self.decoder, clamped, training)
        recon = ops.mean(self.reconstruction_loss(images, logits))
        kl = ops.mean(losses.gaussian_kl(mean, log_var))
        clamp = ops.mean(clamp)
        loss = recon + self.beta * kl + clamp
        return loss, {"loss": loss, "recon": recon, "kl": kl, "clamp": clamp}

    def get_config(self):
        config = super().get_config()
        config.pop("latent_dim")
        config.update(factor_latents=[list(group) for group in self.factor_latents],
                      intrinsic_dim=self.intrinsic_dim, intrinsic_factor=self.intrinsic_factor,
                      beta=self.beta)
        return config
