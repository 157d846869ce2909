"""Unsupervised content transfer (Press, Galanti, Benaim, Wolf, ICLR 2019)."""

import keras
import numpy as np
from keras import layers, ops

from keras_disent.speed import conv_layers as kd_layers
from keras_disent import training
from keras_disent import contract
from keras_disent.models.base import DisentModel
from keras_disent.contract import check_codes, check_images, predict_batched
from keras_disent.speed import call_network


def _conv_encoder(image_shape, channels, code_channels, name, pooled=False):
    """Stride-2 4x4 convs with BatchNorm + LeakyReLU(0.2), then a 1x1 conv to the code map.

    `pooled`: the code is one vector (global average pool + dense) repeated over the map, so
    it cannot say where the content is, only what it is.
    """
    inputs = keras.Input(image_shape, name="images")
    x = inputs
    for i, filters in enumerate(channels):
        x = kd_layers.Conv2D(filters, 4, strides=2, padding="same", name=f"conv{i}")(x)
        if i > 0:
            x = layers.BatchNormalization(name=f"conv{i}_bn")(x)
        x = layers.LeakyReLU(0.2)(x)
    if pooled:
        grid = x.shape[1:3]
        vector = layers.Dense(code_channels, name="code")(layers.GlobalAveragePooling2D()(x))
        code = layers.UpSampling2D(grid)(layers.Reshape((1, 1, code_channels))(vector))
    else:
        code = layers.Conv2D(code_channels, 1, name="code")(x)
    return keras.Model(inputs, code, name=name)


def _conv_decoder(code_shape, image_channels, channels, name="decoder"):
    """Mirror of the encoders: transposed convs up to the image, sigmoid output."""
    inputs = keras.Input(code_shape, name="codes")
    x = inputs
    for i, filters in enumerate(list(channels[:-1])[::-1]):
        x = kd_layers.Conv2DTranspose(filters, 4, strides=2, padding="same",
                                      name=f"deconv{i}")(x)
        x = layers.BatchNormalization(name=f"deconv{i}_bn")(x)
        x = layers.ReLU()(x)
    x = kd_layers.Conv2DTranspose(image_channels, 4, strides=2, padding="same",
                                  name="to_image")(x)
    return keras.Model(inputs, layers.Activation("sigmoid", name="images")(x), name=name)


def _code_discriminator(code_shape, units, name="discriminator"):
    inputs = keras.Input(code_shape, name="common_code")
    x = layers.Flatten()(inputs)
    for i in range(2):
        x = layers.Dense(units, name=f"dense{i}")(x)
        x = layers.LeakyReLU(0.2)(x)
    return keras.Model(inputs, layers.Dense(1, name="logit")(x), name=name)


