"""The zoo: schema (hash, size, parameter count recomputed), loading on this backend, errors."""

import json
import os
import shutil

import keras
import numpy as np
import pytest

from helpers import tiny_beta_vae
from keras_disent import cli, contract, methods, runs, train, zoo
from keras_disent.data import dsprites

ENTRIES = zoo.read_index()
TRAINED = sorted(n for n, e in ENTRIES.items() if e.has_weights)
UNTRAINED = sorted(n for n, e in ENTRIES.items() if not e.has_weights)
REQUIRED = {"name", "cls", "config", "dataset", "input_shape", "value_range", "recipe"}


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_entry_schema(name):
    entry = ENTRIES[name]
    for field in REQUIRED:
        assert getattr(entry, field) not in (None, ""), field
    assert entry.name.split("_")[0] in ("beta", "infogan", "dcign", "factor", "content", "d2ae",
                                        "deep", "ufdn", "drit")
    assert methods.by_class(entry.cls).class_name == entry.cls
    model = zoo.build(entry)
    assert tuple(model.image_shape) == tuple(entry.input_shape)
    if entry.has_weights:
        assert zoo.sha256_of(entry.weights_path) == entry.sha256
        assert os.path.getsize(entry.weights_path) == entry.file_size
        assert model.count_params() == entry.num_params
        for key in ("trained_backend", "keras_version", "training_steps"):
            assert getattr(entry, key), key
        assert entry.metrics["metrics"], "every trained entry records its metrics"
        assert entry.metrics["dataset"] and entry.metrics["protocol"]
    source = entry.source
    assert source.get("type") in ("trained here", "converted"), "every entry says its source"
    if source["type"] == "trained here":
        assert entry.wall_time_s or not entry.has_weights
    else:  # a converted peer checkpoint: origin, licence, the authors' settings, parity
        for key in ("project", "repository", "commit", "path", "sha256", "licence", "notice"):
            assert source[key], key
        for key in ("epochs", "steps", "batch_size", "learning_rate", "loss_parameters"):
            assert key in source["training"], key
        parity = source["parity"]["max_abs_diff"]
        for output in ("mean", "log_var", "decoder"):
            assert parity[output] <= 1e-5 * max(1.0, parity["scale"][output]), output


@pytest.mark.parametrize("name", TRAINED)
def test_trained_entry_loads_and_decodes(name):
    model = zoo.load(name)
    shape = tuple(ENTRIES[name].input_shape)
    if contract.DECODER in model.capabilities:
        images = model.decode(np.zeros((2, model.code_dim), "float32"))
        assert images.shape == (2,) + shape
        assert np.isfinite(images).all() and images.min() >= 0 and images.max() <= 1
    if contract.CLASSIFIER in model.capabilities:
        probabilities = model.class_probabilities(np.full((2,) + shape, 0.5, "float32"))
        assert probabilities.shape == (2, model.num_classes)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_each_method_has_at_most_one_default():
    defaults = {}
    for entry in ENTRIES.values():
        if entry.default:
            key = (entry.cls, entry.config.get("capacity_max") is None)
            assert key not in defaults, (entry.name, defaults.get(key))
            defaults[key] = entry.name


@pytest.mark.parametrize("name", UNTRAINED)
def test_entry_without_weights_explains_how_to_train(name):
    with pytest.raises(zoo.WeightsNotAvailableError, match="(?s)recipes/.*zoo register"):
        zoo.load(name)


def test_unknown_name_lists_close_matches():
    with pytest.raises(zoo.ZooError, match="Did you mean 'beta_vae_celeba'"):
        zoo.load("beta_vae_celba")
    with pytest.raises(zoo.ZooError, match="No zoo entry named 'nothing_like_it'"):
        zoo.get("nothing_like_it")


def test_readme_table_matches_index():
    readme = os.path.join(os.path.dirname(__file__), "..", "README.md")
    with open(readme) as handle:
        text = handle.read()
    assert cli.readme_with_zoo_table(text, zoo.markdown_table()) == text, (
        "README's zoo table is stale: run `keras-disent zoo readme`.")
    from keras_disent import methods

    assert cli.readme_with_table(text, methods.markdown_table(), "methods") == text, (
        "README's methods table is stale: run `keras-disent zoo readme`.")


