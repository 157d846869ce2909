"""`keras-disent` console script: demo / train / evaluate (zoo and export join later).

Start-up stays lean: keras and the backends are imported only inside the commands.
"""

import argparse
import os
import sys
import time

DEMO_METRICS = ("mig", "sap", "modularity", "dci")


def _print(message):
    print(f"[keras-disent] {message}", flush=True)


def _method_config(method, args, dataset):
    """Constructor arguments of `method` from its flags (only those given) and the data."""
    from keras_disent import data

    config = {h.name: getattr(args, h.name) for h in method.hyperparameters
              if getattr(args, h.name, None) is not None}
    config.update(seed=args.seed, image_shape=dataset.image_shape)
    if method.name == "beta_tcvae":
        config.update(dataset_size=len(dataset))
    if method.name == "dc_ign":
        names = getattr(dataset, "factor_names", ())
        intrinsic = config.get("intrinsic_factor", method.defaults()["intrinsic_factor"])
        if intrinsic not in names:
            raise SystemExit(f"error: dc_ign needs a dataset with ground-truth factors including "
                             f"its intrinsic factor {intrinsic!r} (--intrinsic-factor); "
                             f"{args.dataset} has {list(names) or 'none'}. Try --dataset "
                             "objects3d.")
        config.update(factor_latents=[(name, 1) for name in names if name != intrinsic])
    if method.data == "labelled_images":
        try:
            config.update(num_classes=data.num_classes(dataset, args.label))
        except ValueError as error:
            raise SystemExit(f"error: {method.name} trains on labelled images: {error}")
    return config


def _metric_names(text):
    """Metric names from a comma-separated flag, checked before any work starts."""
    from keras_disent.metrics import METRICS

    names = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [name for name in names if name not in METRICS]
    if unknown:
        raise SystemExit(f"error: unknown metric(s) {', '.join(unknown)}; available: "
                         f"{', '.join(sorted(METRICS))}.")
    return names


def _seed_everything(args):
    """The command owns its process: one seed for Python, numpy and the backend (weight
    initialisation), and the backend's deterministic kernels with --deterministic."""
    from keras_disent import process, training

    process.seed_everything(args.seed)
    if getattr(args, "deterministic", False):
        _print(f"deterministic kernels: {training.enable_determinism()}")


def cmd_train(args):
    from keras_disent import data, methods, train

    method = methods.get(args.method)
    names = _metric_names(args.metrics)
    if method.data in ("domain_pairs", "multi_domain"):
        what = ("unpaired batches of two domains" if method.data == "domain_pairs" else
                "batches of several domains with their domain ids")
        raise SystemExit(f"error: {method.name} trains on {what}; run its recipe: "
                         f"python {method.recipe} --smoke")
    dataset = data.get(args.dataset)
    _seed_everything(args)
    model = method.build(**_method_config(method, args, dataset))
    batches = None
    if method.data == "labelled_images":
        batches = data.labelled_batches(dataset, args.label, args.batch_size,
                                        min(500, args.steps), seed=args.seed)
    if method.data == "factor_batches":
        batches = data.FactorBatches(dataset, model.group_factors, batch_size=args.batch_size,
                                     steps_per_epoch=min(500, args.steps), seed=args.seed)
    _print(f"training {type(model).__name__} on {args.dataset} for {args.steps} steps "
           f"-> {args.out}")
    train.train_and_report(model, dataset, args.out, args.steps, args.batch_size,
                           args.learning_rate, args.seed, names, args.dci_classifier,
                           command="keras-disent " + " ".join(sys.argv[1:]), batches=batches,
                           overwrite=getattr(args, "overwrite", False),
                           deterministic=getattr(args, "deterministic", False))
    _print(f"wrote {args.out}/ (model.keras, figures, config.json, metrics.json)")
    return model


def cmd_demo(args):
    """Short beta-VAE run on the built-in dSprites with figures and metrics."""
    args.method, args.dataset, args.latent_dim = "beta_vae", "dsprites", 10
    args.metrics = ",".join(DEMO_METRICS)
    args.dci_classifier = "lasso"
    start = time.time()
    cmd_train(args)
    _print(f"demo finished in {time.time() - start:.0f} s. Look at {args.out}/traversal.png: "
           "rows are latents sorted by KL; the top rows should move the sprite's position "
           "and scale.")


