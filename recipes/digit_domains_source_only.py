"""The source-only baseline of the digit-domains benchmark (the row UFDN and DRIT must beat).

Source-only rows, each trained on the source domain only (gray MNIST digits) and scored on
the test digits of every domain of `data.digit_domains` (MNIST-M style on the 4x4-grid
texture, flat colours, MNIST-M style on the texture with photographs' statistics):
  - vae_codes: a plain VAE (`BetaVAE`, beta = 1); a linear classifier fitted on its codes of
    labelled source images (`metrics.domain_transfer.domain_adaptation_accuracy`): the row
    for the linear probe on UFDN's z and DRIT's content;
  - pixels: the same linear classifier on raw pixels;
  - cnn: a CNN classifier (`metrics.domain_transfer.cnn_classifier`: UFDN's encoder network
    with a softmax layer) trained with the source labels: the row for UFDN's jointly trained
    source classifier and for DRIT's classifier trained on translated source digits;
  - cnn_inverted_too: the same CNN trained on the digits and their inversions (1 - x), the
    row for UFDN trained with the polarity augmentation (`--invert_gray`).
Writes `metrics.json` (per target domain) and `domains.png` (test digits in every domain)
beside the run files.

UFDN (Liu et al. 2018) and DRIT (Lee et al. 2018) report their own source-only rows for
MNIST -> MNIST-M with their own classifiers (their tables are to be cited beside ours with
those recipes); this baseline is ours, on our MNIST-M-style domain, and is what our UFDN and
DRIT numbers will stand beside.

Here (2 CPU cores):
    KERAS_BACKEND=jax python recipes/digit_domains_source_only.py --steps 3000
CPU smoke run (seconds): add --smoke.
"""

import os
import sys

import numpy as np
from absl import app, flags

flags.DEFINE_string("out", "runs/digit_domains_source_only", "Run directory.")
flags.DEFINE_string("digits", "mnist_csv:data/mnist_5k.csv.gz",
                    "Digit source: mnist_csv:PATH or fashion_mnist_idx:DIR.")
flags.DEFINE_integer("steps", 3000, "Training steps of the source VAE.")
flags.DEFINE_integer("latent_dim", 32, "VAE code size.")
flags.DEFINE_integer("cnn_steps", 3000, "Training steps of the source CNN classifier.")
flags.DEFINE_bool("batch_norm", False, "Batch normalisation in the VAE and the CNNs (the row "
                  "for UFDN --batch_norm).")
flags.DEFINE_integer("seed", 0, "Seed.")
flags.DEFINE_bool("smoke", False, "Tiny run: 40 steps, 300 test images.")
FLAGS = flags.FLAGS


def to_uint8(images):
    return np.round(np.clip(images, 0.0, 1.0) * 255.0).astype(np.uint8)


def main(argv):
    del argv
    from keras_disent import process

    process.configure()  # this script owns its process: before keras starts
    from keras_disent import data, runs, train, visualize
    from keras_disent.metrics.domain_transfer import cnn_classifier, domain_adaptation_accuracy
    from keras_disent.models import BetaVAE

    process.seed_everything(FLAGS.seed)
    bench_train = data.digit_domains(FLAGS.digits, "train")
    bench_test = data.digit_domains(FLAGS.digits, "test")
    source_images, source_labels = bench_train.all_images("mnist", seed=FLAGS.seed)
    source = data.ImageArrayDataset(to_uint8(source_images), source_labels,
                                    name=f"{bench_train.name}_mnist")
    steps = 40 if FLAGS.smoke else FLAGS.steps
    model = BetaVAE(latent_dim=FLAGS.latent_dim, beta=1.0, image_shape=source.image_shape,
                    conv_channels=(32, 64), dense_units=(256,), batch_norm=FLAGS.batch_norm,
                    seed=FLAGS.seed)
    command = "python " + " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:])
    _, wall = train.fit_run(model, source, FLAGS.out, steps, 64, seed=FLAGS.seed,
                            steps_per_epoch=min(500, steps), run_config={"command": command})
    cnn_steps = 40 if FLAGS.smoke else FLAGS.cnn_steps
    classify = cnn_classifier(source_images, source_labels, bench_train.num_classes, cnn_steps,
                              batch_norm=FLAGS.batch_norm)
    classify_both = cnn_classifier(source_images, source_labels, bench_train.num_classes,
                                   cnn_steps, invert=True, batch_norm=FLAGS.batch_norm)
    test_count = 300 if FLAGS.smoke else len(bench_test)
    results = {}
    for domain in bench_test.domains:
        images, labels = bench_test.all_images(domain, seed=FLAGS.seed + 1)
        images, labels = images[:test_count], labels[:test_count]
        results[domain] = {
            "vae_codes": domain_adaptation_accuracy(model.encode, source_images, source_labels,
                                                    images, labels),
            "pixels": domain_adaptation_accuracy(lambda x: x.reshape(len(x), -1),
                                                 source_images, source_labels, images, labels),
            "cnn": {"target_accuracy": float(np.mean(classify(images) == labels))},
            "cnn_inverted_too": {
                "target_accuracy": float(np.mean(classify_both(images) == labels))}}
        print(f"[keras-disent] mnist -> {domain}: VAE codes "
              f"{results[domain]['vae_codes']['target_accuracy']:.3f}, pixels "
              f"{results[domain]['pixels']['target_accuracy']:.3f}, CNN "
              f"{results[domain]['cnn']['target_accuracy']:.3f}, CNN with inverted digits "
              f"{results[domain]['cnn_inverted_too']['target_accuracy']:.3f}", flush=True)
    runs.write_json(os.path.join(FLAGS.out, "metrics.json"), {
        "dataset": bench_test.name, "seed": FLAGS.seed, "metrics": results,
        "train_seconds": wall, "protocol": "logistic regression on standardised codes of the "
        f"{len(source_images)} source (gray MNIST) training digits; accuracy on the codes of "
        f"{test_count} test digits per domain; cnn: a CNN classifier trained on the source "
        "digits and labels; cnn_inverted_too: the same trained on the digits and their "
        "inversions (1 - x)"})
    grid = np.stack([bench_test.sample(8, d, seed=FLAGS.seed)["images"]
                     for d in bench_test.domains])
    visualize.grid_figure(grid, os.path.join(FLAGS.out, "domains.png"), list(bench_test.domains))
    print(f"[keras-disent] wrote {FLAGS.out}/", flush=True)


if __name__ == "__main__":
    app.run(main)
