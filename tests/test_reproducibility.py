"""Same seed, same machine, same backend: the same weights and the same metrics (issue 19)."""

import os
import subprocess
import sys

import keras
import numpy as np

from helpers import tiny_beta_vae, weights_of
from keras_disent import cli, metrics, runs, zoo
from keras_disent.data import dsprites

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _train(seed):
    keras.utils.set_random_seed(seed)
    model = tiny_beta_vae(seed=seed)
    model.compile(keras.optimizers.Adam(1e-3))
    model.fit(dsprites().batches(8, steps_per_epoch=4, seed=seed), epochs=1, verbose=0)
    return model


def test_same_seed_trains_the_same_weights():
    first, second, other = _train(0), _train(0), _train(1)
    for a, b in zip(weights_of(first.weights), weights_of(second.weights)):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b)
               for a, b in zip(weights_of(first.weights), weights_of(other.weights)))
    score = metrics.mig(first.encode, dsprites(), num_train=300)
    assert metrics.mig(second.encode, dsprites(), num_train=300) == score


def test_two_same_seed_commands_give_the_same_run(tmp_path):
    outs = []
    for name in ("a", "b"):
        out = str(tmp_path / name)
        cli.run(["train", "beta_vae", "--steps", "3", "--batch-size", "8", "--latent-dim", "3",
                 "--metrics", "mig", "--seed", "5", "--out", out])
        outs.append(out)
    first, second = (zoo.load(path) for path in outs)
    for a, b in zip(weights_of(first.weights), weights_of(second.weights)):
        np.testing.assert_array_equal(a, b)
    scores = [runs.read_json(os.path.join(path, "metrics.json"))["metrics"]["mig"]["mig"]
              for path in outs]
    assert scores[0] == scores[1]


def test_command_output_has_no_backend_log_noise(tmp_path):
    command = [sys.executable, "-m", "keras_disent.cli", "train", "beta_vae", "--steps", "1",
               "--batch-size", "4", "--latent-dim", "2", "--metrics", "",
               "--out", str(tmp_path / "r")]
    env = {k: v for k, v in os.environ.items()
           if k not in ("TF_CPP_MIN_LOG_LEVEL", "KERAS_DISENT_BACKEND_LOGS")}
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT,
                            env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    output = result.stdout + result.stderr
    for noise in ("oneDNN custom operations", "absl::InitializeLog", "port.cc"):
        assert noise not in output, output[-3000:]
    assert "[keras-disent] training BetaVAE" in result.stdout
