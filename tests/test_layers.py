"""keras_disent.speed.conv_layers: same outputs, gradients and weights files as Keras' conv layers."""

import os

import keras
import numpy as np
import pytest
from keras import layers

from helpers import gradient
from keras_disent.speed import conv_layers as kd_layers

def numpy(tensor):
    return keras.ops.convert_to_numpy(keras.ops.stop_gradient(tensor))


# The "matmul" arrangement depends on the stride-1 convolution's channels in and out: input
# patches when in <= out, output taps when in > out. Conv2D's phase convolution reads 4x the
# input channels, Conv2DTranspose's writes 4x the filters; these cases take both arrangements.
CASES = [(kd_layers.Conv2D, layers.Conv2D, (3, 8, 8, 5), 6),  # 20 in > 6 out: taps
         (kd_layers.Conv2D, layers.Conv2D, (2, 6, 4, 1), 8),  # 4 in <= 8 out: patches
         (kd_layers.Conv2DTranspose, layers.Conv2DTranspose, (3, 4, 4, 5), 6),  # patches
         (kd_layers.Conv2DTranspose, layers.Conv2DTranspose, (2, 3, 5, 2), 1),  # patches
         (kd_layers.Conv2DTranspose, layers.Conv2DTranspose, (2, 4, 3, 8), 1)]  # taps


@pytest.mark.parametrize("implementation", ["matmul", "phases", "auto"])
@pytest.mark.parametrize("ours, theirs, shape, filters", CASES)
def test_implementations_match_keras_values_and_gradients(ours, theirs, shape, filters,
                                                          implementation):
    """"auto" is the torch kernel under torch, matmul under JAX on CPU, Keras' call under TF."""
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    native = theirs(filters, 4, strides=2, padding="same", activation="relu")
    native.build(shape)
    phases = ours(filters, 4, strides=2, padding="same", implementation=implementation,
                  activation="relu")
    phases.build(shape)
    phases.set_weights([w + 0.0 for w in native.get_weights()])
    expected = numpy(native(x))
    np.testing.assert_allclose(numpy(phases(x)), expected, atol=1e-5)
    weights = np.random.default_rng(1).standard_normal(expected.shape).astype("float32")

    def loss(layer):
        return lambda value: keras.ops.sum(layer(value) * keras.ops.convert_to_tensor(weights))

    np.testing.assert_allclose(gradient(loss(phases), x), gradient(loss(native), x), atol=1e-4)


def test_weights_files_are_interchangeable_with_keras_layers(tmp_path):
    def network(conv, deconv):
        inputs = keras.Input((8, 8, 1))
        x = conv(4, 4, strides=2, padding="same", name="conv0")(inputs)
        return keras.Model(inputs, deconv(1, 4, strides=2, padding="same", name="deconv0")(x))

    original = network(layers.Conv2D, layers.Conv2DTranspose)
    path = os.path.join(str(tmp_path), "w.weights.h5")
    original.save_weights(path)
    ours = network(kd_layers.Conv2D, kd_layers.Conv2DTranspose)
    ours.load_weights(path)
    x = np.random.default_rng(2).standard_normal((2, 8, 8, 1)).astype("float32")
    np.testing.assert_allclose(numpy(ours(x)),
                               numpy(original(x)), atol=1e-5)


def test_auto_picks_the_measured_fastest_per_backend():
    layer = kd_layers.Conv2D(4, 4, strides=2, padding="same")
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        expected = "matmul" if jax.default_backend() == "cpu" else "phases"
    else:
        expected = {"torch": "torch", "tensorflow": "native"}[backend]
    assert kd_layers._implementation(layer) == expected
    assert kd_layers._implementation(kd_layers.Conv2D(4, 3, padding="same")) == "native"


def test_set_implementation_reaches_every_conv_of_a_model():
    from keras_disent.models import BetaVAE

    model = BetaVAE(latent_dim=3, seed=0)
    assert kd_layers.set_implementation(model, "native") == 8  # 4 convs + 4 transposed
    convs = [l for l in model._flatten_layers() if hasattr(l, "implementation")]
    assert len(convs) == 8 and {l.implementation for l in convs} == {"native"}
    with pytest.raises(ValueError, match="implementation must be one of"):
        kd_layers.set_implementation(model, "fast")


def test_unsupported_configurations_fall_back_and_bad_names_fail():
    layer = kd_layers.Conv2D(2, 3, strides=1, padding="same", implementation="phases")
    x = np.ones((1, 6, 6, 1), "float32")
    assert layer(x).shape == (1, 6, 6, 2)
    with pytest.raises(ValueError, match="implementation must be one of"):
        kd_layers.Conv2DTranspose(2, 4, implementation="fast")
    config = kd_layers.Conv2DTranspose(2, 4, implementation="native").get_config()
    assert kd_layers.Conv2DTranspose.from_config(config).implementation == "native"
