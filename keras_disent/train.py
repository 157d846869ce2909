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


# What decides whether a run directory holds "the same run": everything that changes the
# trained weights. The command line is not compared (it also names metrics and figures).
_COMPARED = ("class", "model_config", "run", "optimizers")
_RUN_FILES = ("config.json", "history.json", "model.keras", "model.weights.h5",
              "checkpoint.json", "metrics.json", "traversal.png", "reconstruction.png")


class NonFiniteGuard(keras.callbacks.Callback):
    """Stops training at the first step whose logged losses are not all finite.

    Keras' `TerminateOnNaN` looks at `loss` only; GAN-style models log `d_loss`/`g_loss`.
    This looks at every logged value, records where it happened and sets `stop_training`.
    """

    def __init__(self, steps_per_epoch):
        super().__init__()
        self.steps_per_epoch = steps_per_epoch
        self.epoch = 0
        self.failure = None  # (global step, key, value)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        for key, value in (logs or {}).items():
            value = float(keras.ops.convert_to_numpy(value))
            if not np.isfinite(value):
                self.failure = (self.epoch * self.steps_per_epoch + batch + 1, key, value)
                self.model.stop_training = True
                return


class RunCheckpoint(keras.callbacks.Callback):
    """Checkpoints at every epoch end (epochs are `steps_per_epoch` steps) and resumes.

    Each checkpoint is `checkpoint-<epoch>.weights.h5` (weights and optimizer state) plus
    `checkpoint.json` (epoch, steps done, the whole history so far, the wall time so far, and
    the weights file's sha256), both written atomically, the json last: a kill at any moment
    leaves the previous checkpoint or the new one whole. A checkpoint whose weights do not
    match their recorded sha256 raises `CorruptRunError` instead of resuming from it.
    """

    def __init__(self, run_dir, steps_per_epoch, guard):
        super().__init__()
        self.run_dir, self.steps_per_epoch, self.guard = run_dir, steps_per_epoch, guard
        self.meta_path = os.path.join(run_dir, "checkpoint.json")
        self.history, self.previous_wall, self.start = {}, 0.0, None
        self.resumed_from, self.weights_name = 0, None  # the checkpoint on disk

    def on_train_begin(self, logs=None):
        self.start = time.time()
        if not os.path.exists(self.meta_path):
            return
        meta = runs.read_json(self.meta_path)
        weights = os.path.join(self.run_dir, meta["weights"])
        runs.verify_sha256(weights, meta["weights_sha256"], "The checkpoint's weights")
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        self.model.load_weights(weights)
        self.model._initial_epoch = meta["epoch"]
        self.history, self.previous_wall = meta["history"], meta["wall_time_s"]
        self.resumed_from, self.weights_name = meta["steps"], meta["weights"]
        print(f"[keras-disent] resuming {self.run_dir} from step {meta['steps']}", flush=True)

    def wall_time(self):
        return self.previous_wall + (time.time() - self.start)

    def on_epoch_end(self, epoch, logs=None):
        if self.guard.failure is not None:
            return  # never checkpoint weights that produced a non-finite loss
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(keras.ops.convert_to_numpy(value)))
        name = f"checkpoint-{epoch + 1}.weights.h5"
        path = os.path.join(self.run_dir, name)
        with runs.atomic_path(path) as temporary:
            self.model.save_weights(temporary)
        previous, self.weights_name = self.weights_name, name
        runs.write_json(self.meta_path, {
            "epoch": epoch + 1, "steps": (epoch + 1) * self.steps_per_epoch, "weights": name,
            "weights_sha256": runs.sha256_of(path), "history": self.history,
            "wall_time_s": self.wall_time()})
        if previous and previous != name:
            os.remove(os.path.join(self.run_dir, previous))

    def remove(self):
        """Deletes the checkpoint files (once the final model is safely on disk)."""
        for name in os.listdir(self.run_dir):
            if _is_checkpoint_weights(name):
                os.remove(os.path.join(self.run_dir, name))
        if os.path.exists(self.meta_path):
            os.remove(self.meta_path)


