"""InfoGAN (Chen et al. 2016): a GAN whose codes are made readable by maximising a lower bound
on their mutual information with the generated image."""

import keras
import numpy as np
from keras import layers, ops

from keras_disent.speed import conv_layers as kd_layers
from keras_disent import training
from keras_disent import contract
from keras_disent.models.base import DisentModel, softmax, unpack_images
from keras_disent.contract import check_codes, check_count, check_images, \
    predict_batched
from keras_disent.speed import call_network


def _batch_norm(name):
    # momentum 0.9 = PyTorch's default (0.1): moving statistics keep up with a fast-changing
    # GAN, so inference-mode generation matches training mode early on.
    return layers.BatchNormalization(momentum=0.9, name=name)


def _generator(input_dim, image_shape, channels, dense_units):
    height, width, out_channels = image_shape
    factor = 2 ** len(channels)
    if height % factor or width % factor:
        raise ValueError(f"image_shape {image_shape} must be divisible by 2**{len(channels)} "
                         "(one stride-2 layer per generator channel).")
    inputs = keras.Input((input_dim,), name="latents")
    x = layers.Dense(dense_units, name="dense")(inputs)
    x = layers.ReLU()(_batch_norm(name="dense_bn")(x))
    x = layers.Dense((height // factor) * (width // factor) * channels[0], name="to_grid")(x)
    x = layers.ReLU()(_batch_norm(name="to_grid_bn")(x))
    x = layers.Reshape((height // factor, width // factor, channels[0]))(x)
    for i, filters in enumerate(list(channels[1:]) + [out_channels]):
        x = kd_layers.Conv2DTranspose(filters, 4, strides=2, padding="same",
                                      name=f"deconv{i}")(x)
        if i < len(channels) - 1:
            x = layers.ReLU()(_batch_norm(name=f"deconv{i}_bn")(x))
    outputs = layers.Activation("sigmoid", name="images")(x)
    return keras.Model(inputs, outputs, name="generator")


def _trunk(image_shape, channels, dense_units):
    inputs = keras.Input(image_shape, name="images")
    x = inputs
    for i, filters in enumerate(channels):
        x = kd_layers.Conv2D(filters, 4, strides=2, padding="same", name=f"conv{i}")(x)
        if i > 0:
            x = _batch_norm(name=f"conv{i}_bn")(x)
        x = layers.LeakyReLU(0.1)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(dense_units, name="dense")(x)
    x = layers.LeakyReLU(0.1)(_batch_norm(name="dense_bn")(x))
    return keras.Model(inputs, x, name="trunk")


def _head(input_dim, hidden, outputs, name):
    inputs = keras.Input((input_dim,))
    x = inputs
    if hidden:
        x = layers.Dense(hidden, name="dense")(x)
        x = layers.LeakyReLU(0.1)(_batch_norm(name="dense_bn")(x))
    return keras.Model(inputs, layers.Dense(outputs, name="logits")(x), name=name)


@keras.saving.register_keras_serializable(package="keras_disent")
class InfoGAN(DisentModel):
    """InfoGAN: min_G,Q max_D V(D, G) - lambda * L_I(G, Q).

    Latent = noise (N(0, I)) + categorical codes (one-hot) + continuous codes (U(-1, 1)).
    Q shares D's trunk and predicts the codes: a softmax per categorical code and the mean of
    a unit-variance Gaussian per continuous code. L_I (Eq. 5) is H(c) - CE for categorical
    codes; `info` logs it (it approaches ln 10 for one Cat(10) code).

    A train step has two phases through the training core's `OptimizerGroup`:
    "discriminator" (D trunk + D head; real vs fake binary cross-entropy) then "generator"
    (G + Q head; non-saturating GAN loss + lambda_cat * CE + lambda_cont * Gaussian NLL).

    Args:
        noise_dim: incompressible noise dims (paper, MNIST: 62).
        categorical_codes: sizes of the categorical codes (MNIST: (10,)).
        continuous_codes: number of U(-1, 1) codes (MNIST: 2).
        image_shape: `(H, W, C)`, values in [0, 1].
        lambda_categorical, lambda_continuous: L_I weights (paper: 1 for discrete, smaller
            for continuous codes).
        discriminator_channels, generator_channels, dense_units, q_units: network sizes.
            Defaults are Appendix C.1 (MNIST): D conv 64, 128 + FC 1024; G FC 1024,
            FC 7x7x128, deconv 64, deconv 1; Q FC 128.
        seed: seed of the model's SeedGenerator.

    Compile with `model.compile(model.default_optimizer())`: D Adam 2e-4, G Adam 1e-3, both
    beta_1 = 0.5 (paper).

    Logs: d_loss, g_loss, info.

    Reference:
        Chen, Duan, Houthooft, Schulman, Sutskever, Abbeel 2016, InfoGAN: Interpretable
        Representation Learning by Information Maximizing Generative Adversarial Nets, NeurIPS,
        Eq. 5-6 and Appendix C.
    """

    log_keys = ("d_loss", "g_loss", "info")
    capabilities = frozenset({contract.ENCODER, contract.DECODER, contract.PRIOR,
                              contract.TRAVERSABLE})

    def __init__(self, noise_dim=62, categorical_codes=(10,), continuous_codes=2,
                 image_shape=(28, 28, 1), lambda_categorical=1.0, lambda_continuous=0.1,
                 discriminator_channels=(64, 128), generator_channels=(128, 64),
                 dense_units=1024, q_units=128, seed=None, **kwargs):
        super().__init__(**kwargs)
        contract.check_finite(lambda_categorical=lambda_categorical,
                              lambda_continuous=lambda_continuous)
        if noise_dim < 0 or continuous_codes < 0 or any(k < 2 for k in categorical_codes):
            raise ValueError("noise_dim and continuous_codes must be >= 0 and every "
                             f"categorical code needs >= 2 values; got {noise_dim}, "
                             f"{continuous_codes}, {tuple(categorical_codes)}.")
        if not categorical_codes and not continuous_codes:
            raise ValueError("InfoGAN needs at least one categorical or continuous code.")
        self.noise_dim = int(noise_dim)
        self.categorical_codes = tuple(int(k) for k in categorical_codes)
        self.continuous_codes = int(continuous_codes)
        self.image_shape = tuple(int(d) for d in image_shape)
        self.lambda_categorical = float(lambda_categorical)
        self.lambda_continuous = float(lambda_continuous)
        self.discriminator_channels = tuple(discriminator_channels)
        self.generator_channels = tuple(generator_channels)
        self.dense_units, self.q_units, self.seed = int(dense_units), int(q_units), seed
        self.latent_dim = self.noise_dim + sum(self.categorical_codes) + self.continuous_codes
        self.generator = _generator(self.latent_dim, self.image_shape, self.generator_channels,
                                    self.dense_units)
        self.trunk = _trunk(self.image_shape, self.discriminator_channels, self.dense_units)
        self.d_head = _head(self.dense_units, 0, 1, "d_head")
        self.q_head = _head(self.dense_units, self.q_units,
                            sum(self.categorical_codes) + self.continuous_codes, "q_head")
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update(noise_dim=self.noise_dim, categorical_codes=list(self.categorical_codes),
                      continuous_codes=self.continuous_codes, image_shape=list(self.image_shape),
                      lambda_categorical=self.lambda_categorical,
                      lambda_continuous=self.lambda_continuous,
                      discriminator_channels=list(self.discriminator_channels),
                      generator_channels=list(self.generator_channels),
                      dense_units=self.dense_units, q_units=self.q_units, seed=self.seed)
        return config

    def default_optimizer(self, learning_rate=None):
        """D Adam 2e-4, G+Q Adam 1e-3, beta_1 0.5 (paper); `learning_rate` replaces both."""
        return {"discriminator": keras.optimizers.Adam(learning_rate or 2e-4, beta_1=0.5),
                "generator": keras.optimizers.Adam(learning_rate or 1e-3, beta_1=0.5)}

    # -- latents ------------------------------------------------------------------------------
    def _sample_latents(self, batch, training=True):
        """(latents, categorical indices (batch, n_cat) int, continuous (batch, k))."""
        seed = self.noise_seed
        noise = keras.random.normal((batch, self.noise_dim),
                                    seed=seed(self.seed_generator, training, 0))
        parts, indices = [noise], []
        for i, size in enumerate(self.categorical_codes):
            index = keras.random.randint((batch,), 0, size,
                                         seed=seed(self.seed_generator, training, 1 + i))
            indices.append(index)
            parts.append(ops.one_hot(index, size))
        continuous = keras.random.uniform((batch, self.continuous_codes), -1.0, 1.0,
                                          seed=seed(self.seed_generator, training, 99))
        parts.append(continuous)
        return ops.concatenate(parts, axis=1), indices, continuous

    def _q_terms(self, q_out, indices, continuous):
        """(categorical cross-entropy, continuous NLL, L_I estimate), batch means."""
        cross_entropy, start = 0.0, 0
        for size, index in zip(self.categorical_codes, indices):
            logits = q_out[:, start:start + size]
            log_probs = logits - ops.logsumexp(logits, axis=1, keepdims=True)
            cross_entropy += -ops.mean(ops.sum(ops.one_hot(index, size) * log_probs, axis=1))
            start += size
        mean = q_out[:, start:]
        gaussian_nll = ops.mean(ops.sum(0.5 * ops.square(continuous - mean), axis=1))
        entropy = float(sum(np.log(k) for k in self.categorical_codes))
        return cross_entropy, gaussian_nll, entropy - cross_entropy

    # -- phases -------------------------------------------------------------------------------
    def _features(self, images, training):
        return call_network(self.trunk, images, training)

    def discriminator_loss(self, data, training=True):
        """Real vs fake binary cross-entropy (Eq. 1's max over D)."""
        real = unpack_images(data)
        latents, _, _ = self._sample_latents(ops.shape(real)[0], training)
        fake = ops.stop_gradient(call_network(self.generator, latents, training))
        real_logits = call_network(self.d_head, self._features(real, training), training)
        fake_logits = call_network(self.d_head, self._features(fake, training), training)
        loss = ops.mean(ops.softplus(-real_logits)) + ops.mean(ops.softplus(fake_logits))
        return loss, {"d_loss": loss}

    def generator_loss(self, data, training=True):
        """Non-saturating GAN loss - lambda * L_I (Eq. 5-6)."""
        batch = ops.shape(unpack_images(data))[0]
        latents, indices, continuous = self._sample_latents(batch, training)
        features = self._features(call_network(self.generator, latents, training), training)
        gan = ops.mean(ops.softplus(-call_network(self.d_head, features, training)))
        cross_entropy, gaussian_nll, info = self._q_terms(
            call_network(self.q_head, features, training), indices, continuous)
        loss = gan + self.lambda_categorical * cross_entropy + \
            self.lambda_continuous * gaussian_nll
        return loss, {"g_loss": gan, "info": info}

    def training_phases(self):
        return [
            training.Phase(self.discriminator_loss,
                           self.trunk.trainable_variables + self.d_head.trainable_variables,
                           "discriminator"),
            training.Phase(self.generator_loss,
                           self.generator.trainable_variables + self.q_head.trainable_variables,
                           "generator"),
        ]

    def compute_losses(self, data, training=False):
        d_loss, logs = self.discriminator_loss(data, training)
        g_loss, g_logs = self.generator_loss(data, training)
        logs.update(g_logs)
        return d_loss + g_loss, logs

    def call(self, latents, training=False):
        return call_network(self.generator, latents, training)

    # -- numpy API ------------------------------------------------------------------------------
    def latents(self, noise=None, categorical=None, continuous=None, num=None, seed=None):
        """Assembles latent vectors; missing parts are sampled with `seed`.

        Args:
            noise: `(n, noise_dim)`.
            categorical: int `(n,)` or `(n, n_categorical_codes)` code values.
            continuous: `(n, continuous_codes)`.
            num: n when no part is given.
        """
        rng = np.random.default_rng(seed)
        given = [a for a in (noise, categorical, continuous) if a is not None]
        n = len(given[0]) if given else num
        if n is None:
            raise ValueError("Pass num=... or at least one of noise, categorical, continuous.")
        noise = rng.standard_normal((n, self.noise_dim)) if noise is None else np.asarray(noise)
        if categorical is None:
            categorical = np.stack([rng.integers(0, k, n) for k in self.categorical_codes], 1) \
                if self.categorical_codes else np.zeros((n, 0), int)
        categorical = np.asarray(categorical).reshape(n, -1)
        if continuous is None:
            continuous = rng.uniform(-1, 1, (n, self.continuous_codes))
        continuous = np.asarray(continuous).reshape(n, self.continuous_codes)
        if noise.shape != (n, self.noise_dim):
            raise ValueError(f"noise must have shape ({n}, {self.noise_dim}), got {noise.shape}.")
        if categorical.shape[1] != len(self.categorical_codes):
            raise ValueError(f"categorical must give {len(self.categorical_codes)} code(s) per "
                             f"row, got shape {categorical.shape}.")
        one_hot = [np.eye(k)[np.clip(categorical[:, i], 0, k - 1)]
                   for i, k in enumerate(self.categorical_codes)]
        return np.concatenate([noise] + one_hot + [continuous], axis=1).astype(np.float32)

    def generate(self, noise=None, categorical=None, continuous=None, num=None, seed=None):
        """Images `(n, H, W, C)` in [0, 1] from (partly) given latents."""
        return self.decode(self.latents(noise, categorical, continuous, num, seed))

    def _q_outputs(self, images, batch_size):
        images = check_images(images, self.image_shape)
        return predict_batched(
            lambda x: self.q_head.predict_on_batch(self.trunk.predict_on_batch(x)), images,
            batch_size)

    def _q_probabilities(self, q_out):
        """Softmax of each categorical code's logits: a list of `(n, k)`."""
        probabilities, start = [], 0
        for size in self.categorical_codes:
            probabilities.append(softmax(q_out[:, start:start + size]))
            start += size
        return probabilities

    def infer_codes(self, images, batch_size=256):
        """Q's estimates: `{"categorical": argmax (n, n_cat), "categorical_probs": list,
        "continuous": means (n, k)}`."""
        q_out = self._q_outputs(images, batch_size)
        probabilities = self._q_probabilities(q_out)
        categorical = np.stack([p.argmax(axis=1) for p in probabilities], axis=1) \
            if probabilities else np.zeros((len(q_out), 0), int)
        return {"categorical": categorical, "categorical_probs": probabilities,
                "continuous": q_out[:, sum(self.categorical_codes):]}

    # -- the contract ----------------------------------------------------------------------------
    def code_layout(self):
        parts = [contract.CodePart("noise", self.noise_dim, "noise",
                                   description="incompressible noise N(0, I); Q does not infer "
                                               "it, encode gives 0")] if self.noise_dim else []
        parts += [contract.CodePart(f"categorical_{i}", k, "categorical",
                                    description=f"one-hot Cat({k}); encode gives Q's "
                                                "probabilities")
                  for i, k in enumerate(self.categorical_codes)]
        if self.continuous_codes:
            parts.append(contract.CodePart("continuous", self.continuous_codes, "uniform",
                                           traversable=True,
                                           description="U(-1, 1) codes; encode gives Q's means"))
        return tuple(parts)

    def encode(self, images, batch_size=256):
        """Latent vectors `(n, latent_dim)` that Q infers: 0 for the noise, Q's probabilities
        for each categorical code, Q's means for the continuous codes; `decode` takes them."""
        q_out = self._q_outputs(images, batch_size)
        noise = np.zeros((len(q_out), self.noise_dim), np.float32)
        return np.concatenate([noise] + self._q_probabilities(q_out)
                              + [q_out[:, sum(self.categorical_codes):]], axis=1)

    def decode(self, codes, batch_size=256):
        """Images `(n, H, W, C)` in [0, 1] for latent vectors `(n, latent_dim)` (noise,
        one-hot codes, continuous codes; `latents(...)` builds them)."""
        codes = check_codes(codes, self.latent_dim, "latents")
        return predict_batched(self.generator.predict_on_batch, codes, batch_size)

    def sample_codes(self, num, seed=None):
        """Latents from the prior: noise N(0, I), uniform categories, U(-1, 1) codes."""
        return self.latents(num=check_count(num), seed=seed)

    def decoder_network(self):
        return self.generator

    def encoder_network(self):
        images = keras.Input(self.image_shape, name="images")
        q_out = self.q_head(self.trunk(images))
        noise_dim, sizes = self.noise_dim, self.categorical_codes

        def assemble(q):
            parts, start = [ops.zeros((ops.shape(q)[0], noise_dim), q.dtype)], 0
            for size in sizes:
                parts.append(ops.softmax(q[:, start:start + size], axis=1))
                start += size
            return ops.concatenate(parts + [q[:, start:]], axis=1)

        codes = keras.layers.Lambda(assemble, name="codes")(q_out)
        return keras.Model(images, codes, name="encoder_export")

    def code_sweep(self, code, values, rows=10, seed=0):
        """Figure grid `(rows, len(values), H, W, C)`: the columns set `code` to `values`.

        Args:
            code: "categorical" (the first categorical code) or the index of a continuous code.
            values: the values of the swept code, one per column.
            rows: rows of the grid; each keeps its own noise and other codes. When a continuous
                code is swept, row r also fixes the first categorical code to r mod k, so each
                row shows one class (Chen et al. Fig. 2c-d).
            seed: seed of the noise.
        """
        categorical = None
        if code != "categorical" and self.categorical_codes:
            categorical = np.stack([np.arange(rows) % k for k in self.categorical_codes], 1)
        base = self.latents(categorical=categorical, num=rows, seed=seed)
        grid = []
        for value in values:
            latents = base.copy()
            if code == "categorical":
                k = self.categorical_codes[0]
                latents[:, self.noise_dim:self.noise_dim + k] = np.eye(k)[int(value)]
            else:
                if not 0 <= int(code) < self.continuous_codes:
                    raise ValueError(f"code must be 'categorical' or 0..{self.continuous_codes - 1}"
                                     f", got {code!r}.")
                latents[:, self.latent_dim - self.continuous_codes + int(code)] = value
            grid.append(self.decode(latents))
        return np.stack(grid, axis=1)


def categorical_accuracy(predicted, labels, num_classes=None):
    """Accuracy of categorical codes as class labels under the best one-to-one assignment
    (Hungarian), the InfoGAN paper's 5% error measure."""
    from scipy.optimize import linear_sum_assignment

    predicted, labels = np.asarray(predicted).ravel(), np.asarray(labels).ravel()
    k = num_classes or int(max(predicted.max(), labels.max()) + 1)
    counts = np.zeros((k, k), np.int64)
    np.add.at(counts, (predicted, labels), 1)
    rows, cols = linear_sum_assignment(-counts)
    return float(counts[rows, cols].sum() / len(labels))