@keras.saving.register_keras_serializable(package="keras_disent")
class ContentTransfer(DisentModel):
    """Two encoders and one decoder that separate the content only domain B has.

    Domain A images lack a piece of content that domain B images have (glasses, in the
    paper). E1 encodes the content common to both domains, E2 the B-specific content, and D
    decodes `[E1(x), E2(x)]`:
      - reconstruct b from `[E1(b), E2(b)]` and a from `[E1(a), 0]` (the zero code for A);
      - domain confusion: a discriminator on E1's code tells the domains apart, and E1 learns
        to make it fail (flipped labels, weight `confusion_weight`, paper: 0.001), so the
        B-specific content can only pass through E2.
    Content addition: `D(E1(a), E2(b))`; removal: `D(E1(b), 0)`.

    Train steps have two phases through the training core's `OptimizerGroup`:
    "autoencoder" (E1, E2, D: L1 reconstructions + confusion) then "discriminator" (binary
    cross-entropy on E1's codes, A = 0, B = 1). Data: unpaired batches `(a, b)`
    (`data.GlassesBenchmark().batches(...)` or `data.domain_pairs(...)`).

    Args:
        image_shape: `(H, W, C)` in [0, 1]; 64x64 or 128x128 in the paper's settings (any size
            divisible by 2 ** len(channels)).
        channels: encoder conv filters (the decoder mirrors them).
        common_channels, specific_channels: channels of the E1 and E2 code maps (E2's is
            small: it only carries the added content).
        discriminator_units: width of the code discriminator's two hidden layers.
        confusion_weight: weight of E1's domain-confusion loss (paper: 0.001).
        specific_code: "map" (the paper: E2's code is a spatial map, fine for aligned faces)
            or "global" (one vector repeated over the map, so it cannot say where the content
            is). On the unaligned benchmark (`GlassesBenchmark(aligned=False)`) neither adds
            B's content at A's object: the map code carries B's glasses position.
        seed: unused by the losses (no sampling); kept for a uniform config.

    Compile with `model.compile(model.default_optimizer())`: Adam 2e-4, betas (0.5, 0.999),
    gradient norm clipped at 1 (paper).

    Logs: loss (reconstruction), recon_a, recon_b, confusion, d_loss.

    Reference:
        Press, Galanti, Benaim, Wolf 2019, Emerging Disentanglement in Auto-Encoder Based
        Unsupervised Image Content Transfer, ICLR, Sec. 3 (Eq. 1-4).
    """

    log_keys = ("loss", "recon_a", "recon_b", "confusion", "d_loss")
    capabilities = frozenset({contract.ENCODER, contract.DECODER, contract.PAIRED_DOMAINS})

    def __init__(self, image_shape=(64, 64, 1), channels=(32, 64, 128, 256),
                 common_channels=64, specific_channels=4, discriminator_units=256,
                 confusion_weight=0.001, specific_code="map", seed=None, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = tuple(int(d) for d in image_shape)
        self.channels = tuple(int(c) for c in channels)
        factor = 2 ** len(self.channels)
        if len(self.image_shape) != 3 or self.image_shape[0] % factor or \
                self.image_shape[1] % factor:
            raise ValueError(f"image_shape must be (H, W, C) with H and W divisible by "
                             f"{factor}, got {image_shape}.")
        contract.check_finite(confusion_weight=confusion_weight)
        if common_channels <= 0 or specific_channels <= 0 or confusion_weight < 0:
            raise ValueError("common_channels and specific_channels must be > 0 and "
                             f"confusion_weight >= 0; got {common_channels}, "
                             f"{specific_channels}, {confusion_weight}.")
        if specific_code not in ("map", "global"):
            raise ValueError(f"specific_code must be 'map' or 'global', got {specific_code!r}.")
        self.common_channels, self.specific_channels = int(common_channels), int(specific_channels)
        self.specific_code = specific_code
        self.discriminator_units = int(discriminator_units)
        self.confusion_weight = float(confusion_weight)
        self.seed = seed
        grid = (self.image_shape[0] // factor, self.image_shape[1] // factor)
        self.code_grid = grid
        self.common_encoder = _conv_encoder(self.image_shape, self.channels,
                                            self.common_channels, "common_encoder")
        self.specific_encoder = _conv_encoder(self.image_shape, self.channels,
                                              self.specific_channels, "specific_encoder",
                                              pooled=specific_code == "global")
        self.decoder = _conv_decoder(grid + (self.common_channels + self.specific_channels,),
                                     self.image_shape[2], self.channels)
        self.discriminator = _code_discriminator(grid + (self.common_channels,),
                                                 self.discriminator_units)
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update(image_shape=list(self.image_shape), channels=list(self.channels),
                      common_channels=self.common_channels,
                      specific_channels=self.specific_channels,
                      discriminator_units=self.discriminator_units,
                      confusion_weight=self.confusion_weight,
                      specific_code=self.specific_code, seed=self.seed)
        return config

    def default_optimizer(self, learning_rate=None):
        """Adam 2e-4 (or `learning_rate`) for both phases, as in the paper."""
        rate = 2e-4 if learning_rate is None else learning_rate
        return {"autoencoder": keras.optimizers.Adam(rate, beta_1=0.5, beta_2=0.999,
                                                     clipnorm=1.0),
                "discriminator": keras.optimizers.Adam(rate, beta_1=0.5, beta_2=0.999,
                                                       clipnorm=1.0)}

    # -- graph pieces (keras.ops) -------------------------------------------------------------
    def _decode(self, common, specific, training):
        return call_network(self.decoder, ops.concatenate([common, specific], axis=-1), training)

    def _zero_specific(self, common):
        shape = ops.shape(common)
        return ops.zeros((shape[0], shape[1], shape[2], self.specific_channels), common.dtype)

    @staticmethod
    def _split(data):
        if isinstance(data, (tuple, list)) and len(data) == 1:  # fit(x=(a, b))
            data = data[0]
        a, b, _ = keras.utils.unpack_x_y_sample_weight(data)
        if b is None:
            raise ValueError("ContentTransfer trains on unpaired batches (a, b): domain A "
                             "images and domain B images.")
        return (ops.convert_to_tensor(a, dtype="float32"),
                ops.convert_to_tensor(b, dtype="float32"))

    def autoencoder_loss(self, data, training=True):
        a, b = self._split(data)
        common_a = call_network(self.common_encoder, a, training)
        common_b = call_network(self.common_encoder, b, training)
        specific_b = call_network(self.specific_encoder, b, training)
        recon_a = ops.mean(ops.abs(self._decode(common_a, self._zero_specific(common_a),
                                                training) - a))
        recon_b = ops.mean(ops.abs(self._decode(common_b, specific_b, training) - b))
        logit_a = call_network(self.discriminator, common_a, training)
        logit_b = call_network(self.discriminator, common_b, training)
        # Flipped labels: E1 wants A's codes classified as B (1) and B's as A (0).
        confusion = 0.5 * (ops.mean(ops.softplus(-logit_a)) + ops.mean(ops.softplus(logit_b)))
        recon = recon_a + recon_b
        loss = recon + self.confusion_weight * confusion
        return loss, {"loss": recon, "recon_a": recon_a, "recon_b": recon_b,
                      "confusion": confusion}

    def discriminator_loss(self, data, training=True):
        a, b = self._split(data)
        common_a = ops.stop_gradient(call_network(self.common_encoder, a, training))
        common_b = ops.stop_gradient(call_network(self.common_encoder, b, training))
        logit_a = call_network(self.discriminator, common_a, training)
        logit_b = call_network(self.discriminator, common_b, training)
        loss = 0.5 * (ops.mean(ops.softplus(logit_a)) + ops.mean(ops.softplus(-logit_b)))
        return loss, {"d_loss": loss}

    def training_phases(self):
        autoencoder = (self.common_encoder.trainable_variables
                       + self.specific_encoder.trainable_variables
                       + self.decoder.trainable_variables)
        return [training.Phase(self.autoencoder_loss, autoencoder, "autoencoder"),
                training.Phase(self.discriminator_loss, self.discriminator.trainable_variables,
                               "discriminator")]

    def compute_losses(self, data, training=False):
        loss, logs = self.autoencoder_loss(data, training)
        _, d_logs = self.discriminator_loss(data, training)
        logs.update(d_logs)
        return loss, logs

    def call(self, images, training=False):
        """Reconstruction of B-domain style inputs: `D(E1(x), E2(x))`."""
        return self._decode(call_network(self.common_encoder, images, training),
                            call_network(self.specific_encoder, images, training), training)

    # -- the contract ----------------------------------------------------------------------------
    def code_layout(self):
        height, width = self.code_grid
        return (
            contract.CodePart("common", height * width * self.common_channels, "map",
                              shape=(height, width, self.common_channels),
                              description="E1's map: content both domains share"),
            contract.CodePart("specific", height * width * self.specific_channels, "map",
                              shape=(height, width, self.specific_channels),
                              description="E2's map: content only domain B has (0 for A)"),
        )

    def encode_parts(self, images, batch_size=256):
        """`(common, specific)` code maps `(n, h, w, channels)` of E1 and E2."""
        images = check_images(images, self.image_shape)
        return predict_batched(lambda x: (self.common_encoder.predict_on_batch(x),
                                          self.specific_encoder.predict_on_batch(x)),
                               images, batch_size)

    def decode_parts(self, common, specific, batch_size=256):
        """Images in [0, 1] from code maps: `D([common, specific])`."""
        maps = np.concatenate([np.asarray(common, np.float32),
                               np.asarray(specific, np.float32)], axis=-1)
        expected = self.code_grid + (self.common_channels + self.specific_channels,)
        if maps.ndim != 4 or maps.shape[1:] != expected:
            raise ValueError(f"common and specific maps must have shapes (n, {expected[0]}, "
                             f"{expected[1]}, {self.common_channels}) and (n, {expected[0]}, "
                             f"{expected[1]}, {self.specific_channels}); got "
                             f"{np.shape(common)} and {np.shape(specific)}.")
        return predict_batched(self.decoder.predict_on_batch, maps, batch_size)

    def encode(self, images, batch_size=256):
        """Flat codes `(n, code_dim)`: the common map then the specific map, each flattened
        (see `code_layout()`; `encode_parts` gives the maps)."""
        common, specific = self.encode_parts(images, batch_size)
        return np.concatenate([common.reshape(len(common), -1),
                               specific.reshape(len(specific), -1)], axis=1)

    def decode(self, codes, batch_size=256):
        """Images in [0, 1] from flat codes `(n, code_dim)` as `encode` returns them."""
        codes = check_codes(codes, self.code_dim)
        common, specific = self.code_layout()
        return self.decode_parts(codes[:, :common.size].reshape((-1,) + common.shape),
                                 codes[:, common.size:].reshape((-1,) + specific.shape),
                                 batch_size)

    def decoder_network(self):
        codes = keras.Input((self.code_dim,), name="codes")
        # The flat code is [common map, specific map]; the decoder takes them stacked by
        # channel, so split, reshape each and concatenate along channels.
        common, specific = self.code_layout()
        split = keras.layers.Lambda(lambda c: ops.concatenate(
            [ops.reshape(c[:, :common.size], (-1,) + common.shape),
             ops.reshape(c[:, common.size:], (-1,) + specific.shape)], axis=-1),
            name="maps")(codes)
        return keras.Model(codes, self.decoder(split), name="decoder_export")

    def encoder_network(self):
        images = keras.Input(self.image_shape, name="images")
        common = keras.layers.Flatten()(self.common_encoder(images))
        specific = keras.layers.Flatten()(self.specific_encoder(images))
        codes = keras.layers.Concatenate(name="codes")([common, specific])
        return keras.Model(images, codes, name="encoder_export")

    # -- content transfer -------------------------------------------------------------------
    def add_content(self, a, b):
        """A images with the B-specific content of the paired B images: `D(E1(a), E2(b))`."""
        a = check_images(a, self.image_shape, "a")
        b = check_images(b, self.image_shape, "b")
        if len(a) != len(b):
            raise ValueError(f"add_content pairs a[i] with b[i]: got {len(a)} and {len(b)} "
                             "images.")
        common_a, _ = self.encode_parts(a)
        _, specific_b = self.encode_parts(b)
        return self.decode_parts(common_a, specific_b)

    def remove_content(self, b):
        """B images without their B-specific content: `D(E1(b), 0)`."""
        common_b, specific_b = self.encode_parts(check_images(b, self.image_shape, "b"))
        return self.decode_parts(common_b, np.zeros_like(specific_b))

    def transfer_matrix(self, a, b):
        """`(len(a), len(b), H, W, C)`: cell (i, j) = add_content(a[i], b[j])."""
        a = check_images(a, self.image_shape, "a")
        b = check_images(b, self.image_shape, "b")
        common_a, _ = self.encode_parts(a)
        _, specific_b = self.encode_parts(b)
        rows = [self.decode_parts(np.repeat(common_a[i:i + 1], len(b), axis=0), specific_b)
                for i in range(len(a))]
        return np.stack(rows)
