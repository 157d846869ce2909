"""DRIT (Lee et al. ECCV 2018) on the digit-domains benchmark: translation grid and scores.

Trains one DRIT on gray MNIST digits and MNIST-M-style digits (domain ids only, no class
labels; `--domains` adds the flat-colour domain), then writes into the run directory:
  translation.png   rows = test inputs of each domain; columns = the input, then its
                    translation into the other domain under 6 attributes drawn from N(0, I)
  metrics.json      for source = the first domain (gray MNIST) -> each other domain:
                    - domain adaptation, two protocols: a linear classifier on the content
                      code of labelled source digits, scored on the content of target test
                      digits; and the paper's protocol, a CNN trained on source digits
                      translated into the target domain (one random attribute each), scored
                      on true target test digits;
                    - content preservation (an edge-feature classifier fitted on true target
                      images, applied to translated source test digits);
                    - diversity (mean pairwise L1 between the translations of one input under
                      10 sampled attributes; UFDN's recipe gives the same score for a model
                      without an attribute code: 0);
plus model.keras / model.weights.h5 / config.json / history.json (see keras_disent.train).
Compare with `recipes/digit_domains_source_only.py` (the source-only rows: vae_codes for
the linear probe, cnn for the translated-digits CNN) and `recipes/liu2018_ufdn_digits.py`.

The paper's own digit result (MNIST -> MNIST-M classification accuracy, in its domain
adaptation table, beside PixelDA) was not reachable offline to check; PixelDA's MNIST ->
MNIST-M accuracy is 98.2% (Bousmalis et al. 2017). Those use the real MNIST-M (BSDS500
photograph crops, 59,001 training digits) and full MNIST; ours uses 4,000 training digits and
procedural textures, and trains for minutes on a CPU.

Here (2 CPU cores), on the 4x4-grid MNIST-M style and on the texture with photographs'
statistics:
    KERAS_BACKEND=jax python recipes/lee2018_drit_digits.py --steps 6000 --learning_rate 2e-4
    KERAS_BACKEND=jax python recipes/lee2018_drit_digits.py --steps 6000 --learning_rate 2e-4 \
        --domains mnist,mnist_m_natural --reconstruction bernoulli
(with the paper's L1 the second one's MNIST generator collapses to black images; see the
README).
CPU smoke run (a minute): add --smoke.
"""

import os
import sys

import numpy as np
from absl import app, flags

flags.DEFINE_string("out", "runs/lee2018_drit_digits", "Run directory.")
flags.DEFINE_string("digits", "mnist_csv:data/mnist_5k.csv.gz",
                    "Digit source: mnist_csv:PATH or fashion_mnist_idx:DIR.")
flags.DEFINE_list("domains", "mnist,mnist_m", "The domains, in order; the first is the "
                  "labelled source.")
flags.DEFINE_integer("steps", 6000, "Training steps.")
flags.DEFINE_integer("batch_size", 32, "Batch size (half of it paired with the other half).")
flags.DEFINE_float("learning_rate", None, "Adam rate of every phase (default: the paper's "
                   "1e-4).")
flags.DEFINE_bool("invert_gray", False, "Invert half the gray digits while training (the "
                  "polarity augmentation of UFDN's digit script; compare with the source-only "
                  "cnn_inverted_too row).")
flags.DEFINE_enum("reconstruction", "l1", ["l1", "bernoulli"], "Cross-cycle and "
                  "self-reconstruction distance: the paper's L1, or the Bernoulli cross-entropy "
                  "(does not saturate when a generator outputs black; see DRIT's docstring).")
flags.DEFINE_integer("cnn_steps", 3000, "Training steps of the translated-digits CNN.")
flags.DEFINE_integer("seed", 0, "Seed.")
flags.DEFINE_bool("smoke", False, "Tiny run: 40 steps, 200 test images.")
FLAGS = flags.FLAGS


def translation_grid(model, bench, path, seed, num_attributes=6):
    from keras_disent import visualize

    rows, labels = [], []
    for index, domain in enumerate(bench.domains):
        inputs = bench.sample(3, index, seed=seed + index)["images"]
        target = (index + 1) % bench.num_domains
        columns = [inputs] + [model.translate(inputs, target, seed=seed + k, domains=index)
                              for k in range(num_attributes)]
        rows.append(np.stack(columns, axis=1))
        labels += [f"{domain}->{bench.domains[target]}"] * 3
    return visualize.grid_figure(np.concatenate(rows), path, labels)


