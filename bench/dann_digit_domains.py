"""Does adversarial feature alignment help on the digit domains at all? DANN (Ganin et al.
2016, JMLR) on the same network as the source-only CNN, gray MNIST -> MNIST-M style (or
`--target colour`, flat colours; `--target mnist_m_natural`, MNIST-M's rule on textures with
photographs' statistics).

A control for UFDN's adaptation result: UFDN at a large classifier weight is close to DANN
(its reconstruction term is small beside the classifier and adversary), so if DANN on the
CNN of `metrics.domain_transfer.cnn_classifier` does not beat that CNN trained on the source
only, the benchmark (not UFDN's code) is what defeats marginal alignment here.

Both arms: the trunk of `cnn_classifier` (conv 32, 64, 4x4 stride 2; dense 256; a 32-d
feature), a linear class head, Adam 5e-4, batch 64, the gray digits and their inversions as
the labelled source (`--no_inversion`: the gray digits only). DANN adds the unlabelled
target's training digits (`--target_textures` renderings each, default 3) and a domain head
(dense 256, 256) behind a gradient reversal layer on the 32-d feature, its weight rising on
Ganin's schedule (`losses.adversary_ramp`) to `lambda`; the class loss reads the source
examples only (sample weights). Printed per arm: target test accuracy, the domain head's
accuracy on source and target test digits (0.5 = aligned), the steps the reversal counted.

    KERAS_BACKEND=jax python bench/dann_digit_domains.py --steps 6000 --lambdas 0.1,0.3,1

The gradient reversal is `stop_gradient((1 + w) f) - w f`: f forward, -w times the
gradient backward, in keras.ops, so every backend runs it.
"""

import argparse
import time

import numpy as np


def build(image_shape, num_classes, lam, ramp_steps, seed):
    import keras
    from keras import ops

    from keras_disent import losses, networks

    class GradientReversal(keras.layers.Layer):
        """Identity forward; the gradient times -lam * ramp(step) backward, the step counted
        by the layer's own training calls."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.step = self.add_weight(shape=(), initializer="zeros", dtype="int32",
                                        trainable=False, name="step")

        def call(self, features, training=False):
            weight = lam * losses.adversary_ramp(self.step, ramp_steps)
            if training:
                self.step.assign_add(1)
            return ops.stop_gradient((1.0 + weight) * features) - weight * features

    keras.utils.set_random_seed(seed)
    images = keras.Input(image_shape)
    features = networks.conv_encoder(image_shape, 32, (32, 64), 4, (256,))(images)
    classes = keras.layers.Dense(num_classes, name="classes")(features)
    hidden = GradientReversal(name="reversal")(features)
    for units in (256, 256):
        hidden = keras.layers.Dense(units, activation="relu")(hidden)
    domain = keras.layers.Dense(1, name="domain")(hidden)
    return keras.Model(images, {"classes": classes, "domain": domain})


def run(source, labels, target, target_test, test_labels, source_test, steps, lam, seed):
    """Trains one arm (`target=None`: source only) for about `steps` steps; returns the
    target test accuracy, the domain head's accuracy on source and target test digits, the
    steps the reversal layer counted, and the wall seconds."""
    import keras

    extra = 0 if target is None else len(target)
    images = source if target is None else np.concatenate([source, target])
    class_labels = np.concatenate([labels, np.zeros(extra, np.int32)])
    domains = np.concatenate([np.zeros(len(source)), np.ones(extra)])[:, None]
    class_weight = np.concatenate([np.ones(len(source)), np.zeros(extra)])
    domain_weight = np.full(len(images), 0.0 if target is None else 1.0)
    model = build(source.shape[1:], int(labels.max()) + 1, lam, steps, seed)
    model.compile(keras.optimizers.Adam(5e-4),
                  loss={"classes": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                        "domain": keras.losses.BinaryCrossentropy(from_logits=True)})
    batch_size = 64
    epochs = max(1, round(steps / (len(images) // batch_size)))
    start = time.time()
    model.fit(images, {"classes": class_labels, "domain": domains},
              sample_weight={"classes": class_weight, "domain": domain_weight},
              batch_size=batch_size, epochs=epochs, shuffle=True, verbose=0)
    wall = time.time() - start
    on_target = model.predict(target_test, batch_size=256, verbose=0)
    on_source = model.predict(source_test, batch_size=256, verbose=0)
    accuracy = float(np.mean(np.argmax(on_target["classes"], 1) == test_labels))
    domain_accuracy = 0.5 * (np.mean(on_target["domain"] > 0) + np.mean(on_source["domain"] < 0))
    counted = int(keras.ops.convert_to_numpy(model.get_layer("reversal").step))
    return accuracy, float(domain_accuracy), counted, wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--digits", default="mnist_csv:data/mnist_5k.csv.gz")
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--lambdas", default="0.1,0.3,1")
    parser.add_argument("--target_textures", type=int, default=3,
                        help="renderings (textures) of each unlabelled target training digit")
    parser.add_argument("--target", default="mnist_m",
                        help="target domain: mnist_m, colour or mnist_m_natural")
    parser.add_argument("--no_inversion", action="store_true",
                        help="train on the gray digits only (no inverted copies)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from keras_disent import data

    train = data.digit_domains(args.digits, "train", ("mnist", args.target))
    test = data.digit_domains(args.digits, "test", ("mnist", args.target))
    gray, labels = train.all_images("mnist", seed=args.seed)
    source = gray if args.no_inversion else np.concatenate([gray, 1.0 - gray])
    source_labels = labels if args.no_inversion else np.concatenate([labels, labels])
    target = np.concatenate([train.all_images(args.target, seed=args.seed + 10 + k)[0]
                             for k in range(args.target_textures)])
    target_test, test_labels = test.all_images(args.target, seed=args.seed + 1)
    source_test = test.all_images("mnist", seed=args.seed + 1)[0]
    print(f"| arm | lambda | target accuracy | domain head accuracy | steps | train s |  "
          f"({args.digits} -> {args.target}, inversion {not args.no_inversion}, seed "
          f"{args.seed})")
    print("|---|---|---|---|---|---|")
    arms = [("source-only CNN", None, 0.0)] + [
        ("DANN", target, float(v)) for v in args.lambdas.split(",")]
    for name, unlabelled, lam in arms:
        accuracy, domain_accuracy, counted, wall = run(
            source, source_labels, unlabelled, target_test, test_labels, source_test,
            args.steps, lam, args.seed)
        print(f"| {name} | {lam:g} | {accuracy:.3f} | {domain_accuracy:.3f} | {counted} | "
              f"{wall:.0f} |", flush=True)


if __name__ == "__main__":
    main()
