"""Forward + backward time of each conv layer of the Burgess'18 VAE, per implementation.

Usage: KERAS_BACKEND=tensorflow|jax|torch python bench/conv_forms.py [--batch-size 64 --reps 20]

For each of the 8 stride-2 layers (4 Conv2D of the encoder, 4 Conv2DTranspose of the decoder)
and each `keras_disent.speed.conv_layers` implementation the backend can run ("native", "phases",
"matmul", and "torch" under torch), times one jitted/compiled forward + backward: the gradient
of sum(outputs * g) with respect to the layer's weights and, except for the first encoder
layer (its input is the images), its input. Prints milliseconds (median of `--reps`) and the
8 layers' total per implementation: what `implementation="auto"` is chosen from.
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from keras_disent import process  # noqa: E402

process.configure()  # this script owns its process: before keras starts

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_disent.speed import conv_layers as kd_layers  # noqa: E402

LAYERS = [("conv0", kd_layers.Conv2D, (64, 64, 1), 32, False),
          ("conv1", kd_layers.Conv2D, (32, 32, 32), 32, True),
          ("conv2", kd_layers.Conv2D, (16, 16, 32), 32, True),
          ("conv3", kd_layers.Conv2D, (8, 8, 32), 32, True),
          ("deconv0", kd_layers.Conv2DTranspose, (4, 4, 32), 32, True),
          ("deconv1", kd_layers.Conv2DTranspose, (8, 8, 32), 32, True),
          ("deconv2", kd_layers.Conv2DTranspose, (16, 16, 32), 32, True),
          ("deconv3", kd_layers.Conv2DTranspose, (32, 32, 32), 1, True)]


def backward_fn(layer, x, g, input_grad):
    """A no-argument function running forward + backward once, waiting for the result."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        def loss(weights, inputs):
            outputs, _ = layer.stateless_call(weights, [], inputs)
            return (outputs * g).sum()

        grad = jax.jit(jax.grad(loss, argnums=(0, 1) if input_grad else 0))
        weights = [v.value for v in layer.trainable_variables]
        return lambda: jax.block_until_ready(grad(weights, x))
    if backend == "tensorflow":
        import tensorflow as tf

        x, g = tf.constant(x), tf.constant(g)

        @tf.function
        def step():
            with tf.GradientTape() as tape:
                tape.watch(x)
                loss = tf.reduce_sum(layer(x) * g)
            sources = list(layer.trainable_variables) + ([x] if input_grad else [])
            return tape.gradient(loss, sources)

        return lambda: [t.numpy() for t in step()]
    import torch

    x = torch.tensor(x, requires_grad=input_grad)
    g = torch.tensor(g)

    def step():
        for variable in layer.trainable_variables:
            variable.value.grad = None
        (layer(x) * g).sum().backward()

    return step


def median_ms(fn, reps):
    for _ in range(3):
        fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--reps", type=int, default=20)
    args = parser.parse_args()
    backend = keras.backend.backend()
    forms = ["native", "phases", "matmul"] + (["torch"] if backend == "torch" else [])
    rng = np.random.default_rng(0)
    totals = dict.fromkeys(forms, 0.0)
    auto = kd_layers._implementation(kd_layers.Conv2D(1, 4, strides=2, padding="same"))
    print(f"conv layers forward + backward, backend={backend}, batch {args.batch_size}, ms "
          f"(\"auto\" picks {auto!r} here)")
    print(f"{'layer':>8} | " + " | ".join(f"{form:>7}" for form in forms))
    for name, cls, shape, filters, input_grad in LAYERS:
        shape = (args.batch_size,) + shape
        x = rng.standard_normal(shape).astype("float32")
        row = []
        for form in forms:
            layer = cls(filters, 4, strides=2, padding="same", implementation=form)
            layer.build(shape)
            g = rng.standard_normal(layer.compute_output_shape(shape)).astype("float32")
            milliseconds = median_ms(backward_fn(layer, x, g, input_grad), args.reps)
            totals[form] += milliseconds
            row.append(milliseconds)
        print(f"{name:>8} | " + " | ".join(f"{ms:7.2f}" for ms in row))
    print(f"{'total':>8} | " + " | ".join(f"{totals[form]:7.1f}" for form in forms))


if __name__ == "__main__":
    main()
