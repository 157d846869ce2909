"""Disentanglement metrics with disentanglement_lib's protocols, vectorised numpy + sklearn.

Each metric takes `representation_fn(images) -> codes`, a ground-truth dataset, `seed` and
its protocol sizes, and returns a dict of named scores. `evaluate` runs several at once.
"""

import sys
import time

from keras_disent.metrics.beta_vae import beta_vae_score
from keras_disent.metrics.dci import dci
from keras_disent.metrics.factor_vae import factor_vae_score
from keras_disent.metrics.mig import mig
from keras_disent.metrics.modularity import modularity
from keras_disent.metrics.sap import sap

METRICS = {
    "beta_vae": beta_vae_score,
    "factor_vae": factor_vae_score,
    "mig": mig,
    "dci": dci,
    "sap": sap,
    "modularity": modularity,
}

__all__ = ["METRICS", "beta_vae_score", "dci", "evaluate", "factor_vae_score", "mig",
           "modularity", "representation_function", "sap"]


def representation_function(model_or_fn):
    """`model.encode` for a model, the callable itself otherwise."""
    if hasattr(model_or_fn, "encode"):
        return model_or_fn.encode
    if callable(model_or_fn):
        return model_or_fn
    raise TypeError(
        f"Expected a model with .encode(images) or a callable images -> codes, got "
        f"{type(model_or_fn).__name__}."
    )


def evaluate(model_or_fn, dataset, metrics=("mig", "factor_vae", "dci", "sap", "modularity",
                                            "beta_vae"), seed=0, verbose=True, **sizes):
    """Runs several metrics; returns `{metric: {score: value, ..., "seconds": t}}`.

    Args:
        model_or_fn: a model with `encode` or a `representation_fn`.
        dataset: a ground-truth dataset.
        metrics: names from `METRICS`.
        seed: seed passed to every metric.
        verbose: print each metric's result and time to stderr.
        **sizes: protocol overrides given as `<metric>__<argument>=value`, e.g.
            `beta_vae__num_train=1000`, or `num_train=1000` for every metric that takes it.
    """
    unknown = [name for name in metrics if name not in METRICS]
    if unknown:
        raise ValueError(f"Unknown metric(s) {unknown}. Available: {sorted(METRICS)}.")
    representation_fn = representation_function(model_or_fn)
    results = {}
    for name in metrics:
        fn = METRICS[name]
        params = fn.__code__.co_varnames[:fn.__code__.co_argcount]
        kwargs = {k: v for k, v in sizes.items() if "__" not in k and k in params}
        kwargs.update({k.split("__", 1)[1]: v for k, v in sizes.items()
                       if k.startswith(name + "__")})
        start = time.time()
        scores = fn(representation_fn, dataset, seed=seed, **kwargs)
        scores["seconds"] = round(time.time() - start, 2)
        results[name] = scores
        if verbose:
            shown = {k: round(v, 4) for k, v in scores.items() if isinstance(v, float)}
            print(f"[keras-disent] {name}: {shown}", file=sys.stderr, flush=True)
    return results
