"""Training loop shared by the CLI, the demo and the recipes: checkpoints, resume, run files."""

import json
import os
import sys
import time

import keras
import numpy as np

from keras_disent import runs


def model_from_name(method, **config):
    """Builds a model by its registered method name (e.g. "beta_vae"; see `methods`)."""
    from keras_disent import methods

    return methods.build(method, **config)


def fit_run(model, dataset, run_dir, steps, batch_size=64, learning_rate=None, seed=0,
            steps_per_epoch=500, verbose="auto", run_config=None, batches=None):
    """Trains `model` on a ground-truth dataset for `steps` steps, writing into `run_dir`.

    Interruption-safe: a `keras.callbacks.BackupAndRestore` checkpoint in `run_dir/backup`
    resumes from the last finished epoch when the same call runs again, and a run that already
    finished with the same model config and run arguments is loaded, not retrained (so a
    recipe run again only redoes its figures and metrics). On success writes `model.keras`,
    `model.weights.h5`, `config.json` (model config, run arguments, every optimizer used
    with its class and learning rate per phase, provenance) and `history.json`.

    Args:
        learning_rate: used when the model is not compiled yet: every optimizer of
            `model.default_optimizer(learning_rate)`; None keeps the method's paper values.
        verbose: Keras fit verbosity; "auto" shows the progress bar on a terminal and one line
            per epoch when the output goes to a log file.
        batches: a `keras.utils.PyDataset` to train on instead of
            `dataset.batches(batch_size, steps_per_epoch, seed)` (e.g. DC-IGN's
            `FactorBatches`); it must yield `steps_per_epoch` batches per epoch.

    Returns:
        the Keras `History` of this call and the wall time in seconds.
    """
    from keras_disent import training

    os.makedirs(run_dir, exist_ok=True)
    steps_per_epoch = min(steps_per_epoch, steps)
    epochs = max(1, int(np.ceil(steps / steps_per_epoch)))
    optimizer = getattr(model, "optimizer", None) or model.default_optimizer(learning_rate)
    config = {
        "class": type(model).__name__,
        "model_config": model.get_config(),
        "run": dict(run_config or {}, steps=epochs * steps_per_epoch, batch_size=batch_size,
                    learning_rate=learning_rate, seed=seed, steps_per_epoch=steps_per_epoch,
                    dataset=getattr(dataset, "name", type(dataset).__name__)),
        "optimizers": training.describe_optimizers(optimizer),
        "provenance": runs.provenance(),
    }
    finished = _finished_run(run_dir, config)
    if finished is not None:
        model.load_weights(os.path.join(run_dir, "model.weights.h5"))
        print(f"[keras-disent] {run_dir} already finished this run: loaded its weights",
              flush=True)
        history = keras.callbacks.History()
        history.history = finished["history"]
        return history, finished["wall_time_s"]
    runs.write_json(os.path.join(run_dir, "config.json"), config)
    if getattr(model, "optimizer", None) is None:
        model.compile(optimizer)
    if batches is None:
        batches = dataset.batches(batch_size, steps_per_epoch, seed=seed)
    callbacks = [keras.callbacks.BackupAndRestore(os.path.join(run_dir, "backup"))]
    start = time.time()
    if verbose == "auto":
        verbose = 1 if sys.stdout.isatty() else 2
    history = model.fit(batches, epochs=epochs, callbacks=callbacks, verbose=verbose)
    wall = time.time() - start
    model.save(os.path.join(run_dir, "model.keras"))
    model.save_weights(os.path.join(run_dir, "model.weights.h5"))
    runs.write_json(os.path.join(run_dir, "history.json"),
                    {"history": history.history, "wall_time_s": wall})
    return history, wall


