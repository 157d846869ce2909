"""Unsupervised content transfer (Press et al. ICLR 2019): the glasses transfer matrix.

Two datasets:
  --dataset procedural (default; no download): the procedural glasses benchmark
      (`keras_disent.data.GlassesBenchmark`): domain A = gray sprites, domain B = sprites
      wearing white "glasses". Both are rendered from factors, so the true result of adding
      B's glasses to an A scene (and of removing them) is known; `metrics.json` reports the
      mean absolute pixel error of `add_content` / `remove_content` against it, over the
      whole image and over the changed pixels, with trivial baselines: "copy input" (return
      the input unchanged; add and remove) and "paste B" (return the B image; add).
      Sprites are centred, as the paper's faces are aligned (`--noaligned` lets them move;
      the paper's spatial E2 code then pastes B's glasses where B's sprite was).
  --dataset celeba: CelebA through TFDS (`--data_dir`) or a local folder (`--celeba_folder`),
      split by the Eyeglasses attribute, centre crop 178, resize 128 (the paper's setting).

Figures: transfer_matrix.png: top row = B images, left column = A images, cell (i, j) =
add_content(a_i, b_j), last row = remove_content(b_j); for the benchmark also
truth_matrix.png with the rendered ground truth.

CPU (the default length, 4,000 steps: ~18 minutes on 2 cores under tensorflow):
    python recipes/press2019_glasses.py
  measured: add, changed pixels 0.128 (copy input 0.678); remove 0.023 (copy input 0.681).
  Faster to learn than the paper's settings (4,000 CPU steps: add 0.023, remove 0.002):
    python recipes/press2019_glasses.py --learning_rate 1e-3 --specific_channels 16
Paper scale on a GPU:
    KERAS_BACKEND=jax python recipes/press2019_glasses.py --dataset celeba --data_dir DIR \\
        --steps 100000 --out runs/press2019_celeba
Smoke run (minutes): --smoke (always on the procedural benchmark).
"""

import os
import sys

import numpy as np
from absl import app, flags

flags.DEFINE_string("out", "runs/press2019_glasses", "Run directory.")
flags.DEFINE_enum("dataset", "procedural", ["procedural", "celeba"], "Which domains.")
flags.DEFINE_string("data_dir", None, "TFDS data_dir with a prepared celeb_a.")
flags.DEFINE_string("celeba_folder", None, "Local CelebA root (img_align_celeba/ + attrs).")
flags.DEFINE_integer("image_size", 128, "CelebA image size after the 178 crop (64 or 128).")
flags.DEFINE_integer("max_images", None, "CelebA: at most this many faces per domain.")
flags.DEFINE_integer("steps", 4000, "Training steps.")
flags.DEFINE_integer("batch_size", 32, "Batch size (pairs).")
flags.DEFINE_float("learning_rate", 2e-4, "Adam learning rate (paper: 2e-4).")
flags.DEFINE_float("confusion_weight", 0.001, "Domain confusion weight (paper: 0.001).")
flags.DEFINE_enum("specific_code", "map", ["map", "global"],
                  "E2's code: a spatial map (paper) or one vector over the map.")
flags.DEFINE_integer("specific_channels", 4, "Channels of E2's code map.")
flags.DEFINE_bool("aligned", True, "Procedural benchmark: centred sprites (like the paper's "
                  "aligned faces); --noaligned lets sprites and glasses move.")
flags.DEFINE_integer("seed", 0, "Seed.")
flags.DEFINE_bool("smoke", False, "Tiny run on the procedural benchmark: 150 steps.")
FLAGS = flags.FLAGS


def celeba_domains():
    """(without glasses, with glasses) ImageArrayDatasets, or SystemExit with instructions."""
    from keras_disent import data
    from keras_disent.data.arrays import ImageArrayDataset
    from keras_disent.data.tfds_loader import DatasetNotPreparedError

    try:
        if FLAGS.celeba_folder:
            return tuple(data.celeba_folder(FLAGS.celeba_folder, FLAGS.image_size,
                                            {"Eyeglasses": wanted}, max_images=FLAGS.max_images)
                         for wanted in (False, True))
        faces = data.tfds("celeb_a", "train", FLAGS.data_dir, image_size=FLAGS.image_size)
    except (DatasetNotPreparedError, FileNotFoundError, ImportError) as error:
        raise SystemExit(f"error: CelebA is not available here.\n{error}\nPass --data_dir DIR "
                         "(a prepared TFDS celeb_a) or --celeba_folder ROOT, or run the "
                         "procedural benchmark (--dataset procedural).")
    glasses = faces.attributes[:, faces.attribute_names.index("Eyeglasses")]
    return tuple(ImageArrayDataset(faces.raw[glasses == wanted][:FLAGS.max_images],
                                   name=f"celeb_a_eyeglasses_{wanted}")
                 for wanted in (False, True))


