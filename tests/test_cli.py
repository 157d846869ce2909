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
    assert config["optimizers"] == {"model": {"class": "Adam", "learning_rate": 5e-4,
                                              "beta_1": 0.9, "beta_2": 0.999,
                                              "epsilon": 1e-7}}

    results = cli.run(["evaluate", out, "--metrics", "mig,sap", "--num-train", "200",
                        "--out", str(tmp_path / "m.json")])
    assert 0.0 <= results["mig"]["mig"] <= 1.0 and "sap" in results
    with open(tmp_path / "m.json") as handle:
        assert set(json.load(handle)["metrics"]) == {"mig", "sap"}


def test_each_method_takes_its_own_hyperparameter_names(tmp_path):
    out = str(tmp_path / "f")
    model = cli.run(["train", "factor_vae", "--steps", "1", "--batch-size", "8", "--metrics",
                      "", "--gamma", "20", "--learning-rate", "3e-4", "--out", out])
    assert model.gamma == 20.0
    with open(os.path.join(out, "config.json")) as handle:
        optimizers = json.load(handle)["optimizers"]
    # Both of FactorVAE's optimizers are recorded with what they actually used.
    assert {name: o["learning_rate"] for name, o in optimizers.items()} == {
        "vae": 3e-4, "discriminator": 3e-4}
    assert optimizers["discriminator"]["beta_1"] == 0.5
    # A flag the method does not use is an error that names the method's own flags.
    with pytest.raises(SystemExit, match=r"factor_vae does not take --beta; its "
                                         r"hyperparameters are --latent-dim, --gamma"):
        cli.run(["train", "factor_vae", "--beta", "20", "--out", out])
    with pytest.raises(SystemExit, match="beta_vae does not take --alpha"):
        cli.run(["train", "beta_vae", "--alpha", "2", "--out", out])


def test_errors_say_what_to_do(tmp_path, capsys):
    with pytest.raises(SystemExit, match="no model file"):
        cli.run(["evaluate", str(tmp_path / "absent.keras")])
    with pytest.raises(SystemExit, match="^error: Unknown dataset 'nope'"):
        cli.run(["train", "beta_vae", "--dataset", "nope", "--out", str(tmp_path / "x")])
    with pytest.raises(SystemExit, match="^error: beta must be a finite number, got nan"):
        cli.run(["train", "beta_vae", "--beta", "nan", "--out", str(tmp_path / "x")])
    with pytest.raises(SystemExit, match="beta_tcvae does not take --capacity-max"):
        cli.run(["train", "beta_tcvae", "--capacity-max", "25", "--steps", "1",
                  "--out", str(tmp_path / "y")])
    with pytest.raises(SystemExit, match="recipes/press2019_glasses.py"):
        cli.run(["train", "content_transfer", "--out", str(tmp_path / "z")])
    with pytest.raises(SystemExit, match="^error: ufdn trains on batches of several domains "
                                         "with their domain ids; run its recipe"):
        cli.run(["train", "ufdn", "--out", str(tmp_path / "u")])
    with pytest.raises(SystemExit, match="dc_ign needs a dataset with ground-truth factors"):
        cli.run(["train", "dc_ign", "--dataset", "dsprites", "--intrinsic-factor", "colour",
                  "--out", str(tmp_path / "z")])
    with pytest.raises(SystemExit):  # argparse: invalid choice, usage on stderr
        cli.run(["train", "beta_vea"])
    assert "invalid choice: 'beta_vea'" in capsys.readouterr().err


def test_train_dc_ign_from_the_registry(tmp_path):
    out = str(tmp_path / "d")
    model = cli.run(["train", "dc_ign", "--steps", "1", "--batch-size", "4", "--metrics", "",
                      "--intrinsic-dim", "2", "--out", out])
    assert model.group_factors == ["azimuth", "elevation", "light_azimuth", "shape"]
    assert model.code_dim == 5 and os.path.exists(os.path.join(out, "traversal.png"))


def test_zoo_list_and_show(capsys):
    cli.run(["zoo", "list"])
    listing = capsys.readouterr().out
    assert "beta_vae_celeba" in listing
    cli.run(["zoo", "show", "beta_vae_celeba"])
    shown = json.loads(capsys.readouterr().out)
    assert shown["class"] == "BetaVAE" and shown["source"]["type"] == "converted"
    assert shown["source"]["path"] == "results/betaH_celeba/model.pt"
