"""Deep VIB (Alemi et al. 2017): test error and robustness against beta, and the 2-D embedding.

Trains one DeepVIB per beta (K = 256), the deterministic network of the same size (the
paper's baseline), and a K = 2 VIB at beta = 1e-3 for the embedding figure. Writes into
--out:
  table.md / results.json     per model: test error (%), train error, mean KL (nats, an upper
                              bound on I(Z; X)), accuracy under the fast gradient-sign attack
  fig1_error_vs_beta.png      test error against log10(beta), the baseline dashed (Fig. 1a)
  fig_fgs_vs_beta.png         accuracy under the gradient-sign attack against log10(beta),
                              one line per epsilon (the paper: robustness grows with beta)
  fig2_embedding_k2.png       test means of the K = 2 bottleneck, coloured by class, with the
                              posterior's spread for 200 of them (Fig. 2)
  one run directory per model (model.keras, config.json, history.json; see keras_disent.train)

Paper scale (a GPU; 200 epochs, batch 100, on MNIST or Fashion-MNIST):
    KERAS_BACKEND=jax python recipes/alemi2017_vib_beta.py \
        --data fashion_mnist_idx:/usr/share/datasets/fashion-mnist --epochs 200
Here (2 CPU cores), 20 epochs on Fashion-MNIST and 100 on the 5,000-digit MNIST subset:
    KERAS_BACKEND=jax python recipes/alemi2017_vib_beta.py \
        --data fashion_mnist_idx:/usr/share/datasets/fashion-mnist --epochs 20 --out runs/vib_fmnist
    KERAS_BACKEND=jax python recipes/alemi2017_vib_beta.py \
        --data mnist_csv:data/mnist_5k.csv.gz --epochs 100 --out runs/vib_mnist5k
CPU smoke run (a minute): add --smoke.
"""

import os
import sys
import time

import numpy as np
from absl import app, flags

flags.DEFINE_string("out", "runs/alemi2017_vib", "Output directory (one run directory per model).")
flags.DEFINE_string("data", "fashion_mnist_idx:/usr/share/datasets/fashion-mnist",
                    "fashion_mnist_idx:DIR or mnist_idx:DIR (train and t10k files), "
                    "mnist_csv:PATH (data.mnist_csv's fixed 4,000 / 1,000 split) or "
                    "tfds:mnist / tfds:fashion_mnist.")
flags.DEFINE_list("betas", ["1e-8", "1e-7", "1e-6", "1e-5", "1e-4", "1e-3", "1e-2", "1e-1", "1"],
                  "The betas of the sweep (paper: 1e-9 .. 1).")
flags.DEFINE_integer("epochs", 200, "Epochs per model (paper: 200).")
flags.DEFINE_integer("batch_size", 100, "Batch size (paper: 100).")
flags.DEFINE_integer("bottleneck_dim", 256, "K of the sweep's models (paper: 256).")
flags.DEFINE_list("epsilons", ["0.01", "0.03", "0.1", "0.2"], "Gradient-sign attack sizes.")
flags.DEFINE_integer("attack_images", 1000, "Test images attacked per model.")
flags.DEFINE_integer("seed", 0, "Seed of initialisation, noise and data order.")
flags.DEFINE_bool("smoke", False, "Tiny run: two betas, 30 steps each, small evaluation.")
FLAGS = flags.FLAGS

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")
PAPER_TABLE1 = ("Alemi et al. 2017, Table 1 (MNIST, 784-1024-1024-256 VIB, 200 epochs, 60k "
                "training digits): deterministic baseline 1.38% test error, VIB beta = 1e-3 "
                "1.13%.")


def train_test(spec):
    """`(train, test)` ImageArrayDatasets with labels for a data spec."""
    from keras_disent import data

    kind, _, rest = spec.partition(":")
    if kind in ("fashion_mnist_idx", "mnist_idx") and rest:
        name = kind[:-len("_idx")]
        return (data.idx(rest, name=name, split="train"),
                data.idx(rest, name=name + "_test", split="test"))
    if kind == "mnist_csv" and rest:
        return (data.mnist_csv(rest, "mnist_5k", "train"),
                data.mnist_csv(rest, "mnist_5k", "test"))
    if kind == "tfds" and rest:
        return data.tfds(rest, "train"), data.tfds(rest, "test")
    raise SystemExit(f"error: --data {spec!r}: use fashion_mnist_idx:DIR, mnist_idx:DIR, "
                     "mnist_csv:PATH or tfds:NAME.")


