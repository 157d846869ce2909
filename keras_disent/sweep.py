"""Studies: grids of methods x hyperparameters x seeds x datasets, scheduled on Ray.

A study is a list of `Trial`s (`grid(...)`); each trial is a normal run directory under
`<out>/trials/<trial name>/` (config, provenance, checkpoints and resume, metrics; see
`train.fit_run`) plus its `result.json` row, or `error.json` when it failed. `run_sweep`
schedules the trials that have no `result.json` yet:
  - on Ray (`executor="ray"`, the default): a local Ray instance started for the sweep, or
    the cluster at `address` (`ray://host:10001`, or "auto" inside a cluster); each trial is a
    Ray task holding `cpus_per_trial` CPUs and, where the cluster has GPUs, one GPU;
  - in this process, one after the other (`executor="local"`): no Ray needed.
Sweeping again skips finished trials and resumes interrupted ones from their last checkpoint
(`fit_run`); a trial that raises is recorded with its error and traceback and the others go
on. The rows are written to `<out>/results.json` and `results.csv` (one row per trial), and
`study_figures` draws the study's PNGs (`aggregate`).

Example:
    >>> from keras_disent import sweep
    >>> trials = sweep.grid({"beta_vae": {"beta": [1, 4]}, "dip_vae": {"lambda_od": [1, 10]}},
    ...                     seeds=[0, 1], datasets=["dsprites"], steps=300)
    >>> rows = sweep.run_sweep(trials, "runs/study")          # local Ray
    >>> sweep.run_sweep(trials, "runs/study", address="ray://head:10001")  # a cluster

Reference (the study this reproduces at small scale): Locatello et al. 2019, Challenging
Common Assumptions in the Unsupervised Learning of Disentangled Representations, ICML.
"""

import csv
import dataclasses
import itertools
import os
import re
import time
import traceback

DEFAULT_METRICS = ("mig", "factor_vae", "dci")
# The column (score) each metric contributes to a row.
METRIC_COLUMNS = {"mig": ("mig", "mig"), "factor_vae": ("factor_vae", "eval_accuracy"),
                  "dci": ("dci", "disentanglement"), "beta_vae": ("beta_vae", "eval_accuracy"),
                  "sap": ("sap", "sap"), "modularity": ("modularity", "modularity")}


def _value_text(value):
    """A hyperparameter value as trial names and figure labels write it (4.0 -> "4")."""
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


def group_of(trial_name):
    """The trial's name without its seed: the seed-siblings UDR compares share it."""
    return trial_name.rsplit("_s", 1)[0]


@dataclasses.dataclass(frozen=True)
class Trial:
    """One training run of a study.

    Attributes:
        method: a registered method name (`keras_disent.methods`).
        params: its hyperparameters, as sorted `(name, value)` pairs.
        seed: the run's seed (weights, noise, batches).
        dataset: a dataset spec (`data.get`), e.g. "dsprites" or "noisy_dsprites".
        steps, batch_size, learning_rate: training length and optimizer rate (None: the
            method's paper value).
        model_config: constructor arguments shared by the study (e.g. smaller networks), as
            sorted `(name, value)` pairs; not part of the name.
        steps_per_epoch: checkpoint period (default min(1000, steps)): at most this many steps
            are lost when a trial is interrupted.
        fail: test hook: the trial raises this message instead of training.
    """

    method: str
    params: tuple
    seed: int
    dataset: str
    steps: int
    batch_size: int = 64
    learning_rate: float = None
    model_config: tuple = ()
    steps_per_epoch: int = None
    fail: str = None

    @property
    def name(self):
        """A directory name unique within a study, e.g. `beta_vae_beta4_dsprites_s0`."""
        parts = [self.method] + [f"{k}{_value_text(v)}" for k, v in self.params] + [
            self.dataset, f"s{self.seed}"]
        return re.sub(r"[^A-Za-z0-9_.=-]", "-", "_".join(parts))

    @property
    def group(self):
        """Method and hyperparameters without the seed: UDR compares a group's seeds."""
        return group_of(self.name)

    def describe(self):
        return {"trial": self.name, "method": self.method, "params": dict(self.params),
                "seed": self.seed, "dataset": self.dataset, "steps": self.steps,
                "batch_size": self.batch_size, "learning_rate": self.learning_rate,
                "model_config": dict(self.model_config)}


