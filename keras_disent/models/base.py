"""Shared pieces of every keras-disent model: the model contract and the VAE family's base.

`DisentModel` is the contract every method implements (see README "Writing a method"):
  - numpy level: `encode(images) -> (n, code_dim)`, `decode(codes) -> images in [0, 1]`,
    `sample(n, seed)`, `reconstruct(images)`, `traverse(image, dims, values)`;
  - `code_layout()`: the named parts of the code (`contract.CodePart`), and `capabilities`:
    what the model can do (`contract.CAPABILITIES`), checked by metrics, figures, export and
    the CLI with `contract.require_capability`;
  - training: `compute_losses(data, training) -> (loss, logs)` (and `training_phases()` when
    it has several optimizers); `train_step`/`test_step` run under tensorflow, jax and torch.
    With `training=False` it changes no state: BatchNorm runs in inference mode, random draws
    use fixed seeds (`noise_seed`) instead of advancing the model's seed generators, and step
    counters do not move.
`GaussianVAE` adds the encoder/decoder/sampling API shared by the VAE family.
"""

import keras
import numpy as np
from keras import ops

from keras_disent import losses, networks, training
from keras_disent import contract
from keras_disent.contract import check_codes, check_count, check_images, \
    predict_batched
from keras_disent.speed import call_network

__all__ = ["DisentModel", "GaussianVAE", "check_images", "predict_batched", "unpack_images"]


def unpack_images(data):
    """The image tensor of a batch given as `x`, `(x,)` or `(x, y[, w])`."""
    x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
    return ops.convert_to_tensor(x, dtype="float32")


def unpack_domain_batch(data, model_name):
    """`(images float32, domain ids int32 (n,), class labels int32 (n,) or None)` of a
    multi-domain batch, given as `(images, domain ids)` or `(images, (domain ids, labels))`
    (`DigitDomains.batches`)."""
    images, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
    if targets is None:
        raise ValueError(f"{model_name} trains on (images, domain ids) batches; got images "
                         "only.")
    labels = None
    if isinstance(targets, (tuple, list)):
        targets, labels = targets
        labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
    return (ops.convert_to_tensor(images, dtype="float32"),
            ops.cast(ops.reshape(targets, (-1,)), "int32"), labels)


def softmax(logits):
    """Numpy softmax over the last axis, stable for large logits."""
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def sigmoid_decode(decoder, codes, code_dim, batch_size=256):
    """Images in [0, 1] (the sigmoid of `decoder`'s logits) for checked codes `(n, code_dim)`."""
    codes = check_codes(codes, code_dim)
    logits = predict_batched(decoder.predict_on_batch, codes, batch_size)
    return 0.5 * (1.0 + np.tanh(0.5 * logits))  # the sigmoid, without overflow


def sigmoid_decoder_network(decoder, code_dim, input_name="codes"):
    """A Keras model codes -> images in [0, 1] around a logits `decoder`, for export."""
    codes = keras.Input((code_dim,), name=input_name)
    images = keras.layers.Activation("sigmoid", name="images")(decoder(codes))
    return keras.Model(codes, images, name="decoder_export")


def sample_gaussian(mean, log_var, seed):
    """z = mean + exp(log_var / 2) * eps with eps ~ N(0, I) drawn from `seed` (keras.ops)."""
    return mean + ops.exp(0.5 * log_var) * keras.random.normal(ops.shape(mean), seed=seed)


def leading_columns_network(encoder, image_shape, size):
    """A Keras model images -> the first `size` columns of `encoder`'s output (the mean of a
    posterior whose statistics are stacked), for export."""
    images = keras.Input(image_shape, name="images")
    codes = keras.layers.Lambda(lambda stats: stats[:, :size], name="codes")(encoder(images))
    return keras.Model(images, codes, name="encoder_export")


