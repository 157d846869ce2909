"""D2AE (Liu et al. CVPR 2018): identity distilled into f_T, dispelled from f_P, and the swap
figure (the identity of image A in the pose and light of image B; the paper's Fig. 1 / Sec. 5
feature-combination faces, here on data whose factors are known).

Writes into the run directory:
  swap.png            top row: images B; left column: images A; cell (A, B) = decode([f_T(A),
                      f_P(B)]). Along a row the identity stays that of A while the pose/light
                      follow B.
  reconstruction.png  originals and reconstructions
  metrics.json        probes fitted on 5,000 codes and scored on 2,000 others: identity
                      accuracy from f_T and from f_P (linear and gradient-boosted probes; f_P
                      near chance when the identity is dispelled), R^2 of every other factor
                      from f_P and f_T; the classifier C_T's own accuracy
plus model.keras / model.weights.h5 / config.json / history.json (see keras_disent.train).

Data (--data) and the identity label:
  objects3d (default)  identity = the object (6), the rest = azimuth, elevation, light
  dsprites             identity = the shape (3), the rest = scale, orientation, x, y
  fashion_mnist_idx:DIR  identity = the class (10), a real-image case without other factors
Paper scale (a GPU): --steps 50000. Here (2 CPU cores):
    KERAS_BACKEND=jax python recipes/liu2018_d2ae_swap.py --steps 6000 --out runs/d2ae_objects3d
CPU smoke run (a minute): add --smoke.
Register the result with `keras-disent zoo register RUN_DIR --name d2ae_objects3d`.
"""

import os
import sys

import numpy as np
from absl import app, flags

flags.DEFINE_string("out", "runs/liu2018_d2ae", "Run directory.")
flags.DEFINE_string("data", "objects3d", "objects3d, dsprites or fashion_mnist_idx:DIR.")
flags.DEFINE_string("label", None, "The identity factor (default: shape for ground-truth data).")
flags.DEFINE_integer("steps", 6000, "Training steps.")
flags.DEFINE_float("dispel_weight", None, "lambda_P (default: the paper's 0.1).")
flags.DEFINE_integer("adversary_steps", 1, "Updates of the adversary C_P per train step.")
flags.DEFINE_integer("rest_dim", None, "Dims of f_P (default: the class default, 16).")
flags.DEFINE_integer("batch_size", 64, "Batch size.")
flags.DEFINE_integer("seed", 0, "Seed of data order, initialisation and figures.")
flags.DEFINE_bool("smoke", False, "Tiny CPU run: 60 steps, small probes.")
FLAGS = flags.FLAGS


def swap_figure(model, images_a, images_b, path):
    """The swap grid with the B images on top and the A images on the left."""
    from keras_disent import visualize

    swapped = model.swap(images_a, images_b)
    rows, cols = swapped.shape[:2]
    grid = np.ones((rows + 1, cols + 1) + swapped.shape[2:], np.float32)
    grid[0, 1:] = images_b
    grid[1:, 0] = images_a
    grid[1:, 1:] = swapped
    labels = ["f_P from B:"] + [f"f_T from A{r}" for r in range(rows)]
    return visualize.grid_figure(grid, path, labels)


def swap_images(dataset, factor, seed):
    """One A image per identity (first 8) and 8 B images of varied identity and pose."""
    rng = np.random.default_rng(seed)
    if getattr(dataset, "factor_names", None):
        identities = min(8, dataset.factor_sizes[factor])
        factors_a = dataset.sample_factors(identities, rng)
        factors_a[:, factor] = np.arange(identities)
        factors_b = dataset.sample_factors(8, rng)
        return (dataset.images_from_factors(factors_a), dataset.images_from_factors(factors_b))
    labels = dataset.labels
    first = [int(np.flatnonzero(labels == c)[0]) for c in np.unique(labels)[:8]]
    return dataset.images(np.asarray(first)), dataset.images(rng.choice(len(dataset), 8))


