"""Runs that never lose or corrupt work: NaN guard, run-directory ownership (lock, config),
atomic checkpoints and resume, checksums, and clear errors for bad input (issue 17)."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from helpers import tiny_beta_vae
from keras_disent import cli, runs, train, zoo
from keras_disent.data import dsprites

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _fit(run_dir, model=None, **kwargs):
    options = dict(steps=6, batch_size=8, steps_per_epoch=2, verbose=0)
    options.update(kwargs)
    return train.fit_run(model or tiny_beta_vae(), dsprites(), run_dir, **options)


def test_divergence_stops_at_the_first_non_finite_loss(tmp_path):
    run_dir = str(tmp_path / "run")
    with pytest.raises(runs.TrainingDivergedError,
                       match=r"Training diverged: \w+ = (nan|inf) at step \d+ of 40.*Nothing "
                             r"was saved as finished.*lower learning rate \(now model 1000\)"):
        _fit(run_dir, steps=40, steps_per_epoch=2, learning_rate=1e3)
    assert not os.path.exists(os.path.join(run_dir, "history.json"))
    assert not os.path.exists(os.path.join(run_dir, "model.keras"))
    if os.path.exists(os.path.join(run_dir, "checkpoint.json")):  # the last good one
        meta = runs.read_json(os.path.join(run_dir, "checkpoint.json"))
        assert all(np.isfinite(v).all() for v in meta["history"].values())


def test_cli_divergence_exits_non_zero(tmp_path):
    with pytest.raises(SystemExit) as error:
        cli.run(["train", "beta_vae", "--steps", "40", "--batch-size", "8", "--metrics", "",
                 "--learning-rate", "1e3", "--out", str(tmp_path / "run")])
    assert str(error.value).startswith("error: Training diverged")


def test_bad_hyperparameters_and_training_images_are_refused():
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="beta must be a finite number"):
            tiny_beta_vae(beta=bad)
    with pytest.raises(ValueError, match="conv_channels must list at least one"):
        tiny_beta_vae(conv_channels=())
    model = tiny_beta_vae()
    model.compile(keras.optimizers.Adam(1e-3))
    _, images = dsprites().sample(8, seed=0)
    with pytest.raises(ValueError, match=r"training images must be float.*uint8.*/ 255"):
        model.fit((images * 255).astype("uint8"), epochs=1, verbose=0)
    images[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match=r"training images must have values in \[0, 1\]"):
        model.fit(images, epochs=1, verbose=0)


def test_another_config_in_a_run_directory_is_an_error(tmp_path):
    run_dir = str(tmp_path / "run")
    _fit(run_dir, steps=2)
    with pytest.raises(runs.RunConfigMismatchError,
                       match=r"(?s)model_config.beta: 4.0 -> 8.0.*--overwrite"):
        _fit(run_dir, tiny_beta_vae(beta=8.0), steps=2)
    assert runs.read_json(os.path.join(run_dir, "config.json"))["model_config"]["beta"] == 4.0
    with pytest.raises(runs.RunConfigMismatchError, match="latent_dim: 4 -> 5"):
        _fit(run_dir, tiny_beta_vae(latent_dim=5), steps=2)
    _, _ = _fit(run_dir, tiny_beta_vae(beta=8.0), steps=2, overwrite=True)
    assert runs.read_json(os.path.join(run_dir, "config.json"))["model_config"]["beta"] == 8.0


def test_a_finished_run_loads_into_a_fresh_model_ready_to_evaluate(tmp_path):
    run_dir = str(tmp_path / "run")
    _fit(run_dir, steps=2)
    model = tiny_beta_vae()  # a new process would build it uncompiled
    _fit(run_dir, model, steps=2)
    images = dsprites().sample(8, seed=0)[1]
    logs = model.evaluate(images, batch_size=8, verbose=0, return_dict=True)  # was: compile()
    assert np.isfinite(logs["loss"])


def test_metrics_only_change_re_evaluates_without_retraining(tmp_path, capsys):
    out = str(tmp_path / "run")
    common = ["train", "beta_vae", "--steps", "2", "--batch-size", "8", "--out", out]
    cli.run(common + ["--metrics", ""])
    weights_time = os.path.getmtime(os.path.join(out, "model.weights.h5"))
    capsys.readouterr()
    cli.run(common + ["--metrics", "mig"])
    assert "already finished this run" in capsys.readouterr().out
    assert os.path.getmtime(os.path.join(out, "model.weights.h5")) == weights_time
    assert "mig" in runs.read_json(os.path.join(out, "metrics.json"))["metrics"]
    with pytest.raises(SystemExit, match="unknown metric.*mgi"):  # before any training
        cli.run(common + ["--metrics", "mgi", "--out", str(tmp_path / "never")])
    assert not os.path.exists(tmp_path / "never")


_KILLER = """
import os, signal, sys
sys.path.insert(0, {tests!r})
import keras
from helpers import tiny_beta_vae
from keras_disent import train
from keras_disent.data import dsprites

