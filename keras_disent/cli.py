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


def cmd_train(args):
    from keras_disent import data, train

    dataset = data.get(args.dataset)
    config = dict(latent_dim=args.latent_dim, seed=args.seed, image_shape=dataset.image_shape)
    if args.method == "beta_tcvae":
        config.update(dataset_size=len(dataset))
    if args.method == "factor_vae":
        config.update(gamma=args.beta)  # --beta is the regularisation strength of each method
    else:
        config.update(beta=args.beta)
    if args.capacity_max is not None:
        if args.method != "beta_vae":
            raise SystemExit("error: --capacity-max (Burgess'18 annealing) applies to beta_vae.")
        config.update(capacity_max=args.capacity_max, capacity_steps=args.capacity_steps,
                      gamma=args.gamma)
    model = train.model_from_name(args.method, **config)
    _print(f"training {type(model).__name__} on {args.dataset} for {args.steps} steps "
           f"-> {args.out}")
    names = [m for m in args.metrics.split(",") if m]
    train.train_and_report(model, dataset, args.out, args.steps, args.batch_size,
                           args.learning_rate, args.seed, names, args.dci_classifier,
                           command="keras-disent " + " ".join(sys.argv[1:]))
    _print(f"wrote {args.out}/ (model.keras, traversal.png, reconstruction.png, "
           f"config.json, metrics.json)")
    return model


def cmd_demo(args):
    """Short beta-VAE run on the built-in dSprites with figures and metrics."""
    args.method, args.dataset, args.latent_dim = "beta_vae", "dsprites", 10
    args.capacity_max = None
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
    names = [m for m in args.metrics.split(",") if m]
    sizes = {} if args.num_train is None else dict(
        num_train=args.num_train, num_eval=max(1, args.num_train // 2),
        num_test=max(1, args.num_train // 2))
    results = metrics.evaluate(model, dataset, metrics=names, seed=args.seed,
                               dci__classifier=args.dci_classifier, **sizes)
    if args.out:
        out = args.out
    elif os.path.isdir(args.model):
        out = os.path.join(args.model, "metrics.json")
    elif os.path.exists(args.model):
        out = os.path.join(os.path.dirname(os.path.abspath(args.model)), "metrics.json")
    else:
        out = f"metrics_{args.model}.json"
    runs.write_json(out, {"model": args.model, "dataset": args.dataset, "seed": args.seed,
                          "metrics": results, "provenance": runs.provenance()})
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


README_START, README_END = "<!-- zoo-table-start -->", "<!-- zoo-table-end -->"


def readme_with_zoo_table(text, table):
    """README text with the generated zoo table between the markers."""
    if README_START not in text or README_END not in text:
        raise ValueError(f"README lacks the markers {README_START} / {README_END}.")
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    return f"{head}{README_START}\n{table}\n{README_END}{tail}"


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
    elif args.action == "readme":
        path = args.run_dir or "README.md"
        with open(path) as handle:
            text = handle.read()
        with open(path, "w") as handle:
            handle.write(readme_with_zoo_table(text, zoo.markdown_table()))
        _print(f"updated the zoo table in {path}")


def build_parser():
    parser = argparse.ArgumentParser(prog="keras-disent", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def training_flags(p, steps):
        p.add_argument("--out", default="runs/latest", help="run directory")
        p.add_argument("--steps", type=int, default=steps)
        p.add_argument("--batch-size", type=int, default=64)
        p.add_argument("--learning-rate", type=float, default=5e-4)
        p.add_argument("--beta", type=float, default=4.0,
                       help="regularisation strength: beta (beta_vae, beta_tcvae's TC weight) "
                            "or gamma (factor_vae)")
        p.add_argument("--seed", type=int, default=0)

    demo = sub.add_parser("demo", help="short beta-VAE run on built-in dSprites, with figures")
    training_flags(demo, steps=6000)
    demo.set_defaults(fn=cmd_demo)

    train = sub.add_parser("train", help="train a model on a dataset")
    train.add_argument("method", choices=("beta_vae", "beta_tcvae", "factor_vae"),
                       help="VAE-family method (InfoGAN, DC-IGN and content transfer train "
                            "through their recipes in recipes/)")
    train.add_argument("--dataset", default="dsprites",
                       help="dsprites, objects3d, LOADER:PATH (e.g. fashion_mnist_idx:/usr/share/"
                            "datasets/fashion-mnist) or tfds:NAME")
    train.add_argument("--latent-dim", type=int, default=10)
    train.add_argument("--capacity-max", type=float, default=None,
                       help="Burgess'18 capacity annealing C_max (nats)")
    train.add_argument("--capacity-steps", type=int, default=100_000)
    train.add_argument("--gamma", type=float, default=1000.0,
                       help="weight of |KL - C| when annealing")
    train.add_argument("--metrics", default="mig", help="comma-separated, '' for none")
    train.add_argument("--dci-classifier", default="gbt", choices=("gbt", "lasso"))
    training_flags(train, steps=10_000)
    train.set_defaults(fn=cmd_train)

    evaluate = sub.add_parser("evaluate", help="disentanglement metrics of a .keras model")
    evaluate.add_argument("model", help="a .keras file, a run directory or a zoo name")
    evaluate.add_argument("--dataset", default="dsprites")
    evaluate.add_argument("--metrics", default="mig,sap,modularity,dci,factor_vae,beta_vae")
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

    zoo = sub.add_parser("zoo", help="pretrained weights: list, show, register, readme")
    zoo.add_argument("action", choices=("list", "show", "register", "readme"))
    zoo.add_argument("run_dir", nargs="?", help="register: run directory; readme: README path")
    zoo.add_argument("--name", default=None, help="entry name (list: a glob pattern)")
    zoo.add_argument("--default", action="store_true", help="register: default for its method")
    zoo.add_argument("--notes", default="", help="register: free text kept in the entry")
    zoo.set_defaults(fn=cmd_zoo)
    return parser


def run(argv=None):
    """Runs one command; returns its result (the trained model, the metrics, ...)."""
    args = build_parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return args.fn(args)


def main(argv=None):
    """Console-script entry point (returns None: exit status 0 on success)."""
    run(argv)


if __name__ == "__main__":
    main()