def main(argv):
    del argv
    from keras_disent import process

    process.configure()  # this script owns its process: before keras starts
    from keras_disent import data, runs, train
    from keras_disent.metrics import domain_transfer
    from keras_disent.models import DRIT

    process.seed_everything(FLAGS.seed)
    bench_train = data.digit_domains(FLAGS.digits, "train", FLAGS.domains)
    bench_test = data.digit_domains(FLAGS.digits, "test", FLAGS.domains)
    source = bench_train.domains[0]
    steps = 40 if FLAGS.smoke else FLAGS.steps
    steps_per_epoch = min(500, steps)
    model = DRIT(num_domains=bench_train.num_domains, image_shape=bench_train.image_shape,
                 reconstruction=FLAGS.reconstruction, seed=FLAGS.seed)
    batches = bench_train.batches(FLAGS.batch_size, steps_per_epoch, seed=FLAGS.seed,
                                  cross_pairs=True, invert_gray=FLAGS.invert_gray)
    command = "python " + " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:])
    history, wall = train.fit_run(model, bench_train, FLAGS.out, steps, FLAGS.batch_size,
                                  seed=FLAGS.seed, steps_per_epoch=steps_per_epoch,
                                  batches=batches, learning_rate=FLAGS.learning_rate,
                                  run_config={"command": command})
    print(f"[keras-disent] trained in {wall:.0f} s", flush=True)
    translation_grid(model, bench_test, os.path.join(FLAGS.out, "translation.png"), FLAGS.seed)

    def content_of(domain):
        return lambda images: model.encode(images, domains=domain)[:, :model.content_dim]

    count = 200 if FLAGS.smoke else len(bench_test)
    source_images, source_labels = bench_train.all_images(source, seed=FLAGS.seed)
    source_test, source_test_labels = bench_test.all_images(source, seed=FLAGS.seed + 1)
    results = {"domain_adaptation": {}, "translated_source_cnn": {},
               "content_preservation": {}, "diversity": {}}
    for index, domain in enumerate(bench_test.domains[1:], start=1):
        images, labels = bench_test.all_images(domain, seed=FLAGS.seed + 1)
        images, labels = images[:count], labels[:count]
        # linear probe: content of source digits (their own encoders) -> content of targets
        results["domain_adaptation"][domain] = domain_transfer.domain_adaptation_accuracy(
            content_of(0), source_images, source_labels, images, labels,
            encode_target=content_of(index))
        # the paper's protocol: a CNN on source digits translated into the domain
        translated_train = model.translate(source_images, index, seed=FLAGS.seed + 3,
                                           domains=0)
        classify = domain_transfer.cnn_classifier(
            translated_train, source_labels, bench_train.num_classes,
            40 if FLAGS.smoke else FLAGS.cnn_steps)
        results["translated_source_cnn"][domain] = float(np.mean(classify(images) == labels))
        true_images, true_labels = bench_train.all_images(domain, seed=FLAGS.seed + 2)
        edge_classify = domain_transfer.image_classifier(true_images, true_labels, FLAGS.seed)
        translated = model.translate(source_test[:count], index, seed=FLAGS.seed + 4,
                                     domains=0)
        results["content_preservation"][domain] = {
            "translated": domain_transfer.content_preservation(
                edge_classify, translated, source_test_labels[:count]),
            "true_images": domain_transfer.content_preservation(edge_classify, images,
                                                                labels)}
        diversity_inputs = source_test[:100]
        results["diversity"][domain] = domain_transfer.translation_diversity(
            lambda x, seed: model.translate(x, index, seed=seed, domains=0), diversity_inputs,
            10, FLAGS.seed)
        print(f"[keras-disent] {source} -> {domain}: linear probe on content "
              f"{results['domain_adaptation'][domain]['target_accuracy']:.3f}, CNN on "
              f"translated digits {results['translated_source_cnn'][domain]:.3f}, content kept "
              f"{results['content_preservation'][domain]['translated']:.3f}, diversity "
              f"{results['diversity'][domain]:.4f}", flush=True)
    results["final_training_logs"] = {k: float(v[-1]) for k, v in history.history.items()}
    runs.write_json(os.path.join(FLAGS.out, "metrics.json"), {
        "dataset": bench_test.name, "seed": FLAGS.seed, "metrics": results,
        "train_seconds": wall,
        "protocol": f"source {source}; domain adaptation: logistic regression on the content "
                    "code of the source training digits, accuracy on the content of "
                    f"{count} test digits per target domain; translated_source_cnn: "
                    "metrics.domain_transfer.cnn_classifier trained on the source training "
                    "digits translated into the target domain (one N(0, I) attribute each), "
                    "accuracy on true target test digits; content preservation: edge-feature "
                    "MLP fitted on the target's true training images, applied to translated "
                    f"source test digits; diversity: mean pairwise L1 over 10 attribute draws "
                    "for 100 source test digits"})
    print(f"[keras-disent] wrote {FLAGS.out}/", flush=True)


if __name__ == "__main__":
    app.run(main)