def _finished_run(run_dir, config):
    """The saved history of a finished run with the same model and run arguments, or None."""
    paths = [os.path.join(run_dir, name) for name in
             ("config.json", "history.json", "model.weights.h5")]
    if not all(os.path.exists(path) for path in paths):
        return None
    saved = runs.read_json(paths[0])

    def comparable(record):
        record = json.loads(json.dumps({k: record.get(k) for k in ("class", "model_config",
                                                                    "run", "optimizers")},
                                       default=runs._jsonable))
        record["model_config"].pop("name", None)  # Keras numbers instance names
        return record

    if comparable(saved) != comparable(config):
        return None
    return runs.read_json(paths[1])


def write_figures(model, dataset, run_dir, seed=0):
    """The figures the model's capabilities allow, for 10 random images of `dataset`.

    traversal.png (traversable models: rows are code dims sorted by activity, e.g. KL) and
    reconstruction.png (models with an encoder and a decoder). Returns `{figure: path}`;
    a figure the model cannot make is skipped with one line saying which capability is
    missing.
    """
    from keras_disent import visualize
    from keras_disent import contract

    _, reference = dataset.sample(256, seed=seed)
    figures = {}
    capabilities = getattr(model, "capabilities", frozenset())
    if contract.TRAVERSABLE in capabilities:
        figures["traversal"], _, _ = visualize.traversal_figure(
            model, reference[0], os.path.join(run_dir, "traversal.png"), reference=reference)
    else:
        print(f"[keras-disent] no traversal.png: {type(model).__name__} has no 'traversable' "
              "capability", flush=True)
    if {contract.ENCODER, contract.DECODER} <= capabilities:
        figures["reconstruction"] = visualize.reconstruction_figure(
            model, reference[:10], os.path.join(run_dir, "reconstruction.png"))
    else:
        print(f"[keras-disent] no reconstruction.png: {type(model).__name__} lacks an "
              "'encoder' or 'decoder' capability", flush=True)
    return figures


def reconstruction_metrics(model, dataset, num=2000, seed=0):
    """Loss terms of the model (recon, kl, loss per image) on `num` random images."""
    _, images = dataset.sample(num, seed=seed + 1)
    logs = model.evaluate(images, batch_size=100, verbose=0, return_dict=True)
    return {key: float(value) for key, value in logs.items()} | {"num_images": num}


def evaluate_run(model, dataset, run_dir, metric_names, seed=0, dci_classifier="gbt"):
    """Runs the metrics and writes `metrics.json` (scores, seconds, seed, protocol).

    Datasets without ground-truth factors (MNIST family, CelebA) get reconstruction metrics
    only: the model's loss terms on 2,000 images.
    """
    from keras_disent import metrics

    if not getattr(dataset, "factor_sizes", None):
        results = {"reconstruction": reconstruction_metrics(model, dataset, seed=seed)}
        runs.write_json(os.path.join(run_dir, "metrics.json"), {
            "dataset": getattr(dataset, "name", type(dataset).__name__), "seed": seed,
            "metrics": results, "protocol": "model loss terms on 2,000 random training images"})
        return results

    options = {"dci__classifier": dci_classifier} if "dci" in metric_names else {}
    results = metrics.evaluate(model, dataset, metrics=metric_names, seed=seed, **options)
    runs.write_json(os.path.join(run_dir, "metrics.json"), {
        "dataset": type(dataset).__name__, "seed": seed, "metrics": results,
        "protocol": "disentanglement_lib defaults" + (
            f"; DCI classifier {dci_classifier}" if "dci" in metric_names else ""),
    })
    return results


def train_and_report(model, dataset, run_dir, steps, batch_size=64, learning_rate=None,
                     seed=0, metric_names=("mig",), dci_classifier="gbt", command=None,
                     verbose="auto", batches=None):
    """fit_run, then figures and metrics: the body of `keras-disent train` and the recipes."""
    _, wall = fit_run(model, dataset, run_dir, steps, batch_size=batch_size,
                      learning_rate=learning_rate, seed=seed, verbose=verbose,
                      run_config={"command": command}, batches=batches)
    print(f"[keras-disent] trained in {wall:.0f} s", flush=True)
    figures = write_figures(model, dataset, run_dir, seed)
    results = evaluate_run(model, dataset, run_dir, list(metric_names), seed, dci_classifier)
    return wall, figures, results
