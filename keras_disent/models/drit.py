"""DRIT (Lee, Tseng, Huang, Singh, Yang ECCV 2018): diverse image-to-image translation from a
domain-invariant content code and a per-domain attribute code."""

import keras
import numpy as np
from keras import ops

from keras_disent import contract, losses, networks, training
from keras_disent.contract import check_count, check_images, predict_batched
from keras_disent.models.base import DisentModel, sample_gaussian, \
    unpack_domain_batch
from keras_disent.speed import call_network


def _pick(outputs, onehot):
    """Each example's output from the network of its domain: `outputs` is a list (one entry
    per domain) of `(n, ...)` tensors, `onehot` `(n, num_domains)`."""
    picked = None
    for domain, output in enumerate(outputs):
        weight = ops.reshape(onehot[:, domain], (-1,) + (1,) * (len(output.shape) - 1))
        term = weight * output
        picked = term if picked is None else picked + term
    return picked


def _partner(x):
    """The batch in reverse order: example i is paired with example n - 1 - i (an involution,
    so the partner of the partner is the example itself)."""
    return ops.flip(x, axis=0)


class _NetworkCache:
    """Holds the functional networks `encode` / `decode` build once (outside Keras tracking:
    they only reuse the model's layers)."""


def _l1(a, b):
    """Mean absolute difference per example `(n,)`."""
    return ops.mean(ops.abs(ops.reshape(a - b, (ops.shape(a)[0], -1))), axis=1)


RECONSTRUCTIONS = ("l1", "bernoulli")


def _image_distance(logits, images, reconstruction):
    """Per-example `(n,)` distance of generated images (given as logits) to `images`: the
    mean |sigmoid(logits) - x| ("l1", the paper's) or the mean binary cross-entropy from the
    logits ("bernoulli")."""
    if reconstruction == "l1":
        return _l1(ops.sigmoid(logits), images)
    pixels = ops.shape(images)[1] * ops.shape(images)[2] * ops.shape(images)[3]
    return losses.bernoulli_reconstruction(images, logits) / ops.cast(pixels, logits.dtype)


