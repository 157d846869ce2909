"""Disentanglement metrics with disentanglement_lib's protocols, vectorised numpy + sklearn.

Each metric takes `representation_fn(images) -> codes`, a ground-truth dataset, `seed` and
its protocol sizes, and returns a dict of named scores. `evaluate` runs several at once.
"""

import sys
import time

import inspect

from keras_disent.metrics.beta_vae import beta_vae_score
from keras_disent.metrics.dci import dci
from keras_disent.metrics.downstream_task import downstream_task
from keras_disent.metrics.factor_vae import factor_vae_score
from keras_disent.metrics.irs import irs
from keras_disent.metrics.mig import mig
from keras_disent.metrics.modularity import modularity
from keras_disent.metrics.sap import sap
from keras_disent.metrics import utils

METRICS = {
    "beta_vae": beta_vae_score,
    "factor_vae": factor_vae_score,
    "mig": mig,
    "dci": dci,
    "sap": sap,
    "modularity": modularity,
    "irs": irs,
    "downstream_task": downstream_task,
}

__all__ = ["METRICS", "beta_vae_score", "dci", "downstream_task", "evaluate",
           "factor_vae_score", "irs", "mig", "modularity", "protocol_arguments",
           "representation_function", "sap"]


def representation_function(model_or_fn):
    """`model.encode` for a model (which must have the "encoder" capability), the callable
    itself otherwise."""
    if hasattr(model_or_fn, "capabilities"):
        from keras_disent import contract

        contract.require_capability(model_or_fn, contract.ENCODER, "compute metrics on codes")
        return model_or_fn.encode
    if hasattr(model_or_fn, "encode"):
        return model_or_fn.encode
    if callable(model_or_fn):
        return model_or_fn
    raise TypeError(
        f"Expected a model with .encode(images) or a callable images -> codes, got "
        f"{type(model_or_fn).__name__}."
    )


# Images each metric encodes at disentanglement_lib's default sizes.
ENCODED_IMAGES = {"beta_vae": 2 * 64 * 15_000, "factor_vae": 10_000 + 64 * 15_000,
                  "mig": 10_000, "dci": 15_000, "sap": 15_000, "modularity": 15_000,
                  "irs": 10_000, "downstream_task": 11_110 + 4 * 5_000}


def _worth_caching(dataset, metrics, sizes):
    """True when encoding the whole grid once costs less than the metrics' own encodes."""
    if not getattr(dataset, "complete", True) or not hasattr(dataset, "iter_images"):
        return False
    def scale(metric):  # a metric's own `<metric>__num_train` wins over a shared num_train
        return sizes.get(f"{metric}__num_train", sizes.get("num_train", 10_000)) / 10_000

    return sum(ENCODED_IMAGES[m] * scale(m) for m in metrics) > len(dataset)


def evaluate(model_or_fn, dataset, metrics=("mig", "factor_vae", "dci", "sap", "modularity",
                                            "beta_vae"), seed=0, verbose=True,
             cache_codes="auto", **sizes):
    """Runs several metrics; returns `{metric: {score: value, ..., "seconds": t}}`.

    Args:
        model_or_fn: a model with `encode` or a `representation_fn`.
        dataset: a ground-truth dataset.
        metrics: names from `METRICS`.
        seed: seed passed to every metric.
        verbose: print each metric's result and time to stderr.
        cache_codes: encode every grid point once and let the metrics index those codes
            (`utils.GridCodes`; exact for a deterministic representation such as the posterior
            mean). "auto" does so when it means fewer images to encode, e.g. the BetaVAE or
            FactorVAE score on dSprites; True / False force it.
        **sizes: protocol overrides given as `<metric>__<argument>=value`, e.g.
            `beta_vae__num_train=1000`, or `num_train=1000` for every metric that takes it.
    """
    if isinstance(metrics, str):
        raise TypeError(f"metrics must be a list of names, e.g. [{metrics!r}], not a string.")
    metrics = list(metrics)
    unknown = [name for name in metrics if name not in METRICS]
    if unknown:
        raise ValueError(f"Unknown metric(s) {unknown}. Available: {sorted(METRICS)}.")
    _check_protocol_arguments(metrics, sizes)
    representation_fn = representation_function(model_or_fn)
    if cache_codes == "auto":
        cache_codes = _worth_caching(dataset, metrics, sizes)
    results = {}
    if cache_codes:
        start = time.time()
        representation_fn = utils.GridCodes(representation_fn, dataset, verbose=verbose)
        results["grid_codes"] = {"seconds": round(time.time() - start, 2),
                                 "num_images": len(dataset)}
        if verbose:
            print(f"[keras-disent] encoded all {len(dataset)} grid points in "
                  f"{results['grid_codes']['seconds']:.1f} s", file=sys.stderr, flush=True)
    for name in metrics:
        fn, params = METRICS[name], protocol_arguments(name)
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


def protocol_arguments(name):
    """The protocol arguments a metric takes (everything after representation_fn, dataset)."""
    return list(inspect.signature(METRICS[name]).parameters)[2:]


def _check_protocol_arguments(metrics, sizes):
    """A misspelled or misplaced protocol argument is an error, not silence."""
    for key in sizes:
        if "__" in key:
            name, argument = key.split("__", 1)
            if name not in metrics:
                raise ValueError(f"{key!r} sets an argument of {name!r}, which is not among the "
                                 f"metrics run ({metrics}).")
            if argument not in protocol_arguments(name):
                raise ValueError(f"{name} has no argument {argument!r}; it takes "
                                 f"{protocol_arguments(name)}.")
        elif not any(key in protocol_arguments(name) for name in metrics):
            taken = sorted({a for name in metrics for a in protocol_arguments(name)})
            raise ValueError(f"No metric among {metrics} takes {key!r}; they take {taken}.")