def _is_checkpoint_weights(name):
    return name.startswith("checkpoint-") and name.endswith(".weights.h5")


def _check_run_arguments(steps, batch_size, steps_per_epoch):
    for name, value in (("steps", steps), ("batch_size", batch_size),
                        ("steps_per_epoch", steps_per_epoch)):
        if isinstance(value, bool) or int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")


def _make_run_dir(run_dir):
    try:
        os.makedirs(run_dir, exist_ok=True)
        probe = os.path.join(run_dir, f".write-test-{os.getpid()}")
        with open(probe, "w"):
            pass
        os.remove(probe)
    except OSError as error:
        reason = error.strerror or str(error)
        raise runs.RunError(f"Cannot write the run directory {run_dir!r}: {reason}. Choose a "
                            "writable --out directory.") from None


def _comparable(record):
    record = json.loads(json.dumps({k: record.get(k) for k in _COMPARED},
                                   default=runs._jsonable))
    (record.get("model_config") or {}).pop("name", None)  # Keras numbers instance names
    (record.get("run") or {}).pop("command", None)
    return record


def fit_run(model, dataset, run_dir, steps, batch_size=64, learning_rate=None, seed=0,
            steps_per_epoch=500, verbose="auto", run_config=None, batches=None,
            overwrite=False, callbacks=()):
    """Trains `model` on a dataset for `steps` steps, writing into `run_dir`.

    The run directory belongs to this run:
      - one process at a time: a second one gets `runs.RunLockedError` at once;
      - one configuration: a directory holding a run of another model config, run arguments
        or optimizers raises `runs.RunConfigMismatchError` listing the differences, unless
        `overwrite=True` (which deletes the old run's files first);
      - a finished run with the same configuration is loaded (its weights' sha256 checked),
        not retrained: a recipe or command run again only redoes its figures and metrics;
      - an interrupted one resumes from its last checkpoint, taken every `steps_per_epoch`
        steps (`RunCheckpoint`: at most that many steps are lost), with the whole run's
        history and wall time;
      - a loss that becomes NaN or infinite stops the run at that step with
        `runs.TrainingDivergedError`; the last good checkpoint stays and nothing is written
        as finished.
    On success writes, each atomically, `model.keras`, `model.weights.h5`, `config.json`
    (model config, run arguments, every optimizer used with its class and learning rate per
    phase, provenance) and, last, `history.json` (history, wall time, the weights' sha256),
    then deletes the checkpoint.

    Args:
        learning_rate: used when the model is not compiled yet: every optimizer of
            `model.default_optimizer(learning_rate)`; None keeps the method's paper values.
        verbose: Keras fit verbosity; "auto" shows the progress bar on a terminal and one line
            per epoch when the output goes to a log file.
        batches: a `keras.utils.PyDataset` to train on instead of
            `dataset.batches(batch_size, steps_per_epoch, seed)` (e.g. DC-IGN's
            `FactorBatches`); it must yield `steps_per_epoch` batches per epoch.
        overwrite: replace a run of another configuration in `run_dir`.
        callbacks: more Keras callbacks for `fit`.

    Returns:
        the Keras `History` of the whole run and its wall time in seconds.
    """
    from keras_disent import training

    _check_run_arguments(steps, batch_size, steps_per_epoch)
    _make_run_dir(run_dir)
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
    with runs.RunLock(run_dir):
        _claim(run_dir, config, overwrite)
        finished = _finished_run(run_dir)
        if finished is not None:
            model.load_weights(os.path.join(run_dir, "model.weights.h5"))
            if getattr(model, "optimizer", None) is None:  # evaluate() needs a compiled model
                model.compile(optimizer)
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
        guard = NonFiniteGuard(steps_per_epoch)
        checkpoint = RunCheckpoint(run_dir, steps_per_epoch, guard)
        if verbose == "auto":
            verbose = 1 if sys.stdout.isatty() else 2
        try:
            model.fit(batches, epochs=epochs, verbose=verbose,
                      callbacks=[guard, checkpoint] + list(callbacks))
        finally:
            model._initial_epoch = None  # set by a resume; a later fit starts afresh
        if guard.failure is not None:
            step, key, value = guard.failure
            kept = (f"the last good checkpoint (step "
                    f"{runs.read_json(checkpoint.meta_path)['steps']}) is kept in {run_dir}"
                    if os.path.exists(checkpoint.meta_path) else
                    "no checkpoint had been taken yet")
            raise runs.TrainingDivergedError(
                f"Training diverged: {key} = {value} at step {step} of {epochs * steps_per_epoch}"
                f". Nothing was saved as finished; {kept}. Try a lower learning rate (now "
                f"{_rates(config)}) or a smaller regularisation strength, and check that the "
                "training images are in [0, 1].")
        wall = checkpoint.wall_time()
        with runs.atomic_path(os.path.join(run_dir, "model.keras")) as temporary:
            model.save(temporary)
        weights = os.path.join(run_dir, "model.weights.h5")
        with runs.atomic_path(weights) as temporary:
            model.save_weights(temporary)
        runs.write_json(os.path.join(run_dir, "history.json"), {
            "history": checkpoint.history, "wall_time_s": wall,
            "weights_sha256": runs.sha256_of(weights),
            "resumed_from_step": checkpoint.resumed_from})
        checkpoint.remove()
    history = keras.callbacks.History()
    history.history = checkpoint.history
    return history, wall