class DisentModel(keras.Model):
    """Base class of every method: the model contract plus the multi-backend train/test steps.

    A subclass sets `log_keys` and `capabilities`, and implements `compute_losses`,
    `code_layout`, and the numpy API its capabilities promise: `encode` ("encoder"),
    `decode` and `decoder_network` ("decoder"), `sample_codes` ("prior"). Everything else
    (`sample`, `reconstruct`, `traverse`, `latent_activity`, `describe_code`) is built here on
    top of those.
    """

    log_keys = ("loss",)
    capabilities = frozenset()

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

    def default_optimizer(self, learning_rate=None):
        """What `compile` should get when the user names nothing: Adam, or a dict of them.

        `learning_rate=None` keeps the method's paper value(s); a number replaces every
        optimizer's rate. `training.describe_optimizers(model)` records what was used.
        """
        return keras.optimizers.Adam(5e-4 if learning_rate is None else learning_rate)

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

    def fit(self, x=None, y=None, *args, **kwargs):
        """`keras.Model.fit`, after checking the training images as `encode` checks its
        input: float values in [0, 1], no NaN, the model's image shape (numpy arrays are
        checked whole; a `PyDataset` by its first batch)."""
        self._check_training_data(x, y)
        return super().fit(x, y, *args, **kwargs)

    def _check_training_data(self, x, y):
        image_shape = getattr(self, "image_shape", None)
        if image_shape is None:
            return
        if isinstance(x, keras.utils.PyDataset) and len(x):
            x, y = x[0], None
        if contract.CLASSIFIER in self.capabilities:
            self._check_training_labels(x, y)
        if getattr(self, "num_domains", None):
            self._check_training_domains(x, y)
        if isinstance(x, np.ndarray):  # the images themselves: any shape error is reported
            check_images(x, image_shape, "training images")
        # In a tuple (images, group) or a second input (domain B images), the image-shaped
        # arrays are images; the others (labels, groups) are not this check's business.
        others = (list(x) if isinstance(x, (tuple, list)) else []) + [y]
        for part in others:
            if isinstance(part, np.ndarray) and tuple(part.shape[1:]) == tuple(image_shape):
                check_images(part, image_shape, "training images")

    def _check_training_domains(self, x, y):
        """A multi-domain model (UFDN, DRIT) gets domain ids in 0..num_domains-1 (a one-hot of
        an id out of range would silently be all zeros)."""
        if y is None and isinstance(x, (tuple, list)) and len(x) == 2:
            x, y = x
        if isinstance(y, (tuple, list)):  # (domain ids, class labels)
            y = y[0]
        if y is None:
            raise ValueError(f"{type(self).__name__} trains on (images, domain ids) batches, "
                             "e.g. DigitDomains.batches(); got images only.")
        num = len(x) if isinstance(x, np.ndarray) else None
        contract.check_labels(np.asarray(keras.ops.convert_to_numpy(y)), self.num_domains, num,
                              "domain ids")

    def _check_training_labels(self, x, y):
        """A model that learns from labels gets them, as whole numbers in 0..num_classes-1."""
        if y is None and isinstance(x, (tuple, list)) and len(x) == 2:
            x, y = x
        if y is None:
            raise ValueError(
                f"{type(self).__name__} trains on (images, labels): call fit(images, labels) or "
                "fit a dataset that yields (images, labels) batches, e.g. "
                "keras_disent.data.labelled_batches(dataset, label=...).")
        num = len(x) if isinstance(x, np.ndarray) else None
        contract.check_labels(keras.ops.convert_to_numpy(y) if not isinstance(y, np.ndarray)
                              else y, self.num_classes, num, "training labels")

    def train_step(self, *args):
        return training.train_step(self, *args)

    def test_step(self, *args):
        return training.test_step(self, *args)

    # -- schedules ------------------------------------------------------------------------------
    def add_step_counter(self):
        """Adds `train_steps`, a saved int weight counting training loss evaluations, for a
        schedule over training (Burgess's capacity, UFDN's adversary ramp)."""
        self.train_steps = self.add_weight(shape=(), initializer="zeros", dtype="int32",
                                           trainable=False, name="train_steps")

    def counted_step(self, training):
        """Counts one step when `training` (evaluation does not); returns `train_steps`."""
        if training:
            self.train_steps.assign_add(1)
        return self.train_steps

    # -- the contract: randomness --------------------------------------------------------------
    def noise_seed(self, generator, training, offset=0):
        """The seed for one random draw: `generator` while training; a fixed integer (the
        model's seed + `offset`) otherwise, so evaluation neither advances a seed generator nor
        differs between calls."""
        if training:
            return generator
        return (0 if self.seed is None else int(self.seed)) + 7919 * (offset + 1)

    # -- the contract: codes -----------------------------------------------------------------
    def code_layout(self):
        """The named parts of the code vector, in order: a tuple of `contract.CodePart`."""
        raise NotImplementedError

    @property
    def code_dim(self):
        """Length of the code vector that `encode` returns and `decode` takes."""
        return sum(part.size for part in self.code_layout())

    def describe_code(self):
        """One line per code part: name, dims, kind, traversable, description."""
        lines, start = [], 0
        for part in self.code_layout():
            traversable = ", traversable" if part.traversable else ""
            lines.append(f"{part.name}: dims {start}..{start + part.size - 1} ({part.kind}"
                         f"{traversable}){': ' + part.description if part.description else ''}")
            start += part.size
        return "\n".join(lines)

    def require(self, capability, purpose):
        """Raises `contract.MissingCapabilityError` unless this model has `capability`."""
        return contract.require_capability(self, capability, purpose)

    # -- the contract: numpy API -------------------------------------------------------------
    def encode(self, images, batch_size=256):
        """Codes `(n, code_dim)` of images `(n, H, W, C)` in [0, 1] (capability "encoder")."""
        self.require(contract.ENCODER, "encode images")
        raise NotImplementedError

    def decode(self, codes, batch_size=256):
        """Images `(n, H, W, C)` in [0, 1] from codes `(n, code_dim)` (capability "decoder")."""
        self.require(contract.DECODER, "decode codes")
        raise NotImplementedError

    def sample_codes(self, num, seed=None):
        """`num` codes drawn from the model's prior (capability "prior")."""
        self.require(contract.PRIOR, "sample codes from a prior")
        raise NotImplementedError

    def decoder_network(self):
        """A Keras model codes `(n, code_dim)` -> images in [0, 1] (for export)."""
        self.require(contract.DECODER, "build a decoder network")
        raise NotImplementedError

    def encoder_network(self):
        """A Keras model images -> codes `(n, code_dim)`, equal to `encode` (for export)."""
        self.require(contract.ENCODER, "build an encoder network")
        raise NotImplementedError

    def class_probabilities(self, images, batch_size=256):
        """Class probabilities `(n, num_classes)` of images (capability "classifier")."""
        self.require(contract.CLASSIFIER, "classify images")
        raise NotImplementedError

    def predict_labels(self, images, batch_size=256):
        """The most probable class of each image: int `(n,)` (capability "classifier")."""
        self.require(contract.CLASSIFIER, "classify images")
        return np.argmax(self.class_probabilities(images, batch_size), axis=1).astype(np.int32)

    def accuracy(self, images, labels, batch_size=256):
        """Fraction of `images` whose predicted label equals `labels` (capability
        "classifier")."""
        self.require(contract.CLASSIFIER, "classify images")
        labels = contract.check_labels(labels, self.num_classes, len(images))
        return float(np.mean(self.predict_labels(images, batch_size) == labels))

    def sample(self, num, seed=None, batch_size=256):
        """`num` images decoded from codes drawn from the prior."""
        self.require(contract.PRIOR, "sample images")
        self.require(contract.DECODER, "sample images")
        return self.decode(self.sample_codes(check_count(num), seed), batch_size)

    def reconstruct(self, images, batch_size=256):
        """`decode(encode(images))`."""
        self.require(contract.ENCODER, "reconstruct images")
        self.require(contract.DECODER, "reconstruct images")
        return self.decode(self.encode(images, batch_size), batch_size)

    def traversable_dims(self):
        """Code dims that `traverse` may sweep on their own (from the layout)."""
        dims, start = [], 0
        for part in self.code_layout():
            if part.traversable:
                dims.extend(range(start, start + part.size))
            start += part.size
        return dims

    def traverse(self, image, dims=None, values=np.linspace(-2.0, 2.0, 9)):
        """Decoded sweeps of each code dim in `dims` around the code of one image.

        Args:
            image: one image `(H, W, C)`.
            dims: code dims to sweep (default: every traversable dim).
            values: the values each dim takes, one column each.

        Returns:
            numpy `(len(dims), len(values), H, W, C)`.
        """
        self.require(contract.TRAVERSABLE, "traverse the code")
        allowed = self.traversable_dims()
        dims = allowed if dims is None else [int(d) for d in dims]
        bad = [d for d in dims if d not in allowed]
        if bad:
            raise ValueError(f"dims {bad} are not traversable for {type(self).__name__}; "
                             f"traversable dims: {allowed}.\n{self.describe_code()}")
        values = np.asarray(values, np.float32)
        code = self.encode(np.asarray(image)[None])[0]
        codes = np.repeat(code[None, None], len(dims), 0).repeat(len(values), 1)
        for row, dim in enumerate(dims):
            codes[row, :, dim] = values
        images = self.decode(codes.reshape(-1, code.shape[0]))
        return images.reshape((len(dims), len(values)) + images.shape[1:])

    def latent_activity(self, images, batch_size=256):
        """How much each code dim is used over `images`: `(values (code_dim,), label)`.

        The standard deviation of each dim's code here; the VAE family returns its KL.
        """
        self.require(contract.ENCODER, "measure latent activity")
        return np.std(self.encode(images, batch_size), axis=0), "std"