@pytest.fixture
def registered(tmp_path):
    """A tiny model trained 2 steps, registered into a temporary index."""
    model = tiny_beta_vae()
    run_dir = str(tmp_path / "run")
    train.fit_run(model, dsprites(), run_dir, steps=2, batch_size=8, verbose=0,
                  run_config={"command": "pytest"})
    index = str(tmp_path / "zoo" / "index.json")
    os.makedirs(os.path.dirname(index))
    with open(index, "w") as handle:
        json.dump({"format": 1, "entries": {}}, handle)
    entry = zoo.register(run_dir, "beta_vae_tiny", index=index)
    return model, entry, index


def test_register_then_load_gives_the_same_model(registered):
    model, entry, index = registered
    assert entry.num_params == model.count_params()
    assert entry.training_steps == 2 and entry.trained_backend == keras.backend.backend()
    loaded = zoo.load("beta_vae_tiny", index=index)
    z = np.random.default_rng(0).standard_normal((3, 4)).astype("float32")
    np.testing.assert_allclose(loaded.decode(z), model.decode(z), atol=1e-6)


def test_corrupt_and_missing_weights_name_the_file_and_hash(registered):
    _, entry, index = registered
    with open(entry.weights_path, "r+b") as handle:
        handle.seek(100)
        byte = handle.read(1)
        handle.seek(100)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(zoo.ZooError, match=f"corrupt.*expected {entry.sha256}"):
        zoo.load("beta_vae_tiny", index=index)
    os.remove(entry.weights_path)
    with pytest.raises(zoo.ZooError, match="missing.*beta_vae_tiny.weights.h5"):
        zoo.load("beta_vae_tiny", index=index)


def test_load_run_dir_and_keras_file(tmp_path, registered):
    with pytest.raises(zoo.ZooError, match="not a finished run"):
        zoo.load(str(tmp_path))
    with pytest.raises(zoo.ZooError, match="No model file"):
        zoo.load(str(tmp_path / "absent.keras"))
    run = str(tmp_path / "run")
    assert zoo.load(run).latent_dim == 4
    assert zoo.load(os.path.join(run, "model.keras")).latent_dim == 4
    shutil.rmtree(run)


@pytest.mark.large
@pytest.mark.parametrize("name", [n for n in TRAINED if ENTRIES[n].dataset.lower() == "dsprites"
                                  and "mig" in ENTRIES[n].metrics.get("metrics", {})])
def test_recorded_mig_is_reproduced(name):
    """Re-measures an entry's MIG on the built-in dSprites with its recorded seed (minutes)."""
    from keras_disent import metrics

    entry = ENTRIES[name]
    recorded = entry.metrics["metrics"]["mig"]["mig"]
    model = zoo.load(name)
    measured = metrics.mig(model.encode, dsprites(), seed=entry.metrics["seed"])["mig"]
    assert measured == pytest.approx(recorded, abs=0.02)


def test_finished_run_is_loaded_not_retrained(tmp_path):
    run_dir = str(tmp_path / "run")
    model = tiny_beta_vae()
    train.fit_run(model, dsprites(), run_dir, steps=2, batch_size=8, verbose=0)
    again = tiny_beta_vae()
    history, _ = train.fit_run(again, dsprites(), run_dir, steps=2, batch_size=8, verbose=0)
    assert "loss" in history.history  # the saved history
    z = np.random.default_rng(0).standard_normal((2, 4)).astype("float32")
    np.testing.assert_allclose(again.decode(z), model.decode(z), atol=1e-6)
    longer = tiny_beta_vae()
    with pytest.raises(runs.RunConfigMismatchError, match="run.steps: 2 -> 3"):
        train.fit_run(longer, dsprites(), run_dir, steps=3, batch_size=8, verbose=0)
    train.fit_run(longer, dsprites(), run_dir, steps=3, batch_size=8, verbose=0,
                  overwrite=True)
    assert runs.read_json(os.path.join(run_dir, "config.json"))["run"]["steps"] == 3
