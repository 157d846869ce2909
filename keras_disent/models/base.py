"""Shared pieces of every keras-disent model.

`DisentModel` connects a model to the multi-backend training core: a model implements
`compute_losses(data, training) -> (loss, logs)` (and `training_phases()` when it has several
optimizers); `train_step`/`test_step` run under tensorflow, jax and torch. `GaussianVAE` adds
the encoder/decoder/sampling API shared by the VAE family.
"""

import keras
import numpy as np
from keras import ops

from keras_disent import losses, networks, training
from keras_disent.training import call_network


def unpack_images(data):
    """The image tensor of a batch given as `x`, `(x,)` or `(x, y[, w])`."""
    x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
    return ops.convert_to_tensor(x, dtype="float32")


def check_images(images, image_shape, name="images"):
    """Validates a host-side batch of images; returns it as float32 numpy.

    Raises a ValueError that says what to do for: wrong rank or shape, integer pixel values
    (e.g. uint8 0..255), or values outside [0, 1].
    """
    array = np.asarray(images)
    expected = tuple(image_shape)
    if array.ndim == len(expected):
        raise ValueError(
            f"{name} must be a batch of shape (n, {', '.join(map(str, expected))}); got a single "
            f"image of shape {array.shape}. Add a batch axis: x[None]."
        )
    if array.ndim != len(expected) + 1 or tuple(array.shape[1:]) != expected:
        raise ValueError(
            f"{name} must have shape (n, {', '.join(map(str, expected))}), got {array.shape}."
        )
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(
            f"{name} must be float values in [0, 1], got dtype {array.dtype}"
            + (" (scale with x.astype('float32') / 255)." if array.dtype == np.uint8 else ".")
        )
    if array.size:
        low, high = float(array.min()), float(array.max())
        if low < 0.0 or high > 1.0 or not np.isfinite([low, high]).all():
            raise ValueError(
                f"{name} must have values in [0, 1], got range [{low:.3g}, {high:.3g}]"
                + (" (looks like 0..255: divide by 255)." if high > 1.0 and high <= 255 else ".")
            )
    return array.astype(np.float32, copy=False)


def _padded_batches(array, batch_size, fn):
    """Applies `fn` to fixed-size batches (last one zero-padded: one compiled shape)."""
    outputs = []
    for begin in range(0, len(array), batch_size):
        chunk = array[begin:begin + batch_size]
        size = len(chunk)
        if size < batch_size and len(array) > batch_size:
            pad = np.zeros((batch_size - size,) + chunk.shape[1:], chunk.dtype)
            chunk = np.concatenate([chunk, pad])
        outputs.append(np.asarray(fn(chunk))[:size])
    if not outputs:
        raise ValueError("Received an empty batch (0 rows).")
    return np.concatenate(outputs)


class DisentModel(keras.Model):
    """Base class: log trackers and the multi-backend train/test steps.

    Subclasses set `log_keys` and implement `compute_losses`.
    """

    log_keys = ("loss",)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.trackers = {key: keras.metrics.Mean(name=key) for key in self.log_keys}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def update_trackers(self, logs):
        """Adds this step's logs to the trackers; returns every tracker's running mean."""
        for key, value in logs.items():
            self.trackers[key].update_state(value)
        return {key: tracker.result() for key, tracker in self.trackers.items()}

    def compute_losses(self, data, training=False):
        """`(scalar loss, {log key: scalar})` for one batch; written with keras.ops only."""
        raise NotImplementedError

    def default_optimizer(self, learning_rate=5e-4):
        """What `compile` should get when the user names nothing: Adam, or a dict of them."""
        return keras.optimizers.Adam(learning_rate)

    def training_phases(self):
        """The gradient updates of one train step; one phase over all weights by default."""
        return [training.Phase(lambda data: self.compute_losses(data, training=True),
                               self.trainable_variables)]

    def compile(self, optimizer="adam", **kwargs):
        """Compiles with one optimizer, or a dict `{phase optimizer name: optimizer}`."""
        if isinstance(optimizer, dict):
            optimizer = training.OptimizerGroup(optimizer)
        if isinstance(optimizer, training.OptimizerGroup):
            optimizer.bind(self._phase_variables)
        super().compile(optimizer=optimizer, **kwargs)

    def compile_from_config(self, config):
        """Restores the optimizer(s) saved in a `.keras` file."""
        optimizer = keras.saving.deserialize_keras_object(config.get("optimizer"))
        if optimizer is not None:
            self.compile(optimizer=optimizer)
            if self.built:
                self.optimizer.build(self.trainable_variables)

    def _phase_variables(self):
        return {phase.optimizer: list(phase.variables) for phase in self.training_phases()}

    def train_step(self, *args):
        return training.train_step(self, *args)

    def test_step(self, *args):
        return training.test_step(self, *args)


