"""Loss terms as pure `keras.ops` functions returning one value per example, shape `(batch,)`.

Every function here is tested against a numpy closed form in `tests/test_losses.py`.
"""

import math

from keras import ops


def _flat_sum(x):
    return ops.sum(ops.reshape(x, (ops.shape(x)[0], -1)), axis=1)


def bernoulli_reconstruction(images, logits):
    """-log p(x|z) under a Bernoulli decoder, summed over pixels.

    Args:
        images: targets in [0, 1], `(batch, H, W, C)`.
        logits: decoder outputs before the sigmoid, same shape.

    Returns:
        `(batch,)` sum of per-pixel binary cross-entropies.

    Example:
        >>> bernoulli_reconstruction(ops.zeros((2, 4, 4, 1)), ops.zeros((2, 4, 4, 1)))
        # 16 * log(2) per example

    Reference:
        Kingma & Welling 2014, Auto-Encoding Variational Bayes, Appendix C.1.
    """
    # Stable form: max(l, 0) - l * x + log(1 + exp(-|l|)).
    per_pixel = ops.relu(logits) - logits * images + ops.softplus(-ops.abs(logits))
    return _flat_sum(per_pixel)


def gaussian_reconstruction(images, logits):
    """Squared error of `sigmoid(logits)` to the images, summed over pixels.

    This is -log p(x|z) of a Gaussian decoder with mean `sigmoid(logits)` and fixed variance
    1/2, up to a constant: the "l2" loss of disentanglement_lib.

    Returns:
        `(batch,)` sum of squared errors.
    """
    return _flat_sum(ops.square(ops.sigmoid(logits) - images))


def gaussian_kl(mean, log_var):
    """KL(N(mean, exp(log_var)) || N(0, I)), summed over latent dimensions.

    Returns:
        `(batch,)` values `0.5 * sum(mean^2 + exp(log_var) - log_var - 1)`.

    Reference:
        Kingma & Welling 2014, Appendix B.
    """
    return 0.5 * ops.sum(ops.square(mean) + ops.exp(log_var) - log_var - 1.0, axis=1)


def gaussian_kl_per_dim(mean, log_var):
    """KL per latent dimension, `(batch, latent_dim)`; the sum over dims is `gaussian_kl`."""
    return 0.5 * (ops.square(mean) + ops.exp(log_var) - log_var - 1.0)


def linear_capacity(step, capacity_max, capacity_steps):
    """Burgess et al. 2018 capacity schedule C(t) = c_max * min(t / N, 1), in nats."""
    fraction = ops.minimum(ops.cast(step, "float32") / float(capacity_steps), 1.0)
    return capacity_max * fraction


def capacity_penalty(kl, capacity, gamma):
    """Burgess et al. 2018 Eq. 8 regulariser: `gamma * |KL - C|`, per example."""
    return gamma * ops.abs(kl - capacity)


def gaussian_log_density(samples, mean, log_var):
    """Elementwise log N(samples; mean, exp(log_var)); shapes broadcast."""
    normalization = math.log(2.0 * math.pi)
    inv_var = ops.exp(-log_var)
    return -0.5 * (ops.square(samples - mean) * inv_var + log_var + normalization)
