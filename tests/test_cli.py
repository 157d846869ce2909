"""The `keras-disent` console script: train, evaluate, zoo, errors (tiny runs)."""

import json
import os

import pytest

from keras_disent import cli


def test_train_writes_a_complete_run_dir(tmp_path):
    out = str(tmp_path / "run")
    model = cli.run(["train", "beta_vae", "--steps", "2", "--batch-size", "8", "--metrics", "",
                      "--beta", "3", "--out", out])
    assert model.beta == 3.0
    for name in ("model.keras", "model.weights.h5", "traversal.png", "reconstruction.png",
                 "config.json", "metrics.json", "history.json"):
        assert os.path.exists(os.path.join(out, name)), name
    with open(os.path.join(out, "config.json")) as handle:
        config = json.load(handle)
    assert config["run"]["steps"] == 2 and config["run"]["command"].startswith("keras-disent")
    assert config["provenance"]["backend"] in ("tensorflow", "jax", "torch")

    results = cli.run(["evaluate", out, "--metrics", "mig,sap", "--num-train", "200",
                        "--out", str(tmp_path / "m.json")])
    assert 0.0 <= results["mig"]["mig"] <= 1.0 and "sap" in results
    with open(tmp_path / "m.json") as handle:
        assert set(json.load(handle)["metrics"]) == {"mig", "sap"}


def test_factor_vae_takes_its_strength_from_beta(tmp_path):
    model = cli.run(["train", "factor_vae", "--steps", "1", "--batch-size", "8", "--metrics",
                      "", "--beta", "20", "--out", str(tmp_path / "f")])
    assert model.gamma == 20.0


def test_errors_say_what_to_do(tmp_path, capsys):
    with pytest.raises(SystemExit, match="no model file"):
        cli.run(["evaluate", str(tmp_path / "absent.keras")])
    with pytest.raises(ValueError, match="Unknown dataset 'nope'"):
        cli.run(["train", "beta_vae", "--dataset", "nope", "--out", str(tmp_path / "x")])
    with pytest.raises(SystemExit, match="applies to beta_vae"):
        cli.run(["train", "beta_tcvae", "--capacity-max", "25", "--steps", "1",
                  "--out", str(tmp_path / "y")])


def test_zoo_list_and_show(capsys):
    cli.run(["zoo", "list"])
    listing = capsys.readouterr().out
    assert "beta_vae_celeba" in listing
    cli.run(["zoo", "show", "beta_vae_celeba"])
    shown = json.loads(capsys.readouterr().out)
    assert shown["class"] == "BetaVAE" and "recipes/higgins2017_celeba.py" in shown["recipe"]
