"""Pretrained weights loaded by name: `keras_disent.zoo.load("beta_vae_dsprites")`.

`zoo/index.json` is the single source of truth. Each entry records the class and config that
rebuild the model, the weights file with its full sha256 (always checked) and size, the number
of parameters, the dataset and input range, the metrics measured on it (seed, protocol), the
exact recipe command that produced it, the backend and Keras version used, the training steps
and wall time. Weights are backend-independent `.weights.h5` files: an entry trained under
tensorflow loads under jax and torch.
"""

import builtins
import dataclasses
import difflib
import fnmatch
import json
import os

from keras_disent.runs import sha256_of  # noqa: F401  (also zoo.sha256_of)

INDEX_FORMAT = 1
_REPO_ZOO = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "zoo")


class ZooError(Exception):
    """A zoo entry cannot be found, verified or loaded; the message says what to do."""


class WeightsNotAvailableError(ZooError):
    """The entry exists (architecture, recipe) but no weights were trained for it yet."""


@dataclasses.dataclass(frozen=True)
class ZooEntry:
    """One pretrained model: what it is, where its weights are, how it was made."""

    name: str
    cls: str
    config: dict
    dataset: str
    input_shape: tuple
    value_range: tuple
    recipe: str
    weights: str = None
    sha256: str = None
    file_size: int = None
    num_params: int = None
    metrics: dict = dataclasses.field(default_factory=dict)
    trained_backend: str = None
    keras_version: str = None
    training_steps: int = None
    wall_time_s: float = None
    default: bool = False
    notes: str = ""
    # Where the weights came from: {"type": "trained here", "recipe": ...} or
    # {"type": "converted", "project", "repository", "commit", "path", "sha256", "licence",
    #  "notice", "training": the authors' settings, "parity": max |diff| per output}.
    source: dict = dataclasses.field(default_factory=dict)
    root: str = None  # directory that `weights` is relative to

    @property
    def has_weights(self):
        return self.weights is not None

    @property
    def weights_path(self):
        """The weights file, which must lie inside the index's folder."""
        if self.weights is None:
            return None
        root = os.path.realpath(self.root)
        path = os.path.realpath(os.path.join(root, self.weights))
        if os.path.commonpath([root, path]) != root:
            raise ZooError(f"Zoo entry {self.name!r} names weights outside the zoo folder "
                           f"({self.weights!r}); an index may only point inside {root}.")
        return path

    def to_json(self):
        record = dataclasses.asdict(self)
        record["class"] = record.pop("cls")
        for key in ("name", "root"):
            record.pop(key)
        record["input_shape"] = builtins.list(self.input_shape)
        record["value_range"] = builtins.list(self.value_range)
        return record

    @classmethod
    def from_json(cls, name, record, root):
        record = dict(record)
        record["cls"] = record.pop("class")
        record["input_shape"] = tuple(record["input_shape"])
        record["value_range"] = tuple(record["value_range"])
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = set(record) - fields
        if unknown:
            raise ZooError(f"Zoo entry {name!r} has unknown fields {sorted(unknown)}.")
        return cls(name=name, root=root, **record)


def index_path():
    """Path of the packaged index (`zoo/index.json` in a checkout)."""
    try:
        from importlib import resources

        packaged = resources.files("keras_disent.zoo_data") / "index.json"
        if packaged.is_file():
            return str(packaged)
    except (ImportError, ModuleNotFoundError, TypeError):
        pass
    return os.path.join(_REPO_ZOO, "index.json")


def read_index(path=None):
    """`{name: ZooEntry}` from an index file (default: the packaged one)."""
    path = path or index_path()
    if not os.path.exists(path):
        raise ZooError(f"No zoo index at {path!r}.")
    with open(path) as handle:
        try:
            payload = json.load(handle)
        except json.JSONDecodeError as error:
            raise ZooError(f"Zoo index {path!r} is not valid JSON: {error}.") from error
    if payload.get("format") != INDEX_FORMAT:
        raise ZooError(f"Zoo index {path!r} has format {payload.get('format')!r}, "
                       f"expected {INDEX_FORMAT}.")
    root = os.path.dirname(os.path.abspath(path))
    return {name: ZooEntry.from_json(name, record, root)
            for name, record in payload["entries"].items()}


def write_index(entries, path):
    payload = {"format": INDEX_FORMAT,
               "entries": {name: entries[name].to_json() for name in sorted(entries)}}
    with open(path, "w") as handle:
        json.dump(payload, handle, indent=2, sort_keys=True)
        handle.write("\n")