def matrix_figure(rows_a, cols_b, cells, removed, path):
    """Grid with B on top, A on the left, transfers inside, removals in the last row."""
    from keras_disent import visualize

    blank = np.ones_like(rows_a[:1])
    grid = [np.concatenate([blank, cols_b])]
    for i in range(len(rows_a)):
        grid.append(np.concatenate([rows_a[i:i + 1], cells[i]]))
    grid.append(np.concatenate([blank, removed]))
    labels = ["B images"] + [f"A {i} + B" for i in range(len(rows_a))] + ["B - content"]
    return visualize.grid_figure(np.stack(grid), path, labels)


def main(argv):
    del argv
    from keras_disent import process

    process.configure()  # this script owns its process: before keras starts
    from keras_disent import data, runs, train
    from keras_disent.metrics import content_transfer
    from keras_disent.models import ContentTransfer

    process.seed_everything(FLAGS.seed)
    procedural = FLAGS.smoke or FLAGS.dataset == "procedural"
    steps = 150 if FLAGS.smoke else FLAGS.steps
    steps_per_epoch = min(250, steps)
    if procedural:
        bench = data.GlassesBenchmark(aligned=FLAGS.aligned)
        batches = bench.batches(FLAGS.batch_size, steps_per_epoch, FLAGS.seed)
        image_shape, dataset = bench.image_shape, bench
    else:
        without, with_glasses = celeba_domains()
        batches = data.domain_pairs(without, with_glasses, FLAGS.batch_size, steps_per_epoch,
                                    FLAGS.seed)
        image_shape, dataset = without.image_shape, without
    channels = (32, 64, 128, 256) if image_shape[0] == 64 else (32, 64, 128, 256, 256)
    model = ContentTransfer(image_shape=image_shape, channels=channels,
                            confusion_weight=FLAGS.confusion_weight,
                            specific_code=FLAGS.specific_code,
                            specific_channels=FLAGS.specific_channels, seed=FLAGS.seed)
    model.compile(model.default_optimizer(FLAGS.learning_rate))
    command = "python " + " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:])
    _, wall = train.fit_run(model, dataset, FLAGS.out, steps, FLAGS.batch_size,
                            FLAGS.learning_rate, FLAGS.seed, steps_per_epoch,
                            run_config={"command": command}, batches=batches)
    print(f"[keras-disent] trained in {wall:.0f} s", flush=True)

    if procedural:
        results, shown = content_transfer.transfer_errors(model, bench)
        a, b = shown["a"], shown["b"]
        matrix_figure(a, b, model.transfer_matrix(a, b), model.remove_content(b),
                      os.path.join(FLAGS.out, "transfer_matrix.png"))
        truth = np.stack([bench.render(np.repeat(shown["scene_a"][i:i + 1], len(b), axis=0),
                                       shown["glasses_b"]) for i in range(len(a))])
        matrix_figure(a, b, truth, bench.render(shown["scene_b"]),
                      os.path.join(FLAGS.out, "truth_matrix.png"))
        runs.write_json(os.path.join(FLAGS.out, "metrics.json"), {
            "dataset": "glasses_benchmark", "seed": FLAGS.seed, "metrics": results,
            "protocol": "mean |output - rendered truth| over 500 held-out unpaired pairs; "
                        "changed pixels = where the truth differs from the input"})
        for line in content_transfer.summary(results):
            print(f"[keras-disent] {line}")
    else:
        _, a = without.sample(6, FLAGS.seed)
        _, b = with_glasses.sample(6, FLAGS.seed)
        matrix_figure(a, b, model.transfer_matrix(a, b), model.remove_content(b),
                      os.path.join(FLAGS.out, "transfer_matrix.png"))
    print(f"[keras-disent] wrote {FLAGS.out}/")


if __name__ == "__main__":
    app.run(main)