def grid(methods, seeds, datasets=("dsprites",), steps=300_000, batch_size=64,
         learning_rate=None, model_config=None, steps_per_epoch=None):
    """Every combination of each method's hyperparameter values, seed and dataset.

    Args:
        methods: `{method name: {hyperparameter: [values]}}`; an empty dict is one trial
            with the method's defaults.
        seeds, datasets: lists.
        model_config: constructor arguments given to every trial's model (e.g.
            `{"conv_channels": [8, 8, 8, 8]}` for a quick study).
        steps_per_epoch: the trials' checkpoint period (see `Trial`).

    Returns:
        list of `Trial`, method by method in the given order.
    """
    from keras_disent import methods as registry

    trials = []
    for method, space in methods.items():
        known = {h.name for h in registry.get(method).hyperparameters}
        unknown = sorted(set(space) - known)
        if unknown:
            raise ValueError(f"{method} has no hyperparameter(s) {unknown}; it takes "
                             f"{sorted(known)}.")
        names = sorted(space)
        for values in itertools.product(*(list(space[n]) for n in names)):
            for dataset in datasets:
                for seed in seeds:
                    trials.append(Trial(method, tuple(zip(names, values)), int(seed), dataset,
                                        int(steps), int(batch_size), learning_rate,
                                        _frozen(model_config), steps_per_epoch))
    names = [t.name for t in trials]
    if len(set(names)) != len(names):
        raise ValueError("The grid repeats a trial (the same method, values, dataset and seed).")
    return trials


def _frozen(config):
    """A dict of constructor arguments as hashable sorted pairs (lists become tuples)."""
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v)
                        for k, v in (config or {}).items()))


def trial_dir(out, trial):
    """The run directory of a `Trial` (or of a trial name) in the study `out`."""
    return os.path.join(out, "trials", getattr(trial, "name", trial))


def run_trial(trial, out, metric_names=DEFAULT_METRICS, metric_points=10_000, verbose=0):
    """Trains (or resumes, or loads) one trial and measures it; returns its row.

    It seeds the process's global generators with the trial's seed first
    (`process.seed_everything`, for weight initialisation): with `executor="local"` that
    process is the caller's.

    The row holds the trial's description, `status` ("finished" or "failed"), wall time,
    reconstruction error and one column per metric; a failure holds `error` and writes
    `error.json` (with the traceback) instead of `result.json`.
    """
    from keras_disent import runs

    finished = _finished_row(out, trial)
    if finished is not None:
        return finished
    run_dir = trial_dir(out, trial)
    os.makedirs(run_dir, exist_ok=True)
    start = time.time()
    try:
        row = _train_and_measure(trial, run_dir, metric_names, metric_points, verbose)
    except Exception as error:  # recorded; the study goes on
        row = dict(trial.describe(), status="failed", error=f"{type(error).__name__}: {error}",
                   seconds=round(time.time() - start, 1))
        runs.write_json(os.path.join(run_dir, "error.json"),
                        dict(row, traceback=traceback.format_exc()))
        return row
    error_path = os.path.join(run_dir, "error.json")
    if os.path.exists(error_path):  # an earlier attempt failed; this one did not
        os.remove(error_path)
    row.update(status="finished", seconds=round(time.time() - start, 1))
    runs.write_json(os.path.join(run_dir, "result.json"), row)
    return row


