"""UFDN (Liu, Yeh, Wang NeurIPS 2018): one VAE for several domains, its code freed of the
domain by an adversary, the domain given back to the decoder as a code."""

import keras
import numpy as np
from keras import ops

from keras_disent import contract, losses, networks, training
from keras_disent.contract import check_count, check_images, predict_batched
from keras_disent.models.base import DisentModel, sample_gaussian, sigmoid_decode, \
    sigmoid_decoder_network, softmax, unpack_domain_batch
from keras_disent.speed import call_network


@keras.saving.register_keras_serializable(package="keras_disent")
class UFDN(DisentModel):
    """Unified Feature Disentangler: a domain-invariant z plus a domain code.

    The encoder gives q(z|x) for an image of any domain; the decoder draws the image from
    [z, one-hot domain]; a domain discriminator D_v tries to tell the domain from z, and the
    encoder is trained so that it cannot (its prediction pushed to uniform). Translation to
    domain d is `decode([mu(x), onehot(d)])`.

    Two phases per train step (the training core's `OptimizerGroup`):
      "vae" (encoder, decoder): mean(recon) + beta * mean(KL) + lambda * CE(uniform, D_v(z))
        (or lambda * -log(1 - D_v(domain | z)) with `adversary="flip"`);
      "domain_discriminator" (D_v): CE(D_v(stop_gradient(z)), domain).

    Unsupervised domain adaptation (`num_classes > 0`): a classifier C on z is trained in the
    "vae" phase with the class labels of the `labelled_domains` only (the source); the labels
    of the other domains are never read (they are masked out of the loss). Since z is
    domain-free, C then labels the unlabelled domains too (`class_probabilities`).

    Taken from the paper: the VAE with a domain vector concatenated to z at the decoder, the
    adversarial domain discriminator on z, translation by swapping the domain vector, a
    classifier on the domain-invariant z trained with source labels for adaptation. Our
    choices: the encoder's adversarial target is by default the uniform distribution
    (`adversary="flip"`: the flipped label of the authors' code), the small conv networks,
    and no image discriminator (the paper's optional pixel-space GAN is not built here).

    Args:
        num_domains: number of domains.
        latent_dim: dims of z.
        image_shape: image shape (every domain the same; e.g. 3 channels for the digit
            domains).
        conv_channels, dense_units: the conv encoder / decoder (see `networks`).
        batch_norm: batch normalisation after every hidden layer of the encoder and decoder
            (the authors' networks have it; statistics over batches that mix the domains).
        beta: KL weight.
        domain_weight: lambda, the weight of fooling D_v.
        adversary: how the encoder fools D_v: "uniform" (our default: CE of D_v's prediction
            against the uniform distribution) or "flip" (-log(1 - D_v(true domain | z)); with
            two domains the cross-entropy against the flipped label, as the authors' code).
        domain_ramp_steps: 0 (lambda from the first step), or the number of steps over
            which lambda rises from 0 to its value on DANN's schedule (Ganin et al. 2016:
            2 / (1 + exp(-10 p)) - 1, p = step / domain_ramp_steps), so that the classifier
            and the codes form before the adversary pulls the domains together.
        discriminator_units: hidden layers of D_v.
        num_classes: 0 (no classifier), or the number of classes of the source classifier C.
        class_weight: weight of C's cross-entropy in the "vae" phase.
        labelled_domains: the domain ids whose labels C learns from (default: domain 0).
        entropy_weight: 0 (UFDN as published), or the weight of the mean entropy of C's
            predictions on the unlabelled domains' examples, added to the "vae" phase
            (entropy minimisation, Grandvalet & Bengio 2005, as VADA uses it on the target
            domain, Shu et al. 2018: C's boundaries are pushed away from the target's
            examples). Not part of UFDN; an option for adaptation.
        seed: seed of the posterior noise.

    Trains on `(images, domain ids)` batches (`DigitDomains.batches()`); with a classifier on
    `(images, (domain ids, class labels))` (`batches(with_labels=True)`). Logs: loss, recon,
    kl, confusion (the encoder's adversarial term: ln(num_domains) at chance for "uniform",
    -ln(1 - 1 / num_domains) for "flip"), d_loss,
    domain_accuracy (D_v on z: 1 / num_domains when z is domain-free); with a classifier also
    class_loss and class_accuracy (on the labelled domains' examples of the batch) and
    unlabelled_entropy (C's prediction entropy on the other examples).

    Reference:
        Liu, Yeh, Wang 2018, A Unified Feature Disentangler for Multi-Domain Image Translation
        and Manipulation, NeurIPS (section and table numbers to be checked against the
        paper, which was not reachable offline).
    """

    log_keys = ("loss", "recon", "kl", "confusion", "d_loss", "domain_accuracy")
    unsupervised_capabilities = frozenset({contract.ENCODER, contract.DECODER, contract.PRIOR,
                                           contract.TRAVERSABLE})

    def __init__(self, num_domains=3, latent_dim=32, image_shape=(28, 28, 3),
                 conv_channels=(32, 64), dense_units=(256,), beta=1.0, domain_weight=1.0,
                 discriminator_units=(256, 256), num_classes=0, class_weight=1.0,
                 labelled_domains=(0,), entropy_weight=0.0, domain_ramp_steps=0,
                 adversary="uniform", batch_norm=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        contract.check_finite(beta=beta, domain_weight=domain_weight,
                              class_weight=class_weight, entropy_weight=entropy_weight)
        if min(beta, domain_weight, class_weight, entropy_weight) < 0:
            raise ValueError(f"beta, domain_weight, class_weight and entropy_weight must be "
                             f">= 0, got {beta}, {domain_weight}, {class_weight}, "
                             f"{entropy_weight}.")
        if entropy_weight and not num_classes:
            raise ValueError("entropy_weight needs the source classifier (num_classes > 0): "
                             "it is the entropy of C's predictions.")
        self.num_domains = check_count(num_domains, "num_domains")
        if self.num_domains < 2:
            raise ValueError(f"num_domains must be at least 2, got {num_domains}.")
        self.latent_dim = check_count(latent_dim, "latent_dim")
        self.image_shape = tuple(int(d) for d in image_shape)
        self.conv_channels = tuple(int(c) for c in conv_channels)
        self.dense_units = tuple(int(u) for u in dense_units)
        self.beta = float(beta)
        self.domain_weight = float(domain_weight)
        self.discriminator_units = tuple(int(u) for u in discriminator_units)
        self.num_classes = int(num_classes)
        if self.num_classes == 1 or self.num_classes < 0:
            raise ValueError(f"num_classes must be 0 (no classifier) or at least 2, got "
                             f"{num_classes}.")
        self.class_weight = float(class_weight)
        self.entropy_weight = float(entropy_weight)
        self.labelled_domains = tuple(sorted({int(d) for d in labelled_domains}))
        if not self.labelled_domains or not all(0 <= d < self.num_domains
                                                for d in self.labelled_domains):
            raise ValueError(f"labelled_domains must be domain ids in 0..{self.num_domains - 1}"
                             f", got {tuple(labelled_domains)}.")
        if adversary not in ("uniform", "flip"):
            raise ValueError(f"adversary must be 'uniform' or 'flip', got {adversary!r}.")
        self.adversary = adversary
        self.domain_ramp_steps = int(domain_ramp_steps)
        if self.domain_ramp_steps < 0:
            raise ValueError(f"domain_ramp_steps must be >= 0, got {domain_ramp_steps}.")
        self.batch_norm = bool(batch_norm)
        self.seed = seed
        self.encoder = networks.conv_encoder(self.image_shape, 2 * self.latent_dim,
                                             self.conv_channels, 4, self.dense_units,
                                             batch_norm=self.batch_norm)
        self.decoder = networks.conv_decoder(self.latent_dim + self.num_domains,
                                             self.image_shape, self.conv_channels, 4,
                                             self.dense_units, batch_norm=self.batch_norm)
        self.domain_discriminator = networks.mlp_classifier(
            self.latent_dim, self.discriminator_units, self.num_domains, "domain_discriminator")
        self.classifier = None
        if self.num_classes:
            self.classifier = networks.mlp_classifier(self.latent_dim, (), self.num_classes,
                                                      "source_classifier")
            self.log_keys = self.log_keys + ("class_loss", "class_accuracy",
                                             "unlabelled_entropy")
            for key in ("class_loss", "class_accuracy", "unlabelled_entropy"):
                self.trackers[key] = keras.metrics.Mean(name=key)
        self.seed_generator = keras.random.SeedGenerator(seed)
        if self.domain_ramp_steps:
            self.log_keys = self.log_keys + ("domain_ramp",)
            self.trackers["domain_ramp"] = keras.metrics.Mean(name="domain_ramp")
            self.add_step_counter()
        self.built = True

    @property
    def capabilities(self):
        """Encoder, decoder, prior, traversable; and classifier when `num_classes > 0`."""
        if self.num_classes:
            return self.unsupervised_capabilities | {contract.CLASSIFIER}
        return self.unsupervised_capabilities

    def get_config(self):
        config = super().get_config()
        config.update(num_domains=self.num_domains, latent_dim=self.latent_dim,
                      image_shape=list(self.image_shape),
                      conv_channels=list(self.conv_channels),
                      dense_units=list(self.dense_units), beta=self.beta,
                      domain_weight=self.domain_weight,
                      discriminator_units=list(self.discriminator_units),
                      num_classes=self.num_classes, class_weight=self.class_weight,
                      labelled_domains=list(self.labelled_domains),
                      entropy_weight=self.entropy_weight,
                      domain_ramp_steps=self.domain_ramp_steps, adversary=self.adversary,
                      batch_norm=self.batch_norm, seed=self.seed)
        return config

    def default_optimizer(self, learning_rate=None):
        """Adam 5e-4 for each phase (our choice); `learning_rate` replaces both."""
        rate = 5e-4 if learning_rate is None else learning_rate
        return {"vae": keras.optimizers.Adam(rate),
                "domain_discriminator": keras.optimizers.Adam(rate)}

    # -- graph pieces (keras.ops) -------------------------------------------------------------
    def _batch(self, data):
        """`(images, domain ids, class labels or None)` of a training batch."""
        images, domains, labels = unpack_domain_batch(data, "UFDN")
        if self.num_classes and labels is None:
            raise ValueError("This UFDN has a source classifier: it trains on (images, "
                             "(domain ids, class labels)) batches, e.g. "
                             "DigitDomains.batches(with_labels=True).")
        return images, domains, labels

    def _labelled_mask(self, domains):
        """1.0 for the examples of a labelled domain, else 0.0: `(n,)`."""
        mask = ops.zeros(ops.shape(domains), "float32")
        for domain in self.labelled_domains:
            mask = mask + ops.cast(ops.equal(domains, domain), "float32")
        return mask

    def _class_terms(self, mean, domains, labels, training):
        """C's mean cross-entropy and accuracy over the labelled-domain examples, and the mean
        entropy of its predictions over the other examples."""
        log_probs = ops.log_softmax(call_network(self.classifier, mean, training))
        mask = self._labelled_mask(domains)
        class_loss = -losses.masked_mean(losses.label_log_likelihood(log_probs, labels), mask)
        accuracy = losses.masked_mean(losses.correct_predictions(log_probs, labels), mask)
        entropy = losses.masked_mean(losses.prediction_entropy(log_probs), 1.0 - mask)
        return class_loss, accuracy, entropy

    def _posterior(self, images, training):
        stats = call_network(self.encoder, images, training)
        return stats[:, :self.latent_dim], stats[:, self.latent_dim:]

    def _sample_z(self, mean, log_var, training):
        return sample_gaussian(mean, log_var, self.noise_seed(self.seed_generator, training))

    def vae_loss(self, data, training=True):
        images, domains, labels = self._batch(data)
        mean, log_var = self._posterior(images, training)
        z = self._sample_z(mean, log_var, training)
        onehot = ops.one_hot(domains, self.num_domains)
        logits = call_network(self.decoder, ops.concatenate([z, onehot], axis=1), training)
        recon = ops.mean(losses.bernoulli_reconstruction(images, logits))
        kl = ops.mean(losses.gaussian_kl(mean, log_var))
        domain_log_probs = ops.log_softmax(call_network(self.domain_discriminator, z, training))
        if self.adversary == "uniform":
            confusion = ops.mean(losses.uniform_cross_entropy(domain_log_probs))
        else:
            confusion = ops.mean(losses.away_from_label(domain_log_probs, domains))
        logs = {"recon": recon, "kl": kl, "confusion": confusion}
        weight = self.domain_weight
        if self.domain_ramp_steps:
            ramp = losses.adversary_ramp(self.counted_step(training), self.domain_ramp_steps)
            weight = weight * ramp
            logs["domain_ramp"] = ramp
        loss = recon + self.beta * kl + weight * confusion
        if self.num_classes:
            class_loss, class_accuracy, entropy = self._class_terms(mean, domains, labels,
                                                                    training)
            loss = loss + self.class_weight * class_loss + self.entropy_weight * entropy
            logs.update(class_loss=class_loss, class_accuracy=class_accuracy,
                        unlabelled_entropy=entropy)
        logs["loss"] = loss
        return loss, logs

    def discriminator_loss(self, data, training=True):
        images, domains, _ = self._batch(data)
        mean, log_var = self._posterior(images, training)
        z = ops.stop_gradient(self._sample_z(mean, log_var, training))
        log_probs = ops.log_softmax(call_network(self.domain_discriminator, z, training))
        d_loss = -ops.mean(losses.label_log_likelihood(log_probs, domains))
        return d_loss, {"d_loss": d_loss, "domain_accuracy": ops.mean(
            losses.correct_predictions(log_probs, domains))}

    def training_phases(self):
        vae_variables = self.encoder.trainable_variables + self.decoder.trainable_variables
        if self.classifier is not None:
            vae_variables = vae_variables + self.classifier.trainable_variables
        return [training.Phase(self.vae_loss, vae_variables, "vae"),
                training.Phase(self.discriminator_loss,
                               self.domain_discriminator.trainable_variables,
                               "domain_discriminator")]

    def compute_losses(self, data, training=False):
        loss, logs = self.vae_loss(data, training)
        logs.update(self.discriminator_loss(data, training)[1])
        return loss, logs

    def call(self, images, training=False):
        """Reconstructions in [0, 1] in the domain D_v guesses (see `encode`)."""
        mean, _ = self._posterior(images, training)
        guess = ops.softmax(call_network(self.domain_discriminator, mean, training))
        return ops.sigmoid(call_network(self.decoder, ops.concatenate([mean, guess], 1),
                                        training))

    # -- the contract ----------------------------------------------------------------------------
    def code_layout(self):
        return (contract.CodePart("z", self.latent_dim, "gaussian", traversable=True,
                                  description="domain-invariant posterior mean"),
                contract.CodePart("domain", self.num_domains, "categorical",
                                  description="domain vector given to the decoder"))

    def domain_codes(self, domains, num=None):
        """One-hot domain vectors `(n, num_domains)` for domain ids (an int or an array; see
        `contract.domain_one_hot`)."""
        return contract.domain_one_hot(domains, self.num_domains, num)

    def encode(self, images, batch_size=256, domains=None):
        """`[mu(x), domain vector]` `(n, latent_dim + num_domains)`: the one-hot of `domains`
        when given, else D_v's probabilities (after training they are near uniform: z holds
        no domain, so pass the domain when you know it)."""
        images = check_images(images, self.image_shape)
        stats = predict_batched(self.encoder.predict_on_batch, images, batch_size)
        mean = stats[:, :self.latent_dim]
        if domains is None:
            logits = predict_batched(self.domain_discriminator.predict_on_batch, mean,
                                     batch_size)
            vector = softmax(logits)
        else:
            vector = self.domain_codes(domains, len(images))
        return np.concatenate([mean, vector], axis=1).astype(np.float32)

    def class_probabilities(self, images, batch_size=256):
        """C's class probabilities `(n, num_classes)` from mu(x), for images of any domain
        (capability "classifier": `num_classes > 0`)."""
        self.require(contract.CLASSIFIER, "classify images")
        mean = self.encode(images, batch_size, domains=0)[:, :self.latent_dim]
        return softmax(predict_batched(self.classifier.predict_on_batch, mean, batch_size))

    def _check_training_labels(self, x, y):
        """Labels come as (domain ids, class labels); the class labels are checked here, the
        domain ids by `DisentModel._check_training_domains`."""
        if y is None and isinstance(x, (tuple, list)) and len(x) == 2:
            x, y = x
        if not isinstance(y, (tuple, list)) or len(y) != 2:
            raise ValueError("This UFDN has a source classifier: it trains on (images, "
                             "(domain ids, class labels)) batches, e.g. "
                             "DigitDomains.batches(with_labels=True).")
        num = len(x) if isinstance(x, np.ndarray) else None
        contract.check_labels(np.asarray(keras.ops.convert_to_numpy(y[1])), self.num_classes,
                              num, "class labels")

    def decode(self, codes, batch_size=256):
        """Images in [0, 1] from `[z, domain vector]` codes."""
        return sigmoid_decode(self.decoder, codes, self.code_dim, batch_size)

    def translate(self, images, target_domain, batch_size=256):
        """`images` (any domain) drawn in `target_domain`: decode([mu(x), onehot(target)])."""
        z = self.encode(images, batch_size, domains=0)[:, :self.latent_dim]
        return self.decode(np.concatenate([z, self.domain_codes(target_domain, len(z))], 1),
                           batch_size)

    def sample_codes(self, num, seed=None):
        """z from N(0, I) and a uniformly drawn domain per code."""
        rng = np.random.default_rng(seed)
        num = check_count(num)
        z = rng.standard_normal((num, self.latent_dim)).astype(np.float32)
        return np.concatenate(
            [z, self.domain_codes(rng.integers(0, self.num_domains, num), num)], 1)

    def decoder_network(self):
        return sigmoid_decoder_network(self.decoder, self.code_dim)

    def encoder_network(self):
        images = keras.Input(self.image_shape, name="images")
        stats = self.encoder(images)
        mean = keras.layers.Lambda(lambda s: s[:, :self.latent_dim], name="z")(stats)
        guess = keras.layers.Softmax(name="domain")(self.domain_discriminator(mean))
        codes = keras.layers.Concatenate(name="codes")([mean, guess])
        return keras.Model(images, codes, name="encoder_export")