def train_one(name, config, train_set, steps, steps_per_epoch, command):
    from keras_disent import data, train
    from keras_disent.models import DeepVIB

    model = DeepVIB(image_shape=train_set.image_shape, num_classes=10, seed=FLAGS.seed, **config)
    run_dir = os.path.join(FLAGS.out, name)
    batches = data.labelled_batches(train_set, None, FLAGS.batch_size, steps_per_epoch,
                                    seed=FLAGS.seed)
    _, wall = train.fit_run(model, train_set, run_dir, steps, FLAGS.batch_size,
                            seed=FLAGS.seed, steps_per_epoch=steps_per_epoch, batches=batches,
                            run_config={"command": command, "model": name}, verbose=2)
    return model, wall


def measure(model, train_set, test_set, epsilons, attack_images):
    from keras_disent.metrics import robustness

    test_images = test_set.images(np.arange(len(test_set)))
    some = np.random.default_rng(0).choice(len(train_set), min(10_000, len(train_set)),
                                           replace=False)
    result = {
        "test_error_pct": 100.0 * (1.0 - model.accuracy(test_images, test_set.labels)),
        "train_error_pct": 100.0 * (1.0 - model.accuracy(train_set.images(some),
                                                         train_set.labels[some])),
    }
    result["mean_kl_nats"] = (None if model.deterministic else
                              float(model.kl_per_dim(test_images).sum()))
    attacked = robustness.gradient_sign_accuracy(
        model, test_images[:attack_images], test_set.labels[:attack_images], epsilons)
    result["fgs_accuracy"] = {f"{e:g}": a for e, a in attacked.items()}
    return result


def write_table(rows, path, epsilons):
    header = ("| model | beta | test error % | train error % | KL nats | "
              + " | ".join(f"FGS eps={e:g} acc" for e in epsilons) + " |")
    lines = [header, "|" + " --- |" * (5 + len(epsilons))]
    for row in rows:
        kl = "-" if row["mean_kl_nats"] is None else f"{row['mean_kl_nats']:.2f}"
        lines.append(f"| {row['model']} | {row['beta']} | {row['test_error_pct']:.2f} | "
                     f"{row['train_error_pct']:.2f} | {kl} | "
                     + " | ".join(f"{row['fgs_accuracy'][f'{e:g}']:.3f}" for e in epsilons)
                     + " |")
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return "\n".join(lines)