class Kill(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = 0
    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == {kill_at}:
            os.kill(os.getpid(), signal.SIGKILL)

train.fit_run(tiny_beta_vae(), dsprites(), {run_dir!r}, steps=6, batch_size=8,
              steps_per_epoch=2, verbose=0, callbacks=[Kill()])
"""


def _killed_run(run_dir, kill_at):
    code = _KILLER.format(tests=os.path.join(ROOT, "tests"), run_dir=run_dir, kill_at=kill_at)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300, cwd=ROOT)
    assert result.returncode == -9, result.stderr[-2000:]


def test_killed_run_resumes_from_its_last_checkpoint(tmp_path, capsys):
    run_dir = str(tmp_path / "run")
    _killed_run(run_dir, kill_at=5)  # after step 5: checkpoints at steps 2 and 4 exist
    meta = runs.read_json(os.path.join(run_dir, "checkpoint.json"))
    assert meta["steps"] == 4 and len(meta["history"]["loss"]) == 2
    assert not os.path.exists(os.path.join(run_dir, "history.json"))
    history, wall = _fit(run_dir)
    assert f"resuming {run_dir} from step 4" in capsys.readouterr().out
    saved = runs.read_json(os.path.join(run_dir, "history.json"))
    assert saved["resumed_from_step"] == 4
    assert len(saved["history"]["loss"]) == 3 == len(history.history["loss"])  # whole run
    assert saved["wall_time_s"] >= meta["wall_time_s"]
    assert not [n for n in os.listdir(run_dir) if n.startswith("checkpoint")]


def test_truncated_checkpoint_is_detected(tmp_path):
    run_dir = str(tmp_path / "run")
    _killed_run(run_dir, kill_at=3)
    meta = runs.read_json(os.path.join(run_dir, "checkpoint.json"))
    path = os.path.join(run_dir, meta["weights"])
    with open(path, "r+b") as handle:
        handle.truncate(os.path.getsize(path) // 2)
    with pytest.raises(runs.CorruptRunError, match="checkpoint's weights is corrupt.*truncated"):
        _fit(run_dir)


def test_failed_final_save_keeps_the_checkpoint(tmp_path, monkeypatch):
    run_dir = str(tmp_path / "run")

    def broken_save(self, path, *args, **kwargs):
        with open(path, "wb") as handle:
            handle.write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(keras.Model, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        _fit(run_dir)
    assert not os.path.exists(os.path.join(run_dir, "model.keras"))  # no half-written file
    assert runs.read_json(os.path.join(run_dir, "checkpoint.json"))["steps"] == 6
    monkeypatch.undo()
    history, _ = _fit(run_dir)  # nothing retrained: all 3 epochs come from the checkpoint
    assert len(history.history["loss"]) == 3
    assert runs.read_json(os.path.join(run_dir, "history.json"))["resumed_from_step"] == 6


def test_one_process_per_run_directory(tmp_path):
    run_dir = str(tmp_path / "run")
    os.makedirs(run_dir)
    with runs.RunLock(run_dir):
        with pytest.raises(runs.RunLockedError, match=f"in use by another process \\(pid "
                                                      f"{os.getpid()}\\)"):
            _fit(run_dir, steps=2)
        code = ("import sys; sys.path.insert(0, 'tests'); from helpers import tiny_beta_vae; "
                "from keras_disent import train, runs; from keras_disent.data import dsprites\n"
                "try:\n"
                f"    train.fit_run(tiny_beta_vae(), dsprites(), {run_dir!r}, 2, 8, verbose=0)\n"
                "except runs.RunLockedError as error:\n"
                "    print('locked', error)")
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                timeout=300, cwd=ROOT)
        assert "locked" in result.stdout, result.stderr[-2000:]
    _fit(run_dir, steps=2)  # released: the lock dies with its holder


def test_modified_run_weights_are_refused(tmp_path):
    run_dir = str(tmp_path / "run")
    _fit(run_dir, steps=2)
    path = os.path.join(run_dir, "model.weights.h5")
    with open(path, "r+b") as handle:
        handle.seek(os.path.getsize(path) - 100)
        byte = handle.read(1)
        handle.seek(-1, 1)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(zoo.ZooError, match="run's weights is corrupt"):
        zoo.load(run_dir)
    with pytest.raises(SystemExit, match="corrupt"):
        cli.run(["evaluate", run_dir, "--metrics", "mig", "--num-train", "50"])
    with pytest.raises(runs.CorruptRunError):
        _fit(run_dir, steps=2)


def test_unusable_output_and_arguments(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(runs.RunError, match="Cannot write the run directory.*writable --out"):
        _fit(str(blocker / "run"), steps=2)
    with pytest.raises(ValueError, match="steps must be a positive integer, got 0"):
        _fit(str(tmp_path / "r"), steps=0)
    with pytest.raises(SystemExit):
        cli.run(["train", "beta_vae", "--steps", "0", "--out", str(tmp_path / "r")])


def test_crafted_zoo_index_is_refused(tmp_path):
    entry = dict(json.load(open(zoo.index_path()))["entries"]["beta_vae_dsprites"])
    for field, value, message in (("weights", "../../../etc/passwd", "outside the zoo folder"),
                                  ("class", "Sequential", "not a registered")):
        crafted = dict(entry, **{field: value})
        path = tmp_path / f"index_{field}.json"
        path.write_text(json.dumps({"format": 1, "entries": {"crafted": crafted}}))
        with pytest.raises(zoo.ZooError, match=message):
            zoo.load("crafted", index=str(path))


def test_corrupt_data_files_get_clear_errors(tmp_path):
    from keras_disent import data

    junk = tmp_path / "dsprites.npz"
    junk.write_bytes(os.urandom(4096))
    with pytest.raises(data.files.DataFileError, match="cannot be read as the dSprites") as error:
        data.dsprites_file(str(junk))
    assert "pickle" not in str(error.value)
    csv = tmp_path / "mnist.csv"
    csv.write_text("1,2,x\n")
    with pytest.raises(data.files.DataFileError, match="cannot be read as an MNIST CSV"):
        data.mnist_csv(str(csv))
    h5 = tmp_path / "3dshapes.h5"
    h5.write_bytes(b"\x89HDF\r\n" + os.urandom(100))
    with pytest.raises(data.files.DataFileError, match="cannot be read as 3dshapes.h5"):
        data.shapes3d_h5(str(h5))


def test_export_of_a_diverged_model_leaves_nothing(tmp_path):
    pytest.importorskip("tensorflow")
    from keras_disent.export import ExportError, export_decoder

    model = tiny_beta_vae()
    for variable in model.decoder.weights[:1]:
        variable.assign(np.full(variable.shape, np.nan, "float32"))
    out = tmp_path / "export"
    with pytest.raises(ExportError, match="decoder has NaN/inf weights"):
        export_decoder(model, str(out))
    assert not out.exists() and not [p for p in os.listdir(tmp_path) if p.startswith(".export")]