def _rates(config):
    rates = {name: o["learning_rate"] for name, o in config["optimizers"].items()}
    return ", ".join(f"{name} {rate:g}" for name, rate in rates.items())


def _claim(run_dir, config, overwrite):
    """Checks that `run_dir` is empty or holds this configuration's run (see fit_run)."""
    path = os.path.join(run_dir, "config.json")
    if not os.path.exists(path):
        return
    differences = runs.config_differences(_comparable(runs.read_json(path)),
                                          _comparable(config))
    if not differences:
        return
    if not overwrite:
        shown = "\n  ".join(differences[:12])
        raise runs.RunConfigMismatchError(
            f"{run_dir} holds a run of another configuration; what differs (saved -> "
            f"asked):\n  {shown}\nTrain into a new directory (--out), or pass --overwrite "
            "(overwrite=True) to delete that run and start this one.")
    for name in os.listdir(run_dir):
        if name in _RUN_FILES or _is_checkpoint_weights(name):
            os.remove(os.path.join(run_dir, name))


def _finished_run(run_dir):
    """The saved history of the finished run in `run_dir` (weights checked), or None."""
    history_path = os.path.join(run_dir, "history.json")
    weights = os.path.join(run_dir, "model.weights.h5")
    if not os.path.exists(history_path):
        return None
    finished = runs.read_json(history_path)
    if "weights_sha256" in finished:
        runs.verify_sha256(weights, finished["weights_sha256"], "The run's weights")
    elif not os.path.exists(weights):
        return None
    return finished


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
    """Loss terms of the model (recon, kl, loss per image; accuracy for a classifier, on the
    dataset's labels) on `num` random images."""
    from keras_disent import contract, data

    if contract.CLASSIFIER in getattr(model, "capabilities", ()):
        labels, images = data.labelled_sample(dataset, num, seed=seed + 1)
        logs = model.evaluate(images, labels, batch_size=100, verbose=0, return_dict=True)
    else:
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
                     verbose="auto", batches=None, overwrite=False, deterministic=False):
    """fit_run, then figures and metrics: the body of `keras-disent train` and the recipes."""
    _, wall = fit_run(model, dataset, run_dir, steps, batch_size=batch_size,
                      learning_rate=learning_rate, seed=seed, verbose=verbose,
                      run_config={"command": command, "deterministic": bool(deterministic)},
                      batches=batches, overwrite=overwrite)
    print(f"[keras-disent] trained in {wall:.0f} s", flush=True)
    figures = write_figures(model, dataset, run_dir, seed)
    results = evaluate_run(model, dataset, run_dir, list(metric_names), seed, dci_classifier)
    return wall, figures, results