class GaussianVAE(DisentModel):
    """A VAE with a diagonal Gaussian posterior q(z|x) and a conv encoder/decoder.

    Subclasses implement `regularizer(kl, mean, log_var, z, training) -> (scalar, logs)`; the
    loss is `mean(reconstruction) + regularizer`, as in disentanglement_lib's BaseVAE.
    """

    log_keys = ("loss", "recon", "kl")
    capabilities = frozenset({contract.ENCODER, contract.DECODER, contract.PRIOR,
                              contract.TRAVERSABLE})

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

    def reparameterize(self, mean, log_var, training=True):
        """z = mean + sigma * eps; eps from the seed generator while training, from a fixed
        seed otherwise (evaluation changes no state)."""
        return sample_gaussian(mean, log_var, self.noise_seed(self.seed_generator, training))

    def reconstruction_loss(self, images, logits):
        if self.reconstruction == "bernoulli":
            return losses.bernoulli_reconstruction(images, logits)
        return losses.gaussian_reconstruction(images, logits)

    def regularizer(self, kl, mean, log_var, z, training):
        raise NotImplementedError

    def compute_losses(self, data, training=False):
        images = unpack_images(data)
        mean, log_var = self.posterior(images, training=training)
        z = self.reparameterize(mean, log_var, training)
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

    # -- the contract ----------------------------------------------------------------------------
    def code_layout(self):
        return (contract.CodePart("z", self.latent_dim, "gaussian", traversable=True,
                                  description="posterior mean of q(z|x); prior N(0, I)"),)

    def encode(self, images, batch_size=256):
        """Mean code E[q(z|x)] for images `(n, H, W, C)` in [0, 1] -> numpy `(n, latent_dim)`."""
        return self.encode_distribution(images, batch_size)[0]

    def encode_distribution(self, images, batch_size=256):
        """`(mean, log_var)` of q(z|x) as numpy arrays."""
        images = check_images(images, self.image_shape)
        stats = predict_batched(self.encoder.predict_on_batch, images, batch_size)
        return stats[:, :self.latent_dim], stats[:, self.latent_dim:]

    def decode(self, codes, batch_size=256):
        """Pixel means (sigmoid of the decoder logits) for codes `(n, latent_dim)`."""
        return sigmoid_decode(self.decoder, codes, self.latent_dim, batch_size)

    def sample_codes(self, num, seed=None):
        """Codes from the prior N(0, I)."""
        rng = np.random.default_rng(seed)
        return rng.standard_normal((check_count(num), self.latent_dim)).astype(np.float32)

    def decoder_network(self):
        return sigmoid_decoder_network(self.decoder, self.latent_dim, "latents")

    def encoder_network(self):
        return leading_columns_network(self.encoder, self.image_shape, self.latent_dim)

    def kl_per_dim(self, images, batch_size=256):
        """Average KL(q(z_j|x) || p(z_j)) per latent dim over `images`: `(latent_dim,)`."""
        mean, log_var = self.encode_distribution(images, batch_size)
        return np.mean(0.5 * (mean ** 2 + np.exp(log_var) - log_var - 1.0), axis=0)

    def latent_activity(self, images, batch_size=256):
        """Average KL per latent dim (a dim with KL ~0 carries no information)."""
        return self.kl_per_dim(images, batch_size), "KL"
