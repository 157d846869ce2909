"""D2AE (Liu et al. CVPR 2018): identity distilled into one branch, dispelled from the other."""

import keras
import numpy as np
from keras import layers, ops

from keras_disent import contract, losses, networks, training
from keras_disent.contract import check_count, check_images, predict_batched
from keras_disent.models.base import DisentModel, sigmoid_decode, sigmoid_decoder_network, \
    softmax
from keras_disent.speed import call_network

# Two public reimplementations of D2AE (Chainer and TensorFlow) use lambda_T = 1,
# lambda_P = 0.1 and lambda_X = 1.81e-5 on the squared error summed over the pixels of 0..255
# images. On [0, 1] images the same weight is 1.81e-5 * 255**2.
PAPER_RECONSTRUCTION_WEIGHT_255 = 1.81e-5
RECONSTRUCTION_WEIGHT = PAPER_RECONSTRUCTION_WEIGHT_255 * 255.0 ** 2  # 1.177


def _branch(input_dim, units, output_dim, name):
    inputs = keras.Input((input_dim,))
    x = layers.Dense(units, activation="relu", name="dense")(inputs)
    return keras.Model(inputs, layers.Dense(output_dim, name="feature")(x), name=name)


@keras.saving.register_keras_serializable(package="keras_disent")
class D2AE(DisentModel):
    """Identity Distilling and Dispelling Auto-Encoder.

    A shared conv trunk feeds two branches: the distil branch's feature f_T is trained to
    classify identity (a softmax classifier C_T on it); the dispel branch's feature f_P is
    trained to fool an identity classifier C_P, i.e. to push C_P's prediction to the uniform
    distribution, while C_P itself keeps learning to classify identity from f_P. A decoder
    reconstructs the image from [f_T, f_P], so f_P must carry everything but the identity.

    Two phases per train step (the training core's `OptimizerGroup`):
      "autoencoder" (trunk, both branches, C_T, decoder):
          lambda_T * CE(C_T(f_T), y) + lambda_P * CE(uniform, C_P(f_P)) + lambda_X * ||x - D||^2
      "adversary" (C_P): CE(C_P(stop_gradient(f_P)), y).
    `swap(a, b)` decodes [f_T(a), f_P(b)]: the identity of `a` in the pose and light of `b`.

    Taken from the paper: the shared encoder with a distilling and a dispelling branch, the
    softmax identity loss on f_T, the adversarial classifier on f_P whose output the encoder
    pushes to the uniform distribution (cross-entropy against 1/N), the decoder on the
    concatenated features with an L2 reconstruction loss, and the alternating updates. The
    paper's text was not reachable offline (only its abstract); the loss weights lambda_T = 1,
    lambda_P = 0.1, lambda_X = 1.81e-5 (squared error summed over 0..255 pixels, i.e. 1.177 on
    our [0, 1] pixels) are those of two public reimplementations (Chainer_D2AE, ivychill/d2ae).
    Our choices: the small conv trunk (Burgess et al.'s 64x64 encoder) instead of the paper's
    Inception-ResNet for faces, the feature sizes, a one-hidden-layer MLP per branch, a
    two-hidden-layer C_P, a sigmoid decoder output, and Adam 5e-4 for both phases (the
    reimplementations: 1e-4) so a CPU run converges in a few thousand steps.

    Args:
        num_classes: number of identities.
        identity_dim: dims of f_T (distil branch).
        rest_dim: dims of f_P (dispel branch).
        image_shape: input image shape.
        conv_channels, dense_units, kernel_size: the trunk (see `networks.conv_encoder`); the
            decoder mirrors it.
        trunk_dim: the trunk's output size, shared by both branches.
        branch_units: hidden units of each branch.
        adversary_units: hidden layers of C_P.
        identity_weight, dispel_weight, reconstruction_weight: lambda_T, lambda_P, lambda_X.
        adversary_steps: updates of C_P per train step (on the same batch; 1 in the paper's
            alternation). More make a stronger adversary for the encoder to fool.
        seed: unused by training (no noise); recorded for the contract.

    Trains on `(images, identity labels)` batches. Logs: loss, recon, identity_ce,
    identity_accuracy (C_T on f_T), confusion (CE of C_P's prediction against uniform;
    ln N at chance), adversary_ce, adversary_accuracy (C_P on f_P: near chance when
    dispelled).

    Reference:
        Liu, Wei, Shao, Sheng, Yan, Wang 2018, Exploring Disentangled Feature Representation
        Beyond Face Identification, CVPR (arXiv:1804.03487).
    """

    log_keys = ("loss", "recon", "identity_ce", "identity_accuracy", "confusion",
                "adversary_ce", "adversary_accuracy")
    capabilities = frozenset({contract.ENCODER, contract.DECODER, contract.CLASSIFIER})

    def __init__(self, num_classes=6, identity_dim=16, rest_dim=16, image_shape=(64, 64, 1),
                 conv_channels=(32, 32, 64, 64), dense_units=(256,), kernel_size=4,
                 trunk_dim=256, branch_units=256, adversary_units=(256, 256),
                 identity_weight=1.0, dispel_weight=0.1,
                 reconstruction_weight=RECONSTRUCTION_WEIGHT, adversary_steps=1, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        contract.check_finite(identity_weight=identity_weight, dispel_weight=dispel_weight,
                              reconstruction_weight=reconstruction_weight)
        for name, value in (("identity_weight", identity_weight),
                            ("dispel_weight", dispel_weight),
                            ("reconstruction_weight", reconstruction_weight)):
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}.")
        self.num_classes = contract.check_num_classes(num_classes)
        self.identity_dim = check_count(identity_dim, "identity_dim")
        self.rest_dim = check_count(rest_dim, "rest_dim")
        self.image_shape = tuple(int(d) for d in image_shape)
        self.conv_channels = tuple(int(c) for c in conv_channels)
        self.dense_units = tuple(int(u) for u in dense_units)
        self.kernel_size = int(kernel_size)
        self.trunk_dim = check_count(trunk_dim, "trunk_dim")
        self.branch_units = check_count(branch_units, "branch_units")
        self.adversary_units = tuple(int(u) for u in adversary_units)
        self.identity_weight = float(identity_weight)
        self.dispel_weight = float(dispel_weight)
        self.reconstruction_weight = float(reconstruction_weight)
        self.adversary_steps = check_count(adversary_steps, "adversary_steps")
        self.seed = seed
        self.trunk = networks.conv_encoder(self.image_shape, self.trunk_dim, self.conv_channels,
                                           self.kernel_size, self.dense_units, name="trunk")
        self.distil = _branch(self.trunk_dim, self.branch_units, self.identity_dim, "distil")
        self.dispel = _branch(self.trunk_dim, self.branch_units, self.rest_dim, "dispel")
        self.identity_classifier = networks.mlp_classifier(
            self.identity_dim, (), self.num_classes, "identity_classifier")
        self.adversary = networks.mlp_classifier(self.rest_dim, self.adversary_units,
                                                 self.num_classes, "adversary")
        self.decoder = networks.conv_decoder(self.code_dim, self.image_shape,
                                             self.conv_channels, self.kernel_size,
                                             self.dense_units, name="decoder")
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update(num_classes=self.num_classes, identity_dim=self.identity_dim,
                      rest_dim=self.rest_dim, image_shape=list(self.image_shape),
                      conv_channels=list(self.conv_channels), dense_units=list(self.dense_units),
                      kernel_size=self.kernel_size, trunk_dim=self.trunk_dim,
                      branch_units=self.branch_units,
                      adversary_units=list(self.adversary_units),
                      identity_weight=self.identity_weight, dispel_weight=self.dispel_weight,
                      reconstruction_weight=self.reconstruction_weight,
                      adversary_steps=self.adversary_steps, seed=self.seed)
        return config

    def default_optimizer(self, learning_rate=None):
        """Adam 5e-4 for each phase (our choice, see the class docstring)."""
        rate = 5e-4 if learning_rate is None else learning_rate
        return {"autoencoder": keras.optimizers.Adam(rate),
                "adversary": keras.optimizers.Adam(rate)}

    # -- graph pieces (keras.ops) -------------------------------------------------------------
    def features(self, images, training=False):
        """`(f_T, f_P)`: the distilled (identity) and dispelled (the rest) features."""
        trunk = ops.relu(call_network(self.trunk, images, training))
        return (call_network(self.distil, trunk, training),
                call_network(self.dispel, trunk, training))

    def _classify(self, classifier, features, labels, training):
        """`(mean cross-entropy, accuracy)` of `classifier` on `features`."""
        log_probs = ops.log_softmax(call_network(classifier, features, training))
        return (-ops.mean(losses.label_log_likelihood(log_probs, labels)),
                ops.mean(losses.correct_predictions(log_probs, labels)))

    @staticmethod
    def _labelled(data):
        images, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
        if labels is None:
            raise ValueError("D2AE trains on (images, identity labels) batches; got images "
                             "only.")
        return (ops.convert_to_tensor(images, dtype="float32"),
                ops.cast(ops.reshape(labels, (-1,)), "int32"))

    def autoencoder_loss(self, data, training=True):
        """lambda_T * identity CE + lambda_P * confusion + lambda_X * reconstruction."""
        images, labels = self._labelled(data)
        identity, rest = self.features(images, training)
        identity_ce, identity_accuracy = self._classify(self.identity_classifier, identity,
                                                        labels, training)
        confusion = ops.mean(losses.uniform_cross_entropy(
            ops.log_softmax(call_network(self.adversary, rest, training))))
        decoded = ops.sigmoid(call_network(self.decoder, ops.concatenate([identity, rest], 1),
                                           training))
        recon = ops.mean(ops.sum(ops.square(images - decoded), axis=(1, 2, 3)))
        loss = (self.identity_weight * identity_ce + self.dispel_weight * confusion
                + self.reconstruction_weight * recon)
        return loss, {"loss": loss, "recon": recon, "identity_ce": identity_ce,
                      "identity_accuracy": identity_accuracy,
                      "confusion": confusion}

    def adversary_loss(self, data, training=True):
        """C_P learns to classify identity from the (fixed) dispelled feature."""
        images, labels = self._labelled(data)
        _, rest = self.features(images, training)
        adversary_ce, adversary_accuracy = self._classify(
            self.adversary, ops.stop_gradient(rest), labels, training)
        return adversary_ce, {"adversary_ce": adversary_ce,
                              "adversary_accuracy": adversary_accuracy}

    def prediction_loss(self, images, labels):
        """Mean identity cross-entropy of C_T(f_T) (what a gradient-sign attack ascends)."""
        identity, _ = self.features(images, training=False)
        return self._classify(self.identity_classifier, identity, labels, False)[0]

    def training_phases(self):
        autoencoder = (self.trunk.trainable_variables + self.distil.trainable_variables
                       + self.dispel.trainable_variables
                       + self.identity_classifier.trainable_variables
                       + self.decoder.trainable_variables)
        adversary = training.Phase(self.adversary_loss, self.adversary.trainable_variables,
                                   "adversary")
        return ([training.Phase(self.autoencoder_loss, autoencoder, "autoencoder")]
                + [adversary] * self.adversary_steps)

    def compute_losses(self, data, training=False):
        loss, logs = self.autoencoder_loss(data, training)
        logs.update(self.adversary_loss(data, training)[1])
        return loss, logs

    def call(self, images, training=False):
        """Reconstructions in [0, 1]."""
        identity, rest = self.features(images, training)
        return ops.sigmoid(call_network(self.decoder, ops.concatenate([identity, rest], 1),
                                        training))

    # -- the contract ----------------------------------------------------------------------------
    def code_layout(self):
        return (contract.CodePart("identity", self.identity_dim, "feature",
                                  description="f_T, distilled: classifies the identity"),
                contract.CodePart("rest", self.rest_dim, "feature",
                                  description="f_P, dispelled: everything but the identity"))

    def _encoder_outputs(self, batch):
        trunk = np.maximum(self.trunk.predict_on_batch(batch), 0.0)
        return np.concatenate([self.distil.predict_on_batch(trunk),
                               self.dispel.predict_on_batch(trunk)], axis=1)

    def encode(self, images, batch_size=256):
        """`[f_T, f_P]` `(n, identity_dim + rest_dim)` of images in [0, 1]."""
        images = check_images(images, self.image_shape)
        return predict_batched(self._encoder_outputs, images, batch_size)

    def encode_parts(self, images, batch_size=256):
        """`{"identity": f_T, "rest": f_P}` as numpy arrays."""
        codes = self.encode(images, batch_size)
        return {"identity": codes[:, :self.identity_dim], "rest": codes[:, self.identity_dim:]}

    def decode(self, codes, batch_size=256):
        """Images in [0, 1] from `[f_T, f_P]` codes."""
        return sigmoid_decode(self.decoder, codes, self.code_dim, batch_size)

    def swap(self, identity_images, rest_images, batch_size=256):
        """Images with the identity of `identity_images[i]` and the rest (pose, light, ...) of
        `rest_images[j]`: numpy `(len(identity_images), len(rest_images), H, W, C)`."""
        identity = self.encode_parts(identity_images, batch_size)["identity"]
        rest = self.encode_parts(rest_images, batch_size)["rest"]
        rows, cols = len(identity), len(rest)
        codes = np.concatenate([np.repeat(identity, cols, 0), np.tile(rest, (rows, 1))], 1)
        images = self.decode(codes, batch_size)
        return images.reshape((rows, cols) + images.shape[1:])

    def class_probabilities(self, images, batch_size=256):
        """C_T's identity probabilities from the distilled feature."""
        identity = self.encode_parts(images, batch_size)["identity"]
        logits = predict_batched(self.identity_classifier.predict_on_batch, identity, batch_size)
        return softmax(logits)

    def decoder_network(self):
        return sigmoid_decoder_network(self.decoder, self.code_dim)

    def encoder_network(self):
        images = keras.Input(self.image_shape, name="images")
        trunk = keras.layers.ReLU()(self.trunk(images))
        codes = keras.layers.Concatenate(name="codes")([self.distil(trunk), self.dispel(trunk)])
        return keras.Model(images, codes, name="encoder_export")