def _train_and_measure(trial, run_dir, metric_names, metric_points, verbose):
    from keras_disent import data, methods, metrics, process, train

    if trial.fail:
        raise RuntimeError(trial.fail)
    process.seed_everything(trial.seed)
    dataset = data.get(trial.dataset)
    config = dict(trial.model_config, **dict(trial.params), seed=trial.seed,
                  image_shape=dataset.image_shape)
    if trial.method == "beta_tcvae":
        config.setdefault("dataset_size", len(dataset))
    model = methods.build(trial.method, **config)
    _, wall = train.fit_run(model, dataset, run_dir, trial.steps, trial.batch_size,
                            trial.learning_rate, trial.seed, verbose=verbose,
                            steps_per_epoch=trial.steps_per_epoch or min(1000, trial.steps),
                            run_config={"trial": trial.describe()})
    row = dict(trial.describe(), train_seconds=round(wall, 1))
    row["recon"] = train.reconstruction_metrics(model, dataset, num=min(1000, metric_points),
                                                seed=trial.seed)["recon"]
    if metric_names and getattr(dataset, "factor_sizes", None):
        wanted = dict(num_train=metric_points, num_eval=max(1, metric_points // 2),
                      num_test=max(1, metric_points // 2))
        sizes = {f"{name}__{argument}": value for name in metric_names
                 for argument, value in wanted.items()
                 if argument in metrics.protocol_arguments(name)}
        if "dci" in metric_names:
            sizes["dci__classifier"] = "lasso" if metric_points < 10_000 else "gbt"
        scores = metrics.evaluate(model, dataset, list(metric_names), seed=trial.seed,
                                  verbose=False, **sizes)
        for name in metric_names:
            metric, key = METRIC_COLUMNS[name]
            row[name] = float(scores[metric][key])
    return row


def run_sweep(trials, out, executor="ray", address=None, num_cpus=None, cpus_per_trial=1,
              gpus_per_trial=None, metric_names=DEFAULT_METRICS, metric_points=10_000,
              progress=True):
    """Runs every unfinished trial; writes and returns the rows of all of them.

    Args:
        trials: `Trial`s (`grid`).
        out: the study directory.
        executor: "ray" or "local" (this process, one trial after another).
        address: a Ray cluster to use (None: start a local Ray instance for the sweep).
        num_cpus: CPUs of the local Ray instance (default: all).
        cpus_per_trial: CPUs each trial holds (how many run at once on a machine).
        gpus_per_trial: GPUs each trial holds; None: 1 where the cluster has GPUs, else 0.
        metric_names, metric_points: the metrics (`metrics.evaluate` names) and their
            protocol size per trial.

    Returns:
        the rows, in the order of `trials`.
    """
    import keras

    if executor not in ("ray", "local"):
        raise ValueError(f"executor must be 'ray' or 'local', got {executor!r}.")
    names = [t.name for t in trials]
    if len(set(names)) != len(names):
        raise ValueError("Two trials share a name: a study's trials must differ.")
    os.makedirs(out, exist_ok=True)
    done = {t.name: _finished_row(out, t) for t in trials}
    pending = [t for t in trials if done[t.name] is None]
    if progress:
        print(f"[keras-disent] sweep {out}: {len(trials)} trials, "
              f"{len(trials) - len(pending)} finished, {len(pending)} to run ({executor})",
              flush=True)
    rows = {}
    if pending and executor == "local":
        for i, trial in enumerate(pending):
            rows[trial.name] = run_trial(trial, out, metric_names, metric_points)
            if progress:
                _report(i + 1, len(pending), rows[trial.name])
    elif pending:
        import ray

        if not ray.is_initialized():
            env = {"KERAS_BACKEND": keras.backend.backend()}
            ray.init(address=address, num_cpus=None if address else num_cpus,
                     include_dashboard=False, log_to_driver=False,
                     runtime_env={"env_vars": env})
        if gpus_per_trial is None:
            gpus_per_trial = 1 if ray.cluster_resources().get("GPU", 0) > 0 else 0
        task = ray.remote(num_cpus=cpus_per_trial, num_gpus=gpus_per_trial)(run_trial)
        refs = {task.remote(t, os.path.abspath(out), tuple(metric_names), metric_points): t
                for t in pending}
        remaining = list(refs)
        while remaining:
            ready, remaining = ray.wait(remaining, num_returns=1)
            trial = refs[ready[0]]
            try:
                rows[trial.name] = ray.get(ready[0])
            except Exception as error:  # the worker itself died (out of memory, killed)
                rows[trial.name] = dict(trial.describe(), status="failed",
                                        error=f"{type(error).__name__}: {error}")
            if progress:
                _report(len(refs) - len(remaining), len(refs), rows[trial.name])
    ordered = [done[t.name] or rows[t.name] for t in trials]
    write_results(ordered, out)
    return ordered


def _finished_row(out, trial):
    """The trial's `result.json` row, or None while it has none."""
    from keras_disent import runs

    path = os.path.join(trial_dir(out, trial), "result.json")
    return runs.read_json(path) if os.path.exists(path) else None


def _report(count, total, row):
    status = row.get("status")
    detail = row.get("error") if status == "failed" else ", ".join(
        f"{k} {row[k]:.3f}" for k in METRIC_COLUMNS if isinstance(row.get(k), float))
    print(f"[keras-disent] {count}/{total} {row['trial']}: {status}"
          f"{' - ' + detail if detail else ''}", flush=True)


def write_results(rows, out):
    """`results.json` and `results.csv` (one row per trial; params flattened to columns)."""
    from keras_disent import runs

    runs.write_json(os.path.join(out, "results.json"), {"trials": rows})
    flat = []
    for row in rows:
        record = {k: v for k, v in row.items() if k != "params"}
        record.update({f"param_{k}": v for k, v in row.get("params", {}).items()})
        flat.append(record)
    columns = []
    for record in flat:
        columns += [k for k in record if k not in columns]
    with runs.atomic_path(os.path.join(out, "results.csv")) as path:
        with open(path, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(flat)


def study_figures(rows, out, metric_names=DEFAULT_METRICS):
    """The study's PNGs in `out`: `<metric>_distribution.png` (a box per method and
    hyperparameter values, over seeds and datasets) and `metric_rank_correlation.png`
    (Spearman correlation between the metrics and the reconstruction error over the
    finished trials). Returns the paths written."""
    import numpy as np
    from scipy import stats

    from keras_disent import visualize

    finished = [r for r in rows if r.get("status") == "finished"]
    if not finished:
        raise ValueError("No finished trial to draw.")
    paths = []
    groups = {}
    for row in finished:
        label = "\n".join([row["method"]] + [f"{k}={_value_text(v)}"
                                             for k, v in sorted(row["params"].items())])
        groups.setdefault(label, []).append(row)
    columns = [m for m in metric_names if any(m in r for r in finished)] + ["recon"]
    for column in columns:
        values = [(label, [r.get(column, np.nan) for r in members])
                  for label, members in groups.items()]
        path = os.path.join(out, f"{column}_distribution.png")
        visualize.box_plot(values, path, title=f"{column} over seeds, per method and strength",
                           ylabel=column)
        paths.append(path)
    table = np.array([[r.get(c, np.nan) for c in columns] for r in finished], np.float64)
    count = len(columns)
    matrix = np.full((count, count), np.nan)
    for i in range(count):
        for j in range(count):
            ok = np.isfinite(table[:, i]) & np.isfinite(table[:, j])
            if ok.sum() >= 3 and np.ptp(table[ok, i]) > 0 and np.ptp(table[ok, j]) > 0:
                matrix[i, j] = stats.spearmanr(table[ok, i], table[ok, j])[0]
    path = os.path.join(out, "metric_rank_correlation.png")
    visualize.heatmap(matrix, columns, path,
                      title=f"Spearman rank correlation over {len(finished)} trials")
    paths.append(path)
    return paths


def udr_scores(rows, out, num_points=1000, seed=0):
    """UDR (`metrics.udr`) of every group of finished trials that share method,
    hyperparameters and dataset and have at least 2 seeds; adds `udr` to their rows (and
    rewrites their `result.json`). Returns `{group: [scores]}`."""
    import keras

    from keras_disent import data, models, runs  # models: registers the classes to load
    from keras_disent.metrics import udr as udr_metric

    del models

    by_group = {}
    for row in rows:
        if row.get("status") == "finished":
            by_group.setdefault(group_of(row["trial"]), []).append(row)
    scores = {}
    for group, members in by_group.items():
        if len(members) < 2:
            continue
        models = [keras.saving.load_model(os.path.join(trial_dir(out, row["trial"]),
                                                       "model.keras")) for row in members]
        if not all(hasattr(m, "encode_distribution") for m in models):
            continue
        dataset = data.get(members[0]["dataset"])
        result = udr_metric.udr(models, dataset, num_points=num_points, seed=seed)
        scores[group] = result["model_scores"]
        for row, score in zip(members, result["model_scores"]):
            row["udr"] = float(score)
            runs.write_json(os.path.join(trial_dir(out, row["trial"]), "result.json"), row)
    return scores


def aggregate(rows, out, metric_names=DEFAULT_METRICS, with_udr=True):
    """UDR per group (optional), the results table and the study's figures."""
    if with_udr:
        udr_scores(rows, out)
        metric_names = tuple(metric_names) + ("udr",)
    write_results(rows, out)
    return study_figures(rows, out, metric_names)