def list(pattern=None):  # noqa: A001 - the zoo's public verb
    """Sorted entry names, optionally filtered by a glob such as `"beta_vae_*"`."""
    names = sorted(read_index())
    return [n for n in names if pattern is None or fnmatch.fnmatch(n, pattern)]


def get(name, index=None):
    """The `ZooEntry` called `name` (in `index`, default the packaged one).

    An unknown name lists close matches.
    """
    entries = read_index(index)
    if name not in entries:
        close = difflib.get_close_matches(name, entries, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ZooError(f"No zoo entry named {name!r}.{hint} Available: "
                       f"{', '.join(sorted(entries))}.")
    return entries[name]


def verify(entry):
    """Checks the weights file exists and matches the entry's full sha256; returns its path."""
    if not entry.has_weights:
        raise WeightsNotAvailableError(
            f"Zoo entry {entry.name!r} has no trained weights yet ({entry.notes or 'none'}). "
            f"Train it with:\n    {entry.recipe}\nthen register the run with:\n"
            f"    keras-disent zoo register RUN_DIR --name {entry.name}")
    path = entry.weights_path
    if not os.path.exists(path):
        raise ZooError(f"Weights file of {entry.name!r} is missing: {path}. Reinstall "
                       f"keras-disent or retrain with: {entry.recipe}")
    actual = sha256_of(path)
    if actual != entry.sha256:
        raise ZooError(f"Weights file of {entry.name!r} is corrupt: {path} has sha256 "
                       f"{actual}, expected {entry.sha256}. Reinstall or retrain with: "
                       f"{entry.recipe}")
    return path


def build(entry):
    """The untrained model of an entry (class + config)."""
    from keras_disent import methods

    try:
        cls = methods.by_class(entry.cls).cls
    except ValueError as error:
        raise ZooError(f"Zoo entry {entry.name!r}: {error}") from error
    return cls(**entry.config)


def load(name_or_path, index=None):
    """A ready model: from a zoo name, a `.keras` file, or a run directory.

    Args:
        name_or_path: a zoo name (`"beta_vae_dsprites"`), a path to a `.keras` file, or a run
            directory written by a recipe (`config.json` + `model.weights.h5`).
        index: path of another index.json (e.g. one you registered your own runs in).

    Raises:
        ZooError: unknown name (with close matches), missing or corrupt weights file (with
            the expected hash), or an entry without trained weights (with the recipe command).
    """
    if os.path.isdir(name_or_path):
        return _load_run_dir(name_or_path)
    if name_or_path.endswith(".keras"):
        if not os.path.exists(name_or_path):
            raise ZooError(f"No model file at {name_or_path!r}.")
        import keras

        import keras_disent.models  # noqa: F401  (registers the classes)

        return keras.saving.load_model(name_or_path)
    entry = get(name_or_path, index)
    model = build(entry)  # the class is checked against the registry first
    model.load_weights(verify(entry))
    return model


def _load_run_dir(run_dir):
    config_path = os.path.join(run_dir, "config.json")
    weights_path = os.path.join(run_dir, "model.weights.h5")
    for path in (config_path, weights_path):
        if not os.path.exists(path):
            raise ZooError(f"{run_dir!r} is not a finished run: {os.path.basename(path)} "
                           "is missing.")
    from keras_disent import runs

    history_path = os.path.join(run_dir, "history.json")
    try:
        config = runs.read_json(config_path)
        if os.path.exists(history_path):  # runs written before weights had a hash lack it
            expected = runs.read_json(history_path).get("weights_sha256")
            if expected:
                runs.verify_sha256(weights_path, expected, "The run's weights")
    except runs.CorruptRunError as error:
        raise ZooError(f"{run_dir!r} cannot be loaded: {error} Retrain the run.") from None
    entry = ZooEntry(name=run_dir, cls=config["class"], config=_constructor_config(
        config["model_config"]), dataset="", input_shape=(), value_range=(0, 1), recipe="")
    model = build(entry)
    model.load_weights(weights_path)
    return model


def _constructor_config(model_config):
    """A model's get_config without Keras' own keys (name, trainable, dtype)."""
    return {k: v for k, v in model_config.items() if k not in ("name", "trainable", "dtype")}


def register(run_dir, name, index=None, default=False, notes=""):
    """Adds (or replaces) entry `name` from a finished run directory.

    Writes the run's model weights (without optimizer state) to
    `<zoo>/weights/<name>.weights.h5` and records their hash, size and parameter count, the run's config, command, provenance, training steps, wall time
    and `metrics.json`.
    """
    index = index or index_path()
    entries = read_index(index) if os.path.exists(index) else {}
    model = _load_run_dir(run_dir)
    with open(os.path.join(run_dir, "config.json")) as handle:
        config = json.load(handle)
    metrics_path = os.path.join(run_dir, "metrics.json")
    metrics = {}
    if os.path.exists(metrics_path):
        with open(metrics_path) as handle:
            metrics = json.load(handle)
    history_path = os.path.join(run_dir, "history.json")
    wall = None
    if os.path.exists(history_path):
        with open(history_path) as handle:
            wall = round(json.load(handle).get("wall_time_s", 0.0), 1)
    root = os.path.dirname(os.path.abspath(index))
    weights = os.path.join("weights", f"{name}.weights.h5")
    os.makedirs(os.path.join(root, "weights"), exist_ok=True)
    # Re-saved from the uncompiled model: the model's weights without the optimizer's state
    # (a third of the run's checkpoint size for Adam).
    model.save_weights(os.path.join(root, weights))
    run = config.get("run", {})
    provenance = config.get("provenance", {})
    entry = ZooEntry(
        name=name, cls=config["class"], config=_constructor_config(config["model_config"]),
        dataset=run.get("dataset", ""), input_shape=tuple(model.image_shape),
        value_range=(0.0, 1.0), recipe=run.get("command") or "", weights=weights,
        sha256=sha256_of(os.path.join(root, weights)),
        file_size=os.path.getsize(os.path.join(root, weights)),
        num_params=int(model.count_params()), metrics=metrics,
        trained_backend=provenance.get("backend"), keras_version=provenance.get("keras_version"),
        training_steps=run.get("steps"), wall_time_s=wall, default=default, notes=notes,
        source={"type": "trained here", "recipe": run.get("command") or ""}, root=root)
    entries[name] = entry
    write_index(entries, index)
    return entry


def update_metrics(name, payload, index=None):
    """Records `payload` (a metrics.json: dataset, seed, metrics, protocol) in entry `name`."""
    index = index or index_path()
    entries = read_index(index)
    entries[name] = dataclasses.replace(get(name, index), metrics=payload)
    write_index(entries, index)
    return entries[name]


def convert(folder, name=None, index=None, samples=None, notes=""):
    """Adds a peer's published checkpoint to the zoo, with its parity proof.

    Only disentangling-vae result folders (`model.pt` + `specs.json`) convert today
    (`keras_disent.peers.disentangling_vae`). Writes `<zoo>/weights/<name>.weights.h5` and an
    entry whose `source` records the project, commit, original path and sha256, licence and
    notice, the authors' training settings, and the measured parity: the max |diff| of
    posterior mean, log-variance and decoder output against the PyTorch checkpoint on
    `samples` (default: the 100 real images of `<dataset>_samples.png` beside the folder).
    Its `metrics` start as the model's loss terms on those images.

    Raises:
        ZooError: the parity exceeds 1e-5, or the folder cannot be converted.
    """
    import keras
    import numpy as np

    from keras_disent.peers import disentangling_vae as peer

    try:
        specs, state = peer.read_checkpoint(folder)
        model = peer.model_from_state(specs, state)
    except peer.ConversionError as error:
        raise ZooError(str(error)) from None
    name = name or peer.zoo_name(specs)
    folder_name = os.path.basename(os.path.normpath(folder))
    channels, size = specs["img_size"][0], specs["img_size"][1]
    grid = os.path.join(os.path.dirname(os.path.abspath(folder)),
                        f"{specs['dataset']}_samples.png")
    if samples is not None:
        described = f"{len(samples)} given images"
    elif os.path.exists(grid):
        samples = peer.sample_images(grid, size, channels)
        described = f"the 100 real images of {os.path.basename(grid)}"
    else:
        samples = np.random.default_rng(0).random((16, size, size, channels)).astype("float32")
        described = "16 uniform random images"
    parity = peer.parity(model, state, samples)
    if not peer.within_tolerance(parity):
        raise ZooError(f"Conversion of {folder!r} is off: {parity} beyond 1e-5 (relative to "
                       "each output's largest magnitude where that exceeds 1).")
    index = index or index_path()
    entries = read_index(index) if os.path.exists(index) else {}
    root = os.path.dirname(os.path.abspath(index))
    weights = os.path.join("weights", f"{name}.weights.h5")
    os.makedirs(os.path.join(root, "weights"), exist_ok=True)
    model.save_weights(os.path.join(root, weights))

    original = os.path.join(folder, "model.pt")
    licence_path = os.path.join(os.path.dirname(os.path.abspath(folder)), "LICENSE")
    notice = ""
    if os.path.exists(licence_path):
        with open(licence_path) as handle:
            notice = " ".join(line.strip() for line in handle if "Copyright" in line)
    training = peer.training_settings(specs)
    # The loss terms every converted class shares (FactorVAE's discriminator is not in the
    # file, so its TC estimate would mean nothing).
    _, logs = model.compute_losses(keras.ops.convert_to_tensor(samples), training=False)
    logs = {key: logs[key] for key in ("loss", "recon", "kl")}
    entry = ZooEntry(
        name=name, cls=type(model).__name__, config=_constructor_config(model.get_config()),
        dataset=specs["dataset"], input_shape=tuple(model.image_shape), value_range=(0.0, 1.0),
        recipe=f"keras-disent zoo convert PEER/{folder_name} --name {name}",
        weights=weights, sha256=sha256_of(os.path.join(root, weights)),
        file_size=os.path.getsize(os.path.join(root, weights)),
        num_params=int(model.count_params()),
        metrics={"dataset": specs["dataset"], "seed": None,
                 "metrics": {"reconstruction": {
                     k: float(keras.ops.convert_to_numpy(v)) for k, v in logs.items()}},
                 "protocol": f"model loss terms on {described}"},
        trained_backend=f"pytorch ({peer.PROJECT})", keras_version=keras.__version__,
        training_steps=training["steps"], wall_time_s=None, default=False, notes=notes,
        source={"type": "converted", "project": peer.PROJECT, "repository": peer.REPOSITORY,
                "commit": peer.COMMIT, "path": f"results/{folder_name}/model.pt",
                "sha256": sha256_of(original), "licence": peer.LICENCE, "notice": notice,
                "training": training,
                "parity": {"max_abs_diff": parity, "images": described,
                           "backend": keras.backend.backend()}},
        root=root)
    entries[name] = entry
    write_index(entries, index)
    return entry


def headline_metric(entry):
    """The one number the README table shows for an entry, as text (e.g. "MIG 0.214")."""
    measured = entry.metrics.get("metrics", {})
    if "test_error_pct" in measured:
        return f"test error {measured['test_error_pct']:.2f}%"
    if "probes" in measured:
        label = measured["probes"]["label"] or "label"
        kept = measured["probes"]["identity"][label]["nonlinear"]
        dispelled = measured["probes"]["rest"][label]["nonlinear"]
        return f"identity acc. f_T {kept:.3f} / f_P {dispelled:.3f}"
    if "source_classifier_accuracy" in measured:  # UFDN with a source classifier
        target = [d for d in measured["source_classifier_accuracy"] if d != "mnist"][0]
        return f"{target} acc. {measured['source_classifier_accuracy'][target]:.3f}"
    if "translated_source_cnn" in measured:  # DRIT
        target = next(iter(measured["translated_source_cnn"]))
        return (f"{target} acc. {measured['domain_adaptation'][target]['target_accuracy']:.3f}"
                " (content probe)")
    if "mig" in measured:
        return f"MIG {measured['mig']['mig']:.3f}"
    if "categorical_accuracy" in measured:
        return f"digit accuracy {measured['categorical_accuracy']['accuracy']:.3f}"
    if "reconstruction" in measured:
        return f"recon {measured['reconstruction']['recon']:.1f} nats"
    return "-"


def source_text(entry):
    """README's source column: the recipe's steps here, or the peer project converted."""
    if entry.source.get("type") == "converted":
        training = entry.source["training"]
        parity = entry.source["parity"]["max_abs_diff"]
        worst = max(parity[k] for k in ("mean", "log_var", "decoder"))
        return (f"converted: {entry.source['project']} ({training['epochs']} epochs; max "
                f"\\|diff\\| vs PyTorch {worst:.1e})")
    return "trained here"


def markdown_table(entries=None):
    """README's model table, generated from the index."""
    entries = entries or read_index()
    lines = ["| name | class | dataset | steps | source | key metric | weights |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for name in sorted(entries):
        e = entries[name]
        lines.append(
            f"| `{name}` | {e.cls} | {e.dataset} | {e.training_steps or '-'} | "
            f"{source_text(e)} | {headline_metric(e)} | "
            f"{'%.1f MB' % (e.file_size / 1e6) if e.has_weights else 'not trained: ' + e.recipe}"
            " |")
    return "\n".join(lines)