def label_set_probes(model, dataset, num_train, num_test, seed):
    """Identity accuracy from each code part for a labelled image set (no other factors)."""
    from keras_disent.metrics.probes import factor_probes

    labels, images = dataset.sample(num_train + num_test, seed=seed)
    parts = model.encode_parts(images)
    parts["whole code"] = np.concatenate([parts["identity"], parts["rest"]], axis=1)
    factors = labels[:, None]
    return {name: factor_probes(codes[:num_train], factors[:num_train], codes[num_train:],
                                factors[num_train:], ("label",), 0, seed)
            for name, codes in parts.items()}


def main(argv):
    del argv
    from keras_disent import process

    process.configure()  # this script owns its process: before keras starts
    from keras_disent import data, runs, train
    from keras_disent.metrics.probes import code_part_probes
    from keras_disent.models import D2AE

    process.seed_everything(FLAGS.seed)
    dataset = data.get(FLAGS.data)
    ground_truth = bool(getattr(dataset, "factor_names", None))
    label = FLAGS.label or ("shape" if ground_truth else None)
    try:
        factor = data.label_factor(dataset, label)
        num_classes = data.num_classes(dataset, label)
    except ValueError as error:
        raise SystemExit(f"error: {error}")
    steps = 60 if FLAGS.smoke else FLAGS.steps
    steps_per_epoch = min(30 if FLAGS.smoke else 500, steps)
    num_train, num_test = (300, 200) if FLAGS.smoke else (5000, 2000)
    weights = {"adversary_steps": FLAGS.adversary_steps}
    if FLAGS.dispel_weight is not None:
        weights["dispel_weight"] = FLAGS.dispel_weight
    if FLAGS.rest_dim is not None:
        weights["rest_dim"] = FLAGS.rest_dim
    model = D2AE(num_classes=num_classes, image_shape=dataset.image_shape, seed=FLAGS.seed,
                 **weights)
    batches = data.labelled_batches(dataset, label, FLAGS.batch_size, steps_per_epoch,
                                    seed=FLAGS.seed)
    command = "python " + " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:])
    history, wall = train.fit_run(model, dataset, FLAGS.out, steps, FLAGS.batch_size,
                                  seed=FLAGS.seed, steps_per_epoch=steps_per_epoch,
                                  batches=batches, run_config={"command": command,
                                                               "label": label})
    print(f"[keras-disent] trained in {wall:.0f} s", flush=True)
    train.write_figures(model, dataset, FLAGS.out, FLAGS.seed)
    images_a, images_b = swap_images(dataset, factor, FLAGS.seed)
    swap_figure(model, images_a, images_b, os.path.join(FLAGS.out, "swap.png"))

    if ground_truth:
        probes = code_part_probes(model, dataset, label, num_train, num_test, FLAGS.seed)
    else:
        probes = label_set_probes(model, dataset, num_train, num_test, FLAGS.seed)
    labels, images = data.labelled_sample(dataset, num_test, label, seed=FLAGS.seed + 1)
    results = {"probes": probes, "identity_classifier_accuracy": model.accuracy(images, labels),
               "final_training_logs": {k: float(v[-1]) for k, v in history.history.items()}}
    runs.write_json(os.path.join(FLAGS.out, "metrics.json"), {
        "dataset": FLAGS.data, "label": label, "seed": FLAGS.seed, "metrics": results,
        "protocol": f"probes fitted on {num_train} random images' codes, scored on {num_test} "
                    "others (accuracy for the identity, R^2 of the grid index otherwise); "
                    f"C_T accuracy on {num_test} random images"})
    print(f"[keras-disent] identity accuracy from f_T "
          f"{probes['identity'][label or 'label']['nonlinear']:.3f}, from f_P "
          f"{probes['rest'][label or 'label']['nonlinear']:.3f} (chance "
          f"{1.0 / num_classes:.3f}); wrote {FLAGS.out}/", flush=True)


if __name__ == "__main__":
    app.run(main)