class GaussianVAE(DisentModel):
    """A VAE with a diagonal Gaussian posterior q(z|x) and a conv encoder/decoder.

    Subclasses implement `regularizer(kl, mean, log_var, z, training) -> (scalar, logs)`; the
    loss is `mean(reconstruction) + regularizer`, as in disentanglement_lib's BaseVAE.
    """

    log_keys = ("loss", "recon", "kl")

    def __init__(self, latent_dim=10, image_shape=(64, 64, 1), reconstruction="bernoulli",
                 conv_channels=(32, 32, 32, 32), dense_units=(256, 256), kernel_size=4,
                 decoder_upsample="transpose", batch_norm=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        if int(latent_dim) != latent_dim or latent_dim <= 0:
            raise ValueError(f"latent_dim must be a positive integer, got {latent_dim}.")
        if reconstruction not in ("bernoulli", "gaussian"):
            raise ValueError(
                f"reconstruction must be 'bernoulli' or 'gaussian', got {reconstruction!r}."
            )
        self.latent_dim = int(latent_dim)
        self.image_shape = tuple(int(d) for d in image_shape)
        self.reconstruction = reconstruction
        self.conv_channels = tuple(conv_channels)
        self.dense_units = tuple(dense_units)
        self.kernel_size = int(kernel_size)
        self.decoder_upsample = decoder_upsample
        self.batch_norm = bool(batch_norm)
        self.seed = seed
        self.encoder = networks.conv_encoder(
            self.image_shape, 2 * self.latent_dim, self.conv_channels, self.kernel_size,
            self.dense_units, self.batch_norm)
        self.decoder = networks.conv_decoder(
            self.latent_dim, self.image_shape, self.conv_channels, self.kernel_size,
            self.dense_units, self.decoder_upsample, self.batch_norm)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update(
            latent_dim=self.latent_dim, image_shape=list(self.image_shape),
            reconstruction=self.reconstruction, conv_channels=list(self.conv_channels),
            dense_units=list(self.dense_units), kernel_size=self.kernel_size,
            decoder_upsample=self.decoder_upsample, batch_norm=self.batch_norm, seed=self.seed,
        )
        return config

    # -- graph pieces (keras.ops) -------------------------------------------------------------
    def posterior(self, images, training=False):
        """Mean and log-variance of q(z|x), each `(batch, latent_dim)`."""
        stats = call_network(self.encoder, images, training)
        return stats[:, :self.latent_dim], stats[:, self.latent_dim:]

    def reparameterize(self, mean, log_var):
        noise = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
        return mean + ops.exp(0.5 * log_var) * noise

    def reconstruction_loss(self, images, logits):
        if self.reconstruction == "bernoulli":
            return losses.bernoulli_reconstruction(images, logits)
        return losses.gaussian_reconstruction(images, logits)

    def regularizer(self, kl, mean, log_var, z, training):
        raise NotImplementedError

    def compute_losses(self, data, training=False):
        images = unpack_images(data)
        mean, log_var = self.posterior(images, training=training)
        z = self.reparameterize(mean, log_var)
        logits = call_network(self.decoder, z, training)
        recon = ops.mean(self.reconstruction_loss(images, logits))
        kl = losses.gaussian_kl(mean, log_var)
        regularizer, logs = self.regularizer(kl, mean, log_var, z, training)
        loss = recon + regularizer
        logs.update(loss=loss, recon=recon, kl=ops.mean(kl))
        return loss, logs

    def call(self, images, training=False):
        """Reconstruction probabilities from the posterior mean."""
        mean, _ = self.posterior(images, training=training)
        return ops.sigmoid(call_network(self.decoder, mean, training))

    # -- numpy API ------------------------------------------------------------------------------
    def encode(self, images, batch_size=256):
        """Mean code E[q(z|x)] for images `(n, H, W, C)` in [0, 1] -> numpy `(n, latent_dim)`."""
        images = check_images(images, self.image_shape)
        stats = _padded_batches(images, batch_size, self.encoder.predict_on_batch)
        return stats[:, :self.latent_dim]

    def encode_distribution(self, images, batch_size=256):
        """`(mean, log_var)` of q(z|x) as numpy arrays."""
        images = check_images(images, self.image_shape)
        stats = _padded_batches(images, batch_size, self.encoder.predict_on_batch)
        return stats[:, :self.latent_dim], stats[:, self.latent_dim:]

    def decode(self, latents, batch_size=256):
        """Pixel means (sigmoid of the decoder logits) for codes `(n, latent_dim)`."""
        latents = np.asarray(latents, np.float32)
        if latents.ndim != 2 or latents.shape[1] != self.latent_dim:
            raise ValueError(
                f"latents must have shape (n, {self.latent_dim}), got {latents.shape}."
            )
        logits = _padded_batches(latents, batch_size, self.decoder.predict_on_batch)
        return 0.5 * (1.0 + np.tanh(0.5 * logits))  # the sigmoid, without overflow

    def sample(self, num, seed=None):
        """`num` images decoded from the prior N(0, I)."""
        rng = np.random.default_rng(seed)
        return self.decode(rng.standard_normal((num, self.latent_dim)).astype(np.float32))

    def reconstruct(self, images, batch_size=256):
        """Decodes the posterior mean of each image."""
        return self.decode(self.encode(images, batch_size), batch_size)

    def kl_per_dim(self, images, batch_size=256):
        """Average KL(q(z_j|x) || p(z_j)) per latent dim over `images`: `(latent_dim,)`."""
        mean, log_var = self.encode_distribution(images, batch_size)
        return np.mean(0.5 * (mean ** 2 + np.exp(log_var) - log_var - 1.0), axis=0)

    def traverse(self, image, dims=None, values=np.linspace(-2.0, 2.0, 9)):
        """Decoded sweeps of each latent in `dims` around the code of one image.

        Returns:
            numpy `(len(dims), len(values), H, W, C)`.
        """
        code = self.encode(np.asarray(image)[None])[0]
        dims = range(self.latent_dim) if dims is None else dims
        rows = []
        for dim in dims:
            codes = np.repeat(code[None], len(values), axis=0)
            codes[:, dim] = values
            rows.append(codes)
        return self.decode(np.concatenate(rows)).reshape(
            (len(rows), len(values)) + self.image_shape)
