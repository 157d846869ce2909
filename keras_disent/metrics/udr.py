"""UDR: Unsupervised Disentanglement Ranking (Duan et al. ICLR 2020), disentanglement_lib's
model-selection score that needs no ground-truth factors.

Models trained with the same method and hyperparameters but different seeds are compared in
pairs: a disentangled model's informative latents should each match one latent of the other
model (up to permutation and sign). For models i, j encoded on the same inputs:
  1. each representation (the posterior means) is standardised, and latents whose average
     KL to the prior is <= 0.01 are zeroed;
  2. a similarity matrix R between the latents of i and j: |Lasso(alpha=0.1) coefficients|
     regressing j's latents on i's (default), or |Spearman correlation|;
  3. the informative latents (KL > `kl_threshold`) of each model are kept, and the score is
     the relative strength (sum over rows of max^2 / sum, averaged, and the same over
     columns, the two averaged);
  4. a model's UDR is the median of its scores against every other model.
This follows disentanglement_lib's `evaluation/udr/metrics/udr.py` (`compute_udr_sklearn`).

Reference:
    Duan, Matthey, Saraiva, Watters, Burgess, Lerchner, Higgins 2020, Unsupervised Model
    Selection for Variational Disentangled Representation Learning, ICLR.
"""

import numpy as np
from scipy import stats
from sklearn import linear_model, preprocessing


def relative_strength(similarity):
    """The relative-strength score of a similarity matrix `(d_i, d_j)` in [0, 1]: 1 when each
    row and column has a single non-zero entry (a permutation)."""
    similarity = np.asarray(similarity, np.float64)
    if similarity.size == 0:
        return 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        columns = np.nan_to_num(similarity.max(axis=0) ** 2 / similarity.sum(axis=0), nan=0.0)
        rows = np.nan_to_num(similarity.max(axis=1) ** 2 / similarity.sum(axis=1), nan=0.0)
    return float((np.mean(columns) + np.mean(rows)) / 2.0)


def similarity_matrix(first, second, correlation="lasso", seed=0):
    """`(d, d)` similarity between the latents of two representations `(n, d)` each."""
    if correlation == "lasso":
        model = linear_model.Lasso(alpha=0.1, random_state=seed)
        model.fit(first, second)
        return np.abs(model.coef_).T
    if correlation == "spearman":
        d = first.shape[1]
        rho = stats.spearmanr(first, second)[0]
        return np.abs(np.nan_to_num(np.asarray(rho)[:d, d:]))
    raise ValueError(f"correlation must be 'lasso' or 'spearman', got {correlation!r}.")


def udr_from_representations(representations, kls, correlation="lasso", kl_threshold=0.01,
                             seed=0):
    """UDR of several models from their representations of the same inputs.

    Args:
        representations: one `(n, d)` array per model (the same n inputs, the same d).
        kls: one `(d,)` array per model: the average KL of each latent to the prior.
        correlation: "lasso" (disentanglement_lib's default) or "spearman".
        kl_threshold: latents at or below it count as uninformative.

    Returns:
        `{"model_scores": [...], "pairwise": (m, m) nested list (diagonal 0)}`.
    """
    if len(representations) < 2 or len(representations) != len(kls):
        raise ValueError(f"UDR compares at least 2 models (one representation and one KL "
                         f"vector each); got {len(representations)} and {len(kls)}.")
    shapes = {np.shape(r) for r in representations}
    if len(shapes) != 1:
        raise ValueError(f"representations must all have the same shape, got {sorted(shapes)}.")
    prepared, masks = [], []
    for representation, kl in zip(representations, kls):
        kl = np.asarray(kl, np.float64)
        scaled = preprocessing.StandardScaler().fit_transform(np.asarray(representation,
                                                                         np.float64))
        prepared.append(scaled * (kl > 0.01))
        masks.append(kl > kl_threshold)
    count = len(prepared)
    pairwise = np.zeros((count, count))
    for i in range(count):
        for j in range(count):
            if i != j:
                similarity = similarity_matrix(prepared[i], prepared[j], correlation, seed)
                pairwise[i, j] = relative_strength(similarity[masks[i]][:, masks[j]])
    scores = [float(np.median(np.delete(pairwise[:, i], i))) for i in range(count)]
    return {"model_scores": scores, "pairwise": pairwise.tolist()}


def udr(models, dataset, num_points=1000, correlation="lasso", kl_threshold=0.01, seed=0,
        batch_size=256):
    """UDR of trained VAE-family models (same method and strength, different seeds).

    Args:
        models: models with `encode_distribution` (the VAE family), same latent size.
        dataset: a ground-truth dataset (its factors are not used) or anything with
            `sample(num, seed) -> (factors, images)`.
        num_points: inputs drawn (disentanglement_lib: 1,000).

    Returns:
        `udr_from_representations`' dict plus "num_points" and "correlation".
    """
    _, images = dataset.sample(num_points, seed)
    representations, kls = [], []
    for model in models:
        if not hasattr(model, "encode_distribution"):
            raise ValueError(f"UDR needs posterior distributions: {type(model).__name__} has "
                             "no encode_distribution (the VAE family has).")
        mean, log_var = model.encode_distribution(images, batch_size)
        representations.append(mean)
        kls.append(np.mean(0.5 * (mean ** 2 + np.exp(log_var) - 1.0 - log_var), axis=0))
    result = udr_from_representations(representations, kls, correlation, kl_threshold, seed)
    result.update(num_points=int(num_points), correlation=correlation)
    return result