def main(argv):
    del argv
    from keras_disent import process

    process.configure()  # this script owns its process: before keras starts
    from keras_disent import runs, visualize

    process.seed_everything(FLAGS.seed)
    train_set, test_set = train_test(FLAGS.data)
    betas = [float(b) for b in FLAGS.betas]
    epsilons = [float(e) for e in FLAGS.epsilons]
    steps_per_epoch = len(train_set) // FLAGS.batch_size
    steps = FLAGS.epochs * steps_per_epoch
    attack_images = FLAGS.attack_images
    if FLAGS.smoke:
        betas, steps, steps_per_epoch, attack_images = [1e-3, 1e-1], 30, 15, 100
        test_set = type(test_set)(test_set.raw[:500], test_set.labels[:500], test_set.name)
    command = "python " + " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:])
    models = [("deterministic", None, dict(bottleneck_dim=FLAGS.bottleneck_dim,
                                           deterministic=True))]
    models += [(f"beta_{beta:.0e}", beta, dict(bottleneck_dim=FLAGS.bottleneck_dim, beta=beta))
               for beta in betas]
    models += [("k2_beta_1e-03", 1e-3, dict(bottleneck_dim=2, beta=1e-3))]
    os.makedirs(FLAGS.out, exist_ok=True)
    rows, embedding_model = [], None
    for name, beta, config in models:
        start = time.time()
        model, wall = train_one(name, config, train_set, steps, steps_per_epoch, command)
        row = dict(model=name, beta="-" if beta is None else f"{beta:g}",
                   bottleneck_dim=config["bottleneck_dim"], train_seconds=wall,
                   **measure(model, train_set, test_set, epsilons, attack_images))
        rows.append(row)
        runs.write_json(os.path.join(FLAGS.out, name, "metrics.json"), {
            "dataset": test_set.name, "seed": FLAGS.seed, "metrics": row,
            "protocol": f"error of the {model.num_samples}-draw average prediction on the "
                        f"{len(test_set)} test images; gradient-sign attack on the first "
                        f"{attack_images}; KL summed over dims, mean over the test set"})
        print(f"[keras-disent] {name}: test error {row['test_error_pct']:.2f}% "
              f"({time.time() - start:.0f} s)", flush=True)
        if config["bottleneck_dim"] == 2:
            embedding_model = model
    table = write_table(rows, os.path.join(FLAGS.out, "table.md"), epsilons)
    runs.write_json(os.path.join(FLAGS.out, "results.json"), {
        "data": FLAGS.data, "train_images": len(train_set), "test_images": len(test_set),
        "epochs": steps / steps_per_epoch, "batch_size": FLAGS.batch_size, "seed": FLAGS.seed,
        "command": command, "paper": PAPER_TABLE1, "rows": rows,
        "protocol": "test error of the 12-draw average prediction on the whole test set; "
                    f"gradient-sign attack on the first {attack_images} test images"})

    sweep = [r for r in rows if r["beta"] != "-" and r["bottleneck_dim"] == FLAGS.bottleneck_dim]
    baseline = rows[0]
    log_betas = [np.log10(float(r["beta"])) for r in sweep]
    errors = np.array([r["test_error_pct"] for r in sweep])
    # A collapsed model (beta ~1) would flatten the rest: the axis stops at 1.6x the baseline
    # and such points sit on its top edge, their value in the title.
    ceiling = 1.6 * max(baseline["test_error_pct"], errors.min())
    off = [f"beta={r['beta']}: {r['test_error_pct']:.1f}%" for r in sweep
           if r["test_error_pct"] > ceiling]
    low = min(errors.min(), baseline["test_error_pct"])
    visualize.line_plot(
        {f"VIB K={FLAGS.bottleneck_dim}": (log_betas, np.minimum(errors, ceiling))},
        os.path.join(FLAGS.out, "fig1_error_vs_beta.png"),
        title=f"Test error vs beta ({FLAGS.data.split(':')[0]}, {steps // steps_per_epoch} "
              "epochs)" + (f"; off the chart: {', '.join(off)}" if off else ""),
        xlabel="log10(beta)", ylabel="test error %", markers=True,
        y_range=(low - 0.1 * (ceiling - low), ceiling + 0.02 * (ceiling - low)),
        hlines={f"deterministic {baseline['test_error_pct']:.2f}%":
                baseline["test_error_pct"]}, size=(640, 380))
    visualize.line_plot(
        {f"eps={e:g}": (log_betas, [r["fgs_accuracy"][f"{e:g}"] for r in sweep])
         for e in epsilons},
        os.path.join(FLAGS.out, "fig_fgs_vs_beta.png"),
        title="Accuracy under the gradient-sign attack vs beta (dashed: deterministic)",
        xlabel="log10(beta)", ylabel="accuracy", markers=True,
        hlines={f"det. eps={e:g}": baseline["fgs_accuracy"][f"{e:g}"] for e in epsilons[:2]})
    class_names = FASHION_CLASSES if FLAGS.data.startswith("fashion") or \
        FLAGS.data == "tfds:fashion_mnist" else None
    mean, std = embedding_model.encode_distribution(test_set.images(np.arange(len(test_set))))
    visualize.scatter_plot(mean, test_set.labels, os.path.join(FLAGS.out,
                                                               "fig2_embedding_k2.png"),
                           title="2-D VIB embedding of the test set, beta = 1e-3 (Fig. 2)",
                           spreads=std, class_names=class_names)
    print(table)
    print(f"[keras-disent] {PAPER_TABLE1}\n[keras-disent] wrote {FLAGS.out}/")


if __name__ == "__main__":
    app.run(main)
