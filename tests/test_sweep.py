"""Studies (`keras_disent.sweep`): a 2-method x 2-seed sweep on local Ray, the resume of a
half-finished sweep, a failing trial, the results table, UDR and the figures."""

import csv
import json
import os

import keras
import numpy as np
import pytest

from keras_disent import sweep, train

TINY = {"latent_dim": 3, "conv_channels": [8, 8, 8, 8], "dense_units": [16]}


def _trials(seeds=(0, 1), steps=4, steps_per_epoch=None):
    return sweep.grid({"beta_vae": {"beta": [4.0]}, "dip_vae": {"lambda_od": [10.0]}},
                      seeds=list(seeds), datasets=["dsprites"], steps=steps, batch_size=8,
                      model_config=TINY, steps_per_epoch=steps_per_epoch)


def test_grid_names_and_errors():
    trials = sweep.grid({"beta_vae": {"beta": [1, 4]}, "factor_vae": {}}, seeds=[0, 1],
                        datasets=["dsprites", "noisy_dsprites"], steps=10)
    assert len(trials) == 2 * 2 * 2 + 1 * 2 * 2
    assert trials[0].name == "beta_vae_beta1_dsprites_s0"
    assert trials[0].group == "beta_vae_beta1_dsprites"
    assert len({t.name for t in trials}) == len(trials)
    with pytest.raises(ValueError, match=r"beta_vae has no hyperparameter\(s\) \['gama'\]"):
        sweep.grid({"beta_vae": {"gama": [1]}}, seeds=[0])
    with pytest.raises(ValueError, match="Unknown method 'beta_vea'"):
        sweep.grid({"beta_vea": {}}, seeds=[0])
    with pytest.raises(ValueError, match="executor must be 'ray' or 'local'"):
        sweep.run_sweep(trials[:1], "unused", executor="dask")


def test_two_methods_two_seeds_on_local_ray_with_a_failing_trial(tmp_path):
    pytest.importorskip("ray")
    import ray

    out = str(tmp_path / "study")
    trials = _trials() + [sweep.Trial("beta_vae", (("beta", 2.0),), 0, "dsprites", 4, 8,
                                      model_config=sweep._frozen(TINY), fail="boom")]
    try:
        rows = sweep.run_sweep(trials, out, num_cpus=2, metric_names=("mig",),
                               metric_points=64, progress=False)
    finally:
        ray.shutdown()
    assert [r["trial"] for r in rows] == [t.name for t in trials]
    assert [r["status"] for r in rows] == ["finished"] * 4 + ["failed"]
    assert rows[-1]["error"] == "RuntimeError: boom"
    error = json.load(open(os.path.join(out, "trials", trials[-1].name, "error.json")))
    assert "RuntimeError: boom" in error["traceback"]
    for row in rows[:4]:
        assert 0.0 <= row["mig"] <= 1.0 and np.isfinite(row["recon"])
        run_dir = os.path.join(out, "trials", row["trial"])
        config = json.load(open(os.path.join(run_dir, "config.json")))
        assert config["run"]["trial"]["trial"] == row["trial"]  # a normal run directory
        assert config["provenance"]["backend"] == keras.backend.backend()
        assert os.path.exists(os.path.join(run_dir, "model.keras"))
    # seeds differ, so do the two runs of one method
    assert rows[0]["recon"] != rows[1]["recon"]
    with open(os.path.join(out, "results.csv")) as handle:
        table = list(csv.DictReader(handle))
    assert [r["trial"] for r in table] == [t.name for t in trials]
    assert table[0]["param_beta"] == "4.0" and table[2]["param_lambda_od"] == "10.0"
    # the same trial in this process gives the same numbers as in the Ray worker
    again = sweep.run_trial(trials[0], str(tmp_path / "local"), ("mig",), 64)
    assert again["mig"] == pytest.approx(rows[0]["mig"], abs=1e-6)
    assert again["recon"] == pytest.approx(rows[0]["recon"], rel=1e-4)


def test_sweep_again_skips_finished_and_resumes_interrupted_trials(tmp_path, monkeypatch):
    out = str(tmp_path / "study")
    trials = _trials(seeds=(0,), steps=4, steps_per_epoch=2)
    interrupted = trials[1].name
    real_fit_run = train.fit_run

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise KeyboardInterrupt("the machine went away")

    def fit_run_cut_short(model, dataset, run_dir, *args, **kwargs):
        if os.path.basename(run_dir) == interrupted:
            kwargs["callbacks"] = [Interrupt()]
        return real_fit_run(model, dataset, run_dir, *args, **kwargs)

    monkeypatch.setattr(train, "fit_run", fit_run_cut_short)
    with pytest.raises(KeyboardInterrupt):
        sweep.run_sweep(trials, out, executor="local", metric_names=("mig",),
                        metric_points=64, progress=False)
    first_result = os.path.join(out, "trials", trials[0].name, "result.json")
    assert os.path.exists(first_result)
    stamp = os.path.getmtime(first_result)
    half = os.path.join(out, "trials", interrupted)
    assert os.path.exists(os.path.join(half, "checkpoint.json"))
    assert not os.path.exists(os.path.join(half, "result.json"))

    monkeypatch.setattr(train, "fit_run", real_fit_run)
    rows = sweep.run_sweep(trials, out, executor="local", metric_names=("mig",),
                           metric_points=64, progress=False)
    assert [r["status"] for r in rows] == ["finished", "finished"]
    assert os.path.getmtime(first_result) == stamp  # not run again
    history = json.load(open(os.path.join(half, "history.json")))
    assert history["resumed_from_step"] == 2 and len(history["history"]["loss"]) == 2


def test_aggregate_writes_udr_and_figures(tmp_path):
    out = str(tmp_path / "study")
    rows = sweep.run_sweep(_trials(), out, executor="local", metric_names=("mig",),
                           metric_points=64, progress=False)
    paths = sweep.aggregate(rows, out, metric_names=("mig",))
    names = sorted(os.path.basename(p) for p in paths)
    assert names == ["metric_rank_correlation.png", "mig_distribution.png",
                     "recon_distribution.png", "udr_distribution.png"]
    for row in rows:
        assert 0.0 <= row["udr"] <= 1.0
    saved = json.load(open(os.path.join(out, "results.json")))["trials"]
    assert [r["udr"] for r in saved] == [r["udr"] for r in rows]
    with pytest.raises(ValueError, match="No finished trial to draw"):
        sweep.study_figures([dict(rows[0], status="failed")], out)


def test_cli_sweep_parses_methods_and_says_what_is_wrong(tmp_path):
    from keras_disent import cli

    assert cli.parse_method_spec("beta_vae:beta=1,4:latent-dim=5") == (
        "beta_vae", {"beta": [1.0, 4.0], "latent_dim": [5]})
    assert cli.parse_method_spec("factor_vae") == ("factor_vae", {})
    for spec, message in (("beta_vae:gama=1", "beta_vae has no hyperparameter 'gama'"),
                          ("beta_vae:beta", "write hyperparameter values as NAME=V1,V2"),
                          ("beta_vae:latent_dim=1.5", "latent_dim takes int values"),
                          ("beta_vea", "Unknown method 'beta_vea'")):
        with pytest.raises(SystemExit, match=message):
            cli.run(["sweep", spec, "--out", str(tmp_path / "s"), "--steps", "1"])
    with pytest.raises(SystemExit, match="--seeds takes comma-separated integers"):
        cli.run(["sweep", "beta_vae", "--seeds", "a,b", "--out", str(tmp_path / "s")])
