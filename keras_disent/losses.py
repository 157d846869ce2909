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
    # The backends' fused, stable kernels (torch: binary_cross_entropy_with_logits; tf:
    # sigmoid_cross_entropy_with_logits): one op forward and backward instead of five.
    return _flat_sum(ops.binary_crossentropy(images, logits, from_logits=True))


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


def adversary_ramp(step, ramp_steps):
    """Ganin et al. 2016 (JMLR, DANN) schedule of the adversary's weight: 2 / (1 + exp(-10 p))
    - 1 with p = min(step / ramp_steps, 1), rising from 0 at step 0 to ~1 (0.9999) at
    `ramp_steps`; 1 when `ramp_steps` is 0 (no ramp)."""
    if not ramp_steps:
        return ops.convert_to_tensor(1.0, "float32")
    progress = ops.minimum(ops.cast(step, "float32") / float(ramp_steps), 1.0)
    return 2.0 / (1.0 + ops.exp(-10.0 * progress)) - 1.0


def capacity_penalty(kl, capacity, gamma):
    """Burgess et al. 2018 Eq. 8 regulariser: `gamma * |KL - C|`, per example."""
    return gamma * ops.abs(kl - capacity)


def gaussian_log_density(samples, mean, log_var):
    """Elementwise log N(samples; mean, exp(log_var)); shapes broadcast."""
    samples, mean, log_var = (ops.convert_to_tensor(t) for t in (samples, mean, log_var))
    normalization = math.log(2.0 * math.pi)
    inv_var = ops.exp(-log_var)
    return -0.5 * (ops.square(samples - mean) * inv_var + log_var + normalization)


def _log_importance_weights(batch_size, dataset_size):
    """Chen et al. 2018 minibatch stratified sampling weights, log, `(batch, batch)`."""
    import numpy as np

    n, m = float(dataset_size), float(batch_size - 1)
    weights = np.full((batch_size, batch_size), 1.0 / m)
    flat = weights.reshape(-1)
    flat[::batch_size + 1] = 1.0 / n
    flat[1::batch_size + 1] = (n - m) / (n * m)
    weights[batch_size - 2, 0] = (n - m) / (n * m)
    return np.log(weights).astype("float32")


def elbo_decomposition(z, mean, log_var, dataset_size, estimator="mws"):
    """Per-example index-code MI, total correlation and dimension-wise KL (Chen et al. Eq. 2).

    With q(z) the aggregate posterior estimated on the minibatch:
        mi     = log q(z|x) - log q(z)
        tc     = log q(z) - sum_j log q(z_j)
        dim_kl = sum_j log q(z_j) - log p(z)
    Their sum is log q(z|x) - log p(z), a one-sample estimate of KL(q(z|x) || p(z)).

    Args:
        z: samples from q(z|x), `(batch, d)`.
        mean, log_var: the posterior parameters of the same batch.
        dataset_size: N, the number of training images (used by "mss").
        estimator: "mws" (minibatch-weighted sampling) or "mss" (minibatch stratified
            sampling; batch size >= 3).

    Returns:
        `(mi, tc, dim_kl)`, each `(batch,)`.

    Reference:
        Chen, Li, Grosse, Duvenaud 2018, Isolating Sources of Disentanglement in VAEs,
        NeurIPS, Sec. 3 and Appendix C (MWS Eq. S8, MSS Eq. S9).
    """
    if estimator not in ("mws", "mss"):
        raise ValueError(f"estimator must be 'mws' or 'mss', got {estimator!r}.")
    z, mean, log_var = (ops.convert_to_tensor(t, "float32") for t in (z, mean, log_var))
    log_q_zx = ops.sum(gaussian_log_density(z, mean, log_var), axis=1)
    log_p_z = ops.sum(gaussian_log_density(z, ops.zeros_like(z), ops.zeros_like(z)), axis=1)
    # matrix[i, j, k] = log q(z_i[k] | x_j)
    matrix = gaussian_log_density(z[:, None, :], mean[None, :, :], log_var[None, :, :])
    batch = ops.shape(z)[0]
    if estimator == "mws":
        # q(z) ~= (1/M) sum_j q(z | x_j). Chen et al.'s reference code subtracts log(M N)
        # instead, which shifts TC by (d - 1) log N and leaves every gradient unchanged; the
        # batch normaliser keeps TC on the scale of its closed form (0 when independent).
        log_norm = ops.log(ops.cast(batch, "float32"))
        log_q_z = ops.logsumexp(ops.sum(matrix, axis=2), axis=1) - log_norm
        log_q_z_dims = ops.sum(ops.logsumexp(matrix, axis=1) - log_norm, axis=1)
    else:
        weights = ops.convert_to_tensor(_log_importance_weights(int(z.shape[0]), dataset_size))
        log_q_z = ops.logsumexp(weights + ops.sum(matrix, axis=2), axis=1)
        log_q_z_dims = ops.sum(ops.logsumexp(weights[:, :, None] + matrix, axis=1), axis=1)
    return log_q_zx - log_q_z, log_q_z - log_q_z_dims, log_q_z_dims - log_p_z