@keras.saving.register_keras_serializable(package="keras_disent")
class DRIT(DisentModel):
    """DRIT: content encoders E^c_d whose last layer is shared, attribute encoders E^a_d and
    generators G_d per domain d, image discriminators D_d per domain and a content
    discriminator D^c.

    An image x of domain d splits into a content map c = E^c_d(x) (what the domains share;
    D^c must not tell the domain from it) and an attribute vector a ~ E^a_d(x) (the domain's
    appearance; a Gaussian with a KL to N(0, I), so it can be sampled). G_d(c, a) draws the
    image in domain d. Translation of x into domain t: G_t(E^c(x), a) with a from an image of
    t or drawn from N(0, I): several draws give several translations.

    Each example is paired with its partner in the batch (example n-1-i; use
    `DigitDomains.batches(cross_pairs=True)` so that partners come from different domains).
    Three phases per train step (the training core's `OptimizerGroup`):

      "discriminators" (D_d; and the domain classifier below):
          BCE(D_d(x), real) + BCE(D_t(u), fake) + BCE(D_t(r), fake) + CE(domain | x),
      "content_discriminator" (D^c): CE(D^c(stop_gradient(c)), d),
      "generator" (encoders, generators):
          adv_content * CE(uniform, D^c(c))               content adversarial loss
        + adv_domain * [BCE(D_t(u), real) + BCE(D_t(r), real)]  domain adversarial loss
        + cross_cycle * L1(G_d(E^c_t(u), E^a_t(u_partner)), x)  cross-cycle consistency
        + self_recon * L1(G_d(c, a), x)                    self-reconstruction
          (with reconstruction="bernoulli", both L1 terms above are instead the mean
          binary cross-entropy of the generator's logits)
        + kl * KL(q(a|x) || N(0, I))
        + latent * L1(mean E^a_t(r), z)                    latent regression,
    where u = G_t(c, a_partner) is x's content in its partner's domain t with the partner's
    attribute, and r = G_t(c, z), z ~ N(0, I).

    Taken from the paper: the architecture's roles (per-domain content encoders sharing their
    last layer, per-domain attribute encoders, generators and discriminators, a content
    discriminator), the five losses above and their weights (content and domain adversarial
    1, cross-cycle 10, self-reconstruction 10, KL 0.01, latent regression 10; L1 as a mean
    over pixels) and Adam 1e-4 with beta_1 0.5, as the authors' public code
    (HsinYingLee/DRIT, src/model.py) sets them; the weights are constructor arguments. That
    code also sums the KL over the batch (we average it) and adds 0.01 * L2 of the content
    map (not built here). Our choices: small conv networks for 28x28 digits (the paper's are
    for 216x216 photographs), the attribute concatenated to the content map at the
    generator's input (the paper's "concat" variant), a non-saturating BCE GAN, and any
    number of domains (the paper's model has two) with per-domain networks picked by each
    example's domain. Not in the paper: a small image domain classifier, trained with the
    discriminators on real images, used only to pick each image's encoders when `encode` is
    called without domains.

    Args:
        num_domains: number of domains (the paper: 2).
        image_shape: image shape, the same in every domain.
        conv_channels: filters of the stride-2 convolutions of every network (the generator
            mirrors them).
        content_channels: channels of the content map (after the shared last layer).
        attribute_dim: size of the attribute code (the paper: 8).
        discriminator_channels: filters of the image and content discriminators.
        adv_content, adv_domain, cross_cycle, self_recon, kl, latent: the loss weights.
        reconstruction: "l1" (the paper's) or "bernoulli" for the cross-cycle and
            self-reconstruction terms. Not in the paper: on sparse images (gray digits, 81% of
            pixels 0) L1 through the generator's sigmoid can saturate: a generator that
            outputs black everywhere scores the images' mean pixel and gets almost no
            gradient back (seen on the digit domains, README); the cross-entropy's gradient
            sigmoid(logit) - x does not vanish there.
        seed: seed of the attribute noise and the random attributes.

    Trains on `(images, domain ids)` batches. Logs: loss, cross_cycle, self_recon, kl, latent,
    adv_domain, adv_content (the generator's terms), d_loss, domain_classifier_accuracy,
    content_d_loss, content_domain_accuracy (D^c on c: 1 / num_domains when c is
    domain-free).

    Reference:
        Lee, Tseng, Huang, Singh, Yang 2018, Diverse Image-to-Image Translation via
        Disentangled Representations, ECCV.
    """

    log_keys = ("loss", "cross_cycle", "self_recon", "kl", "latent", "adv_domain",
                "adv_content", "d_loss", "domain_classifier_accuracy", "content_d_loss",
                "content_domain_accuracy")
    capabilities = frozenset({contract.ENCODER, contract.DECODER, contract.TRAVERSABLE})

    def __init__(self, num_domains=2, image_shape=(28, 28, 3), conv_channels=(32, 64),
                 content_channels=32, attribute_dim=8, discriminator_channels=(32, 64),
                 adv_content=1.0, adv_domain=1.0, cross_cycle=10.0, self_recon=10.0, kl=0.01,
                 latent=10.0, reconstruction="l1", seed=None, **kwargs):
        super().__init__(**kwargs)
        if reconstruction not in RECONSTRUCTIONS:
            raise ValueError(f"reconstruction must be one of {RECONSTRUCTIONS}, got "
                             f"{reconstruction!r}.")
        self.reconstruction = reconstruction
        weights = dict(adv_content=adv_content, adv_domain=adv_domain, cross_cycle=cross_cycle,
                       self_recon=self_recon, kl=kl, latent=latent)
        contract.check_finite(**weights)
        negative = {k: v for k, v in weights.items() if v < 0}
        if negative:
            raise ValueError(f"loss weights must be >= 0, got {negative}.")
        self.loss_weights = {k: float(v) for k, v in weights.items()}
        self.num_domains = check_count(num_domains, "num_domains")
        if self.num_domains < 2:
            raise ValueError(f"num_domains must be at least 2, got {num_domains}.")
        self.image_shape = tuple(int(d) for d in image_shape)
        if len(self.image_shape) != 3:
            raise ValueError(f"image_shape must be (height, width, channels), got "
                             f"{image_shape}.")
        self.conv_channels = tuple(int(c) for c in conv_channels)
        self.content_channels = check_count(content_channels, "content_channels")
        self.attribute_dim = check_count(attribute_dim, "attribute_dim")
        self.discriminator_channels = tuple(int(c) for c in discriminator_channels)
        self.seed = seed
        factor = 2 ** len(self.conv_channels)
        self.content_shape = (-(-self.image_shape[0] // factor), -(-self.image_shape[1] // factor),
                              self.content_channels)
        domains = range(self.num_domains)
        self.content_heads = [networks.conv_feature_map(self.image_shape, self.conv_channels,
                                                        name=f"content_encoder_{d}")
                              for d in domains]
        head_shape = self.content_shape[:2] + (self.conv_channels[-1],)
        shared = keras.Input(head_shape)
        self.content_shared = keras.Model(
            shared, keras.layers.Conv2D(self.content_channels, 3, padding="same",
                                        name="conv")(shared), name="content_encoder_shared")
        self.attribute_encoders = [
            networks.conv_encoder(self.image_shape, 2 * self.attribute_dim, self.conv_channels,
                                  4, (), name=f"attribute_encoder_{d}") for d in domains]
        generator_input = self.content_shape[:2] + (self.content_channels + self.attribute_dim,)
        self.generators = [networks.map_generator(generator_input, self.image_shape,
                                                  self.conv_channels, name=f"generator_{d}")
                           for d in domains]
        self.discriminators = [
            networks.conv_encoder(self.image_shape, 1, self.discriminator_channels, 4, (),
                                  name=f"discriminator_{d}") for d in domains]
        self.domain_classifier = networks.conv_encoder(
            self.image_shape, self.num_domains, self.discriminator_channels[:1], 4, (),
            name="domain_classifier")
        self.content_discriminator = networks.conv_encoder(
            self.content_shape, self.num_domains, self.discriminator_channels[-1:], 3, (256,),
            name="content_discriminator")
        self.seed_generator = keras.random.SeedGenerator(seed)
        self._numpy_networks = _NetworkCache()  # plain object: not tracked by Keras
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update(num_domains=self.num_domains, image_shape=list(self.image_shape),
                      conv_channels=list(self.conv_channels),
                      content_channels=self.content_channels, attribute_dim=self.attribute_dim,
                      discriminator_channels=list(self.discriminator_channels), seed=self.seed,
                      reconstruction=self.reconstruction, **self.loss_weights)
        return config

    def default_optimizer(self, learning_rate=None):
        """Adam 1e-4, beta_1 0.5 for each phase (the paper); `learning_rate` replaces all."""
        rate = 1e-4 if learning_rate is None else learning_rate
        return {name: keras.optimizers.Adam(rate, beta_1=0.5)
                for name in ("discriminators", "content_discriminator", "generator")}

    # -- graph pieces (keras.ops) -------------------------------------------------------------
    def _batch(self, data):
        images, domains, _ = unpack_domain_batch(data, "DRIT")  # class labels unused
        return images, ops.one_hot(domains, self.num_domains), domains

    def _content(self, images, onehot, training):
        heads = [call_network(head, images, training) for head in self.content_heads]
        return call_network(self.content_shared, _pick(heads, onehot), training)

    def _attribute_stats(self, images, onehot, training):
        stats = _pick([call_network(e, images, training) for e in self.attribute_encoders],
                      onehot)
        return stats[:, :self.attribute_dim], stats[:, self.attribute_dim:]

    def _generate(self, content, attribute, onehot, training):
        """Image logits of G_d([c, a tiled over the map]) for each example's domain d."""
        height, width = self.content_shape[:2]
        tiled = ops.tile(ops.reshape(attribute, (-1, 1, 1, self.attribute_dim)),
                         (1, height, width, 1))
        inputs = ops.concatenate([content, tiled], axis=-1)
        return _pick([call_network(g, inputs, training) for g in self.generators], onehot)

    def _judge(self, images, onehot, training):
        """D_d's real/fake logit `(n,)` for each image under the discriminator of its domain."""
        return _pick([call_network(d, images, training)[:, 0] for d in self.discriminators],
                     onehot)

    def _translations(self, images, onehot, training):
        """The forward pass every phase shares: codes, u (content in the partner's domain with
        the partner's attribute) and r (content in the partner's domain with z ~ N(0, I))."""
        content = self._content(images, onehot, training)
        mean, log_var = self._attribute_stats(images, onehot, training)
        seed = self.noise_seed(self.seed_generator, training)
        attribute = sample_gaussian(mean, log_var, seed)
        partner = _partner(onehot)
        u = ops.sigmoid(self._generate(content, _partner(attribute), partner, training))
        z = keras.random.normal(ops.shape(mean), seed=self.noise_seed(self.seed_generator,
                                                                      training, 1))
        r = ops.sigmoid(self._generate(content, z, partner, training))
        return {"content": content, "mean": mean, "log_var": log_var, "attribute": attribute,
                "partner": partner, "u": u, "z": z, "r": r}

    def generator_loss(self, data, training=True):
        images, onehot, _ = self._batch(data)
        t = self._translations(images, onehot, training)
        partner = t["partner"]
        # cross-cycle: re-encode u in the partner's domain; the partner's u carries a(x)
        content_u = self._content(t["u"], partner, training)
        attribute_u = sample_gaussian(*self._attribute_stats(t["u"], partner, training),
                                      self.noise_seed(self.seed_generator, training, 2))
        cycle = self._generate(content_u, _partner(attribute_u), onehot, training)
        cross_cycle = ops.mean(_image_distance(cycle, images, self.reconstruction))
        recon = self._generate(t["content"], t["attribute"], onehot, training)
        self_recon = ops.mean(_image_distance(recon, images, self.reconstruction))
        kl = ops.mean(losses.gaussian_kl(t["mean"], t["log_var"]))
        regressed, _ = self._attribute_stats(t["r"], partner, training)
        latent = ops.mean(_l1(regressed, t["z"]))
        fooled = ops.concatenate([self._judge(t["u"], partner, training),
                                  self._judge(t["r"], partner, training)])
        adv_domain = ops.mean(ops.softplus(-fooled))  # BCE against "real"
        content_log_probs = ops.log_softmax(call_network(self.content_discriminator,
                                                         t["content"], training))
        adv_content = ops.mean(losses.uniform_cross_entropy(content_log_probs))
        terms = {"cross_cycle": cross_cycle, "self_recon": self_recon, "kl": kl,
                 "latent": latent, "adv_domain": adv_domain, "adv_content": adv_content}
        loss = sum(self.loss_weights[k] * v for k, v in terms.items())
        return loss, dict(terms, loss=loss)

    def discriminator_loss(self, data, training=True):
        images, onehot, domains = self._batch(data)
        t = self._translations(images, onehot, training)
        real = self._judge(images, onehot, training)
        fake = ops.concatenate([self._judge(ops.stop_gradient(t["u"]), t["partner"], training),
                                self._judge(ops.stop_gradient(t["r"]), t["partner"],
                                            training)])
        gan = ops.mean(ops.softplus(-real)) + ops.mean(ops.softplus(fake))
        log_probs = ops.log_softmax(call_network(self.domain_classifier, images, training))
        domain_ce = -ops.mean(losses.label_log_likelihood(log_probs, domains))
        d_loss = gan + domain_ce
        return d_loss, {"d_loss": d_loss, "domain_classifier_accuracy": ops.mean(
            losses.correct_predictions(log_probs, domains))}

    def content_discriminator_loss(self, data, training=True):
        images, onehot, domains = self._batch(data)
        content = ops.stop_gradient(self._content(images, onehot, training))
        log_probs = ops.log_softmax(call_network(self.content_discriminator, content,
                                                 training))
        loss = -ops.mean(losses.label_log_likelihood(log_probs, domains))
        return loss, {"content_d_loss": loss, "content_domain_accuracy": ops.mean(
            losses.correct_predictions(log_probs, domains))}

    def _variables(self, networks_):
        return [v for network in networks_ for v in network.trainable_variables]

    def training_phases(self):
        encoders_and_generators = (self.content_heads + [self.content_shared]
                                   + self.attribute_encoders + self.generators)
        return [training.Phase(self.discriminator_loss,
                               self._variables(self.discriminators + [self.domain_classifier]),
                               "discriminators"),
                training.Phase(self.content_discriminator_loss,
                               self._variables([self.content_discriminator]),
                               "content_discriminator"),
                training.Phase(self.generator_loss, self._variables(encoders_and_generators),
                               "generator")]

    def compute_losses(self, data, training=False):
        loss, logs = self.generator_loss(data, training)
        logs.update(self.discriminator_loss(data, training)[1])
        logs.update(self.content_discriminator_loss(data, training)[1])
        return loss, logs

    def call(self, images, training=False):
        """Self-reconstructions in [0, 1], each image in the domain the classifier guesses."""
        onehot = ops.one_hot(ops.argmax(call_network(self.domain_classifier, images, training),
                                        axis=1), self.num_domains)
        mean, _ = self._attribute_stats(images, onehot, training)
        return ops.sigmoid(self._generate(self._content(images, onehot, training), mean,
                                          onehot, training))

    # -- the contract ----------------------------------------------------------------------------
    @property
    def content_dim(self):
        return int(np.prod(self.content_shape))

    def code_layout(self):
        return (contract.CodePart("content", self.content_dim, "feature",
                                  description=f"domain-invariant content map "
                                              f"{self.content_shape}, flattened"),
                contract.CodePart("attribute", self.attribute_dim, "gaussian", traversable=True,
                                  description="posterior mean of the domain's attribute"),
                contract.CodePart("domain", self.num_domains, "categorical",
                                  description="one-hot domain: whose encoders and generator"))

    def domain_codes(self, domains, num=None):
        """One-hot domain vectors `(n, num_domains)` for domain ids (an int or an array; see
        `contract.domain_one_hot`)."""
        return contract.domain_one_hot(domains, self.num_domains, num)

    def _encode_network(self):
        images = keras.Input(self.image_shape, name="images")
        onehot = keras.Input((self.num_domains,), name="domains")
        heads = [head(images) for head in self.content_heads]
        content = self.content_shared(keras.layers.Lambda(lambda x: _pick(x[:-1], x[-1]))(
            heads + [onehot]))
        stats = keras.layers.Lambda(lambda x: _pick(x[:-1], x[-1]))(
            [e(images) for e in self.attribute_encoders] + [onehot])
        codes = keras.layers.Lambda(lambda x: ops.concatenate(
            [ops.reshape(x[0], (-1, self.content_dim)), x[1][:, :self.attribute_dim], x[2]],
            axis=1), name="codes")([content, stats, onehot])
        return keras.Model([images, onehot], codes, name="drit_encoder")

    def guess_domains(self, images, batch_size=256):
        """The domain classifier's guess `(n,)` for images whose domain is not given."""
        images = check_images(images, self.image_shape)
        logits = predict_batched(self.domain_classifier.predict_on_batch, images, batch_size)
        return np.argmax(logits, axis=1).astype(np.int32)

    def encode(self, images, batch_size=256, domains=None):
        """`[content (flattened), attribute mean, one-hot domain]` `(n, code_dim)`.

        `domains` (an int or one id per image) picks each image's encoders; None lets the
        domain classifier guess (`guess_domains`): pass the domains when you know them."""
        images = check_images(images, self.image_shape)
        if domains is None:
            domains = self.guess_domains(images, batch_size)
        onehot = self.domain_codes(domains, len(images))
        cache = self._numpy_networks
        if getattr(cache, "encoder", None) is None:
            cache.encoder = self._encode_network()
        return predict_batched(lambda index: cache.encoder.predict_on_batch(
            [images[index], onehot[index]]), np.arange(len(images)), batch_size)

    def _decode_network(self):
        codes = keras.Input((self.code_dim,), name="codes")
        height, width = self.content_shape[:2]

        def generator_inputs(c):
            content = ops.reshape(c[:, :self.content_dim], (-1,) + self.content_shape)
            attribute = c[:, self.content_dim:self.content_dim + self.attribute_dim]
            tiled = ops.tile(ops.reshape(attribute, (-1, 1, 1, self.attribute_dim)),
                             (1, height, width, 1))
            return ops.concatenate([content, tiled], axis=-1)

        inputs = keras.layers.Lambda(generator_inputs)(codes)
        onehot = keras.layers.Lambda(lambda c: c[:, self.content_dim + self.attribute_dim:])(
            codes)
        logits = keras.layers.Lambda(lambda x: _pick(x[:-1], x[-1]))(
            [g(inputs) for g in self.generators] + [onehot])
        images = keras.layers.Activation("sigmoid", name="images")(logits)
        return keras.Model(codes, images, name="decoder_export")

    def decode(self, codes, batch_size=256):
        """Images in [0, 1] from `[content, attribute, one-hot domain]` codes: the generator of
        the code's domain."""
        codes = contract.check_codes(codes, self.code_dim)
        cache = self._numpy_networks
        if getattr(cache, "decoder", None) is None:
            cache.decoder = self._decode_network()
        return np.clip(predict_batched(cache.decoder.predict_on_batch, codes, batch_size),
                       0.0, 1.0)

    def translate(self, images, target_domain, attributes=None, seed=None, domains=None,
                  batch_size=256):
        """`images` drawn in `target_domain` with their own content.

        Args:
            images: `(n, H, W, C)` of any domain.
            target_domain: the domain id to draw them in.
            attributes: `(n, attribute_dim)` or `(attribute_dim,)` attribute codes (e.g. the
                attribute part of `encode(reference_images, domains=target_domain)`); None
                draws them from N(0, I) with `seed` (several seeds, several translations).
            domains: the inputs' domains (None: guessed, see `encode`).
        """
        codes = self.encode(images, batch_size, domains)
        num = len(codes)
        if attributes is None:
            attributes = np.random.default_rng(seed).standard_normal(
                (num, self.attribute_dim)).astype(np.float32)
        attributes = np.broadcast_to(np.asarray(attributes, np.float32),
                                     (num, self.attribute_dim)) \
            if np.ndim(attributes) == 1 else np.asarray(attributes, np.float32)
        if attributes.shape != (num, self.attribute_dim):
            raise ValueError(f"attributes must have shape ({num}, {self.attribute_dim}) or "
                             f"({self.attribute_dim},), got {attributes.shape}.")
        codes = np.concatenate([codes[:, :self.content_dim], attributes,
                                self.domain_codes(target_domain, num)], axis=1)
        return self.decode(codes, batch_size)

    def decoder_network(self):
        return self._decode_network()

    def encoder_network(self):
        images = keras.Input(self.image_shape, name="images")
        onehot = keras.layers.Lambda(lambda x: ops.one_hot(ops.argmax(x, axis=1),
                                                           self.num_domains))(
            self.domain_classifier(images))
        codes = self._encode_network()([images, onehot])
        return keras.Model(images, codes, name="encoder_export")