def cmd_evaluate(args):
    from keras_disent import data, metrics, runs, zoo

    if not os.path.exists(args.model) and args.model not in zoo.list():
        raise SystemExit(f"error: no model file at {args.model!r} (expected a .keras file, a "
                         "run directory or a zoo name; `keras-disent zoo list` shows names).")
    try:
        model = zoo.load(args.model)
    except (zoo.ZooError, OSError, ValueError) as error:
        raise SystemExit(f"error: cannot load {args.model!r}: {error}")
    dataset = data.get(args.dataset)
    names = _metric_names(args.metrics)
    sizes = {} if args.num_train is None else dict(
        num_train=args.num_train, num_eval=max(1, args.num_train // 2),
        num_test=max(1, args.num_train // 2))
    taken = {a for name in names for a in metrics.protocol_arguments(name)}
    sizes = {key: value for key, value in sizes.items() if key in taken}
    if "dci" in names:
        sizes["dci__classifier"] = args.dci_classifier
    results = metrics.evaluate(model, dataset, metrics=names, seed=args.seed, **sizes)
    if args.out:
        out = args.out
    elif os.path.isdir(args.model):
        out = os.path.join(args.model, "metrics.json")
    elif os.path.exists(args.model):
        out = os.path.join(os.path.dirname(os.path.abspath(args.model)), "metrics.json")
    else:
        out = f"metrics_{args.model}.json"
    protocol = ("disentanglement_lib's study sizes" if args.num_train is None else
                f"num_train {args.num_train}, evaluation/test points half that")
    if "dci" in names:
        protocol += f"; DCI classifier {args.dci_classifier}"
    runs.write_json(out, {"model": args.model, "dataset": args.dataset, "seed": args.seed,
                          "metrics": results, "protocol": protocol,
                          "provenance": runs.provenance()})
    _print(f"wrote {out}")
    return results


def cmd_export(args):
    import json

    from keras_disent.export import ExportError, export_decoder

    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    formats = ["saved_model", "tflite"] if formats == ["all"] else formats
    try:
        result = export_decoder(args.model, args.out, formats=formats, quantize=args.quantize,
                                encoder=args.encoder)
    except ExportError as error:
        raise SystemExit(f"error: {error}")
    for part in ("decoder", "encoder"):
        for name, info in result.get(part, {}).get("files", {}).items():
            _print(f"{args.out}/{info['path']}: {info['bytes'] / 1e6:.2f} MB, max |diff| vs "
                   f"Keras {info['max_abs_diff_vs_keras']:.2g}")
    _print(f"wrote {args.out}/export.json")
    return json.dumps(result)


def readme_with_table(text, table, section="zoo"):
    """README text with a generated table between `<!-- {section}-table-start/end -->`."""
    start, end = f"<!-- {section}-table-start -->", f"<!-- {section}-table-end -->"
    if start not in text or end not in text:
        raise ValueError(f"README lacks the markers {start} / {end}.")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{table}\n{end}{tail}"


def readme_with_zoo_table(text, table):
    """README text with the generated zoo table between the markers."""
    return readme_with_table(text, table, "zoo")


def cmd_zoo(args):
    import json

    from keras_disent import zoo

    if args.action in ("list", "show") and not args.name:
        args.name = args.run_dir
    if args.action == "list":
        for name in zoo.list(args.name):
            entry = zoo.get(name)
            status = "weights" if entry.has_weights else "no weights"
            print(f"{name:32s} {entry.cls:12s} {status:10s} {entry.dataset}")
    elif args.action == "show":
        if not args.name:
            raise SystemExit("error: zoo show needs a NAME")
        print(json.dumps(zoo.get(args.name).to_json(), indent=2, sort_keys=True))
    elif args.action == "register":
        if not args.name or not args.run_dir:
            raise SystemExit("error: zoo register needs RUN_DIR and --name NAME")
        entry = zoo.register(args.run_dir, args.name, default=args.default, notes=args.notes)
        _print(f"registered {entry.name}: {entry.weights} sha256 {entry.sha256[:12]}... "
               f"({entry.num_params} params)")
    elif args.action == "convert":
        if not args.run_dir:
            raise SystemExit("error: zoo convert needs the checkpoint folder (model.pt + "
                             "specs.json), e.g. ../shared/peer/disentangling-vae/betaH_celeba")
        try:
            entry = zoo.convert(args.run_dir, name=args.name, notes=args.notes)
        except zoo.ZooError as error:
            raise SystemExit(f"error: {error}") from None
        parity = entry.source["parity"]["max_abs_diff"]
        _print(f"converted {args.run_dir} -> {entry.name} ({entry.cls}, {entry.num_params} "
               f"params); max |diff| vs PyTorch: mean {parity['mean']:.2g}, log-variance "
               f"{parity['log_var']:.2g}, decoder {parity['decoder']:.2g} on "
               f"{entry.source['parity']['images']}")
    elif args.action == "readme":
        from keras_disent import methods

        path = args.run_dir or "README.md"
        with open(path) as handle:
            text = handle.read()
        text = readme_with_table(text, zoo.markdown_table(), "zoo")
        text = readme_with_table(text, methods.markdown_table(), "methods")
        with open(path, "w") as handle:
            handle.write(text)
        _print(f"updated the zoo and methods tables in {path}")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text!r}")
    return value


def build_parser(describe_defaults=True):
    """The argument parser. `describe_defaults=False` leaves the methods' class defaults out
    of the help texts (finding them imports keras; commands other than train skip that)."""
    parser = argparse.ArgumentParser(prog="keras-disent", description=__doc__.splitlines()[0])
    parser.add_argument("--backend-logs", action="store_true",
                        help="keep the backends' C++ log lines (hidden by default)")
    sub = parser.add_subparsers(dest="command", required=True)

    def training_flags(p, steps):
        p.add_argument("--out", default="runs/latest", help="run directory")
        p.add_argument("--steps", type=_positive_int, default=steps)
        p.add_argument("--batch-size", type=_positive_int, default=64)
        p.add_argument("--overwrite", action="store_true",
                       help="replace a run of another configuration in --out")
        p.add_argument("--learning-rate", type=float, default=None,
                       help="every optimizer's learning rate (default: the method's paper "
                            "values; config.json records each optimizer used)")
        p.add_argument("--seed", type=int, default=0,
                       help="seed of weight initialisation, the model's random draws, data "
                            "order and metric sampling (recorded in config.json)")
        p.add_argument("--deterministic", action="store_true",
                       help="use the backend's deterministic kernels (see README "
                            "'Reproducibility')")

    demo = sub.add_parser("demo", help="short beta-VAE run on built-in dSprites, with figures")
    training_flags(demo, steps=6000)
    demo.add_argument("--beta", type=float, default=4.0, help="KL weight")
    demo.set_defaults(fn=cmd_demo)

    from keras_disent import methods

    train = sub.add_parser("train", help="train a model on a dataset",
                           description="Train a registered method; each method takes its own "
                                       "hyperparameter flags (keras-disent train METHOD -h).")
    by_method = train.add_subparsers(dest="method", required=True, metavar="METHOD")
    for method in methods.METHODS.values():
        p = by_method.add_parser(method.name, help=method.paper, description=method.paper)
        p.add_argument("--dataset", default="objects3d" if method.data == "factor_batches"
                       else "dsprites",
                       help="dsprites, color_dsprites, noisy_dsprites, objects3d, LOADER:PATH "
                            "(e.g. fashion_mnist_idx:/usr/share/datasets/fashion-mnist) or "
                            "tfds:NAME")
        if method.data == "labelled_images":
            p.add_argument("--label", default=None,
                           help="the factor that labels a ground-truth dataset (e.g. shape for "
                                "objects3d); a labelled image set uses its labels")
        p.add_argument("--metrics", default="mig", help="comma-separated, '' for none")
        p.add_argument("--dci-classifier", default="gbt", choices=("gbt", "lasso"))
        training_flags(p, steps=10_000)
        group = p.add_argument_group(f"{method.name} hyperparameters")
        defaults = method.defaults() if describe_defaults else {}
        for hyper in method.hyperparameters:
            shown = f" (default: {defaults[hyper.name]})" if hyper.name in defaults else ""
            group.add_argument("--" + hyper.name.replace("_", "-"), dest=hyper.name,
                               type=hyper.type, nargs=hyper.nargs, default=None,
                               help=hyper.help + shown)
        p.set_defaults(fn=cmd_train)

    evaluate = sub.add_parser("evaluate", help="disentanglement metrics of a .keras model")
    evaluate.add_argument("model", help="a .keras file, a run directory or a zoo name")
    evaluate.add_argument("--dataset", default="dsprites")
    evaluate.add_argument("--metrics", default="mig,sap,modularity,dci,factor_vae,beta_vae,irs",
                          help="comma-separated: beta_vae, factor_vae, mig, dci, sap, "
                               "modularity, irs, downstream_task")
    evaluate.add_argument("--dci-classifier", default="gbt", choices=("gbt", "lasso"))
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--num-train", type=int, default=None,
                          help="protocol size override (default: disentanglement_lib's)")
    evaluate.add_argument("--out", default=None, help="JSON path (default: beside the model)")
    evaluate.set_defaults(fn=cmd_evaluate)

    export = sub.add_parser("export", help="decoder to SavedModel / TFLite with parity check")
    export.add_argument("model", help="zoo name, .keras file or run directory")
    export.add_argument("--out", default="exported", help="output directory")
    export.add_argument("--format", default="all", help="saved_model, tflite or all")
    export.add_argument("--quantize", default=None, choices=("float16", "dynamic_int8"))
    export.add_argument("--encoder", action="store_true", help="also export the encoder")
    export.set_defaults(fn=cmd_export)

    zoo = sub.add_parser("zoo", help="pretrained weights: list, show, register, convert (a "
                                      "peer's checkpoint, with parity), readme (regenerates "
                                      "README's zoo and methods tables)")
    zoo.add_argument("action", choices=("list", "show", "register", "convert", "readme"))
    zoo.add_argument("run_dir", nargs="?", help="register: run directory; convert: a peer's "
                                                "checkpoint folder; readme: README path")
    zoo.add_argument("--name", default=None, help="entry name (list: a glob pattern)")
    zoo.add_argument("--default", action="store_true", help="register: default for its method")
    zoo.add_argument("--notes", default="", help="register: free text kept in the entry")
    zoo.set_defaults(fn=cmd_zoo)

    study = sub.add_parser(
        "sweep", help="a study: methods x hyperparameters x seeds x datasets on Ray",
        description="Trains every trial of the grid (each a run directory under "
                    "OUT/trials/), skipping finished ones and resuming interrupted ones, on a "
                    "local Ray instance (or --address), then writes results.csv/json, UDR "
                    "and the study's figures. Example: keras-disent sweep "
                    "beta_vae:beta=1,4 dip_vae:lambda_od=1,10 --seeds 0,1 --steps 300")
    study.add_argument("methods", nargs="+", metavar="METHOD[:NAME=V1,V2[:NAME=...]]",
                       help="a registered method and its hyperparameter values")
    study.add_argument("--seeds", default="0", help="comma-separated seeds")
    study.add_argument("--datasets", default="dsprites",
                       help="comma-separated dataset specs (dsprites, color_dsprites, "
                            "noisy_dsprites, ...)")
    study.add_argument("--steps", type=_positive_int, default=300_000)
    study.add_argument("--batch-size", type=_positive_int, default=64)
    study.add_argument("--learning-rate", type=float, default=None)
    study.add_argument("--out", default="runs/study", help="study directory")
    study.add_argument("--executor", choices=("ray", "local"), default="ray",
                       help="ray (default) or local: this process, one trial after another")
    study.add_argument("--address", default=None,
                       help="a Ray cluster (ray://HOST:10001, or auto); default: a local Ray")
    study.add_argument("--num-cpus", type=_positive_int, default=None,
                       help="CPUs of the local Ray instance (default: all)")
    study.add_argument("--metrics", default="mig,factor_vae,dci",
                       help="comma-separated metrics per trial")
    study.add_argument("--metric-points", type=_positive_int, default=10_000,
                       help="num_train of each metric's protocol")
    study.set_defaults(fn=cmd_sweep)
    return parser


def parse_method_spec(spec):
    """`"beta_vae:beta=1,4:latent_dim=10"` -> `("beta_vae", {"beta": [1.0, 4.0], ...})`, each
    value converted with the hyperparameter's type."""
    from keras_disent import methods

    name, *assignments = spec.split(":")
    method = methods.get(name)
    types = {h.name: h.type for h in method.hyperparameters}
    space = {}
    for assignment in assignments:
        key, sep, values = assignment.partition("=")
        key = key.replace("-", "_")
        if not sep or not values:
            raise ValueError(f"{spec!r}: write hyperparameter values as NAME=V1,V2.")
        if key not in types:
            raise ValueError(f"{name} has no hyperparameter {key!r}; it takes "
                             f"{sorted(types)}.")
        try:
            space[key] = [types[key](v) for v in values.split(",")]
        except ValueError:
            raise ValueError(f"{spec!r}: {key} takes {types[key].__name__} values, got "
                             f"{values!r}.") from None
    return name, space


def cmd_sweep(args):
    from keras_disent import sweep

    space = dict(parse_method_spec(spec) for spec in args.methods)
    try:
        seeds = [int(s) for s in args.seeds.split(",")]
    except ValueError:
        raise ValueError(f"--seeds takes comma-separated integers, got {args.seeds!r}.") \
            from None
    trials = sweep.grid(space, seeds, args.datasets.split(","), args.steps, args.batch_size,
                        args.learning_rate)
    metric_names = tuple(m for m in args.metrics.split(",") if m)
    rows = sweep.run_sweep(trials, args.out, executor=args.executor, address=args.address,
                           num_cpus=args.num_cpus, metric_names=metric_names,
                           metric_points=args.metric_points)
    if any(r.get("status") == "finished" for r in rows):
        paths = sweep.aggregate(rows, args.out, metric_names)
        print(f"[keras-disent] wrote {args.out}/results.csv and "
              f"{', '.join(os.path.basename(p) for p in paths)}", flush=True)
    failed = [r["trial"] for r in rows if r.get("status") == "failed"]
    if failed:
        print(f"[keras-disent] {len(failed)} trial(s) failed (see their error.json): "
              f"{', '.join(failed)}", flush=True)
    return rows


def _unknown_flags_error(args, extras):
    """The one-line error for flags the chosen command (or method) does not take."""
    extras = [word for word in extras if word.startswith("-")] or extras
    if getattr(args, "command", None) == "train" and getattr(args, "method", None):
        from keras_disent import methods

        method = methods.get(args.method)
        own = ", ".join("--" + h.name.replace("_", "-") for h in method.hyperparameters)
        return (f"error: {method.name} does not take {' '.join(extras)}; its hyperparameters "
                f"are {own} (see keras-disent train {method.name} -h).")
    return f"error: unrecognized arguments: {' '.join(extras)}"


def run(argv=None):
    """Runs one command; returns its result (the trained model, the metrics, ...)."""
    words = sys.argv[1:] if argv is None else list(argv)
    args, extras = build_parser(describe_defaults="train" in words).parse_known_args(words)
    if extras:
        raise SystemExit(_unknown_flags_error(args, extras))
    from keras_disent.runs import RunError

    try:
        return args.fn(args)
    # A run that cannot go on, a missing file, or a bad value (beta nan, an unknown dataset,
    # a missing capability, a corrupt data file: all ValueErrors) is one line, not a traceback.
    except (RunError, FileNotFoundError, ValueError) as error:
        raise SystemExit(f"error: {error}") from None


def main(argv=None):
    """Console-script entry point (returns None: exit status 0 on success).

    The command owns its process, so it applies `keras_disent.process.configure()` first
    thing, before keras starts a backend: malloc settings and quiet backend logs
    (`--backend-logs` or `KERAS_DISENT_BACKEND_LOGS=1` keeps them).
    """
    from keras_disent import process

    words = sys.argv[1:] if argv is None else list(argv)
    process.configure(quiet_backend_logs=False if "--backend-logs" in words else None,
                      load_keras=False)
    if words[:1] in (["train"], ["demo"], ["evaluate"], ["export"], ["sweep"]) or \
            words[:2] in (["zoo", "convert"], ["zoo", "register"]):
        process.import_keras()  # before anything else imports it: its loading noise dropped
    run([w for w in words if w != "--backend-logs"])


if __name__ == "__main__":
    main()