def clamp_latents(z, active):
    """DC-IGN's clamped latents and the auxiliary term that carries its gradient replacement.

    In a batch where only some factors vary, the inactive latents are replaced by their batch
    mean before decoding (the decoder sees no per-sample deviation in them), and their gradient
    is replaced by their difference from that mean. `0.5 * ||z - stop_gradient(mean)||^2` over
    the inactive dims has exactly that gradient, `z - mean`.

    Args:
        z: latent samples `(batch, latent_dim)`.
        active: 1 for the latents that may vary in this batch, 0 for the clamped ones;
            `(batch, latent_dim)` or `(latent_dim,)`.

    Returns:
        `(clamped z (batch, latent_dim), auxiliary loss (batch,))`.

    Example:
        >>> clamped, aux = clamp_latents(z, [1, 0, 0])  # only latent 0 varies

    Reference:
        Kulkarni, Whitney, Kohli, Tenenbaum 2015, Deep Convolutional Inverse Graphics Network,
        NeurIPS, Sec. 3.1 (training with clamped latents) and Fig. 3.
    """
    active = ops.cast(ops.convert_to_tensor(active), z.dtype)
    inactive = 1.0 - active
    batch_mean = ops.stop_gradient(ops.mean(z, axis=0, keepdims=True))
    clamped = active * z + inactive * batch_mean
    auxiliary = 0.5 * ops.sum(inactive * ops.square(z - batch_mean), axis=1)
    return clamped, auxiliary


def label_log_likelihood(log_probs, labels):
    """log q(y | x) per example: the entry of `log_probs` `(batch, classes)` at each label.

    Its negative mean is the cross-entropy of a classifier (Deep VIB, D2AE's C_T and C_P,
    UFDN's domain discriminator)."""
    return ops.take_along_axis(log_probs, ops.cast(labels, "int32")[:, None], axis=1)[:, 0]


def uniform_cross_entropy(log_probs):
    """Cross-entropy of the uniform distribution against `log_probs`, per example:
    -mean_j log q_j, smallest (ln N) when q is uniform. An encoder minimises it to fool a
    classifier of its code (D2AE's dispel branch, UFDN's domain-free z)."""
    return -ops.mean(log_probs, axis=-1)


def away_from_label(log_probs, labels):
    """-log(1 - q(label | x)) per example, computed as -logsumexp of the other classes'
    log-probabilities (stable when q(label) -> 1). With two classes it is the cross-entropy
    against the flipped label: the encoder's objective in UFDN's authors' code
    (Alexander-H-Liu/UFDN, train_uda.py), the non-saturating GAN form of fooling a
    classifier of the code."""
    mask = ops.one_hot(ops.cast(labels, "int32"), ops.shape(log_probs)[-1])
    return -ops.logsumexp(log_probs - 1e9 * mask, axis=-1)


def masked_mean(values, mask):
    """Mean of `values` over the examples where `mask` is 1 (0 when none is)."""
    return ops.sum(mask * values) / ops.maximum(ops.sum(mask), 1.0)


def prediction_entropy(log_probs):
    """Entropy -sum_j q_j log q_j of each row of `log_probs` `(batch, classes)`, in nats.
    Its mean over unlabelled examples is the conditional-entropy term of entropy
    minimisation (Grandvalet & Bengio 2005; Shu et al. 2018, VADA, on the target domain)."""
    return -ops.sum(ops.exp(log_probs) * log_probs, axis=-1)


def correct_predictions(log_probs, labels):
    """1.0 where the most probable class is the label, else 0.0 (per example)."""
    return ops.cast(ops.equal(ops.argmax(log_probs, axis=1), ops.cast(labels, "int32")),
                    "float32")


def batch_covariance(x):
    """The covariance `(d, d)` of the rows of `x` `(batch, d)`: E[x x^T] - E[x] E[x]^T (the
    biased, 1/batch estimate, as DIP-VAE uses it)."""
    centred = x - ops.mean(x, axis=0, keepdims=True)
    return ops.matmul(ops.transpose(centred), centred) / ops.cast(ops.shape(x)[0], x.dtype)


def dip_penalties(covariance):
    """`(sum_{i != j} C_ij^2, sum_i (C_ii - 1)^2)` of a covariance matrix: its distance from the
    identity, off the diagonal and on it (Kumar et al. 2018, DIP-VAE)."""
    diagonal = ops.diagonal(covariance)
    off = covariance * (1.0 - ops.eye(covariance.shape[-1], dtype=covariance.dtype))
    return ops.sum(ops.square(off)), ops.sum(ops.square(diagonal - 1.0))
