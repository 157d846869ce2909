"""keras_disent.training.call_network: the chain fast path gives Keras' numbers, or steps aside."""

import keras
import numpy as np
import pytest
from keras import layers

from helpers import gradient, tiny_beta_vae
from keras_disent.speed import call_network
from keras_disent.speed.network_call import _find_chain


def numpy(tensor):
    return keras.ops.convert_to_numpy(keras.ops.stop_gradient(tensor))


def images(n=4):
    """A backend tensor: numpy input takes Keras' call (it converts it)."""
    return keras.ops.convert_to_tensor(
        np.random.default_rng(0).uniform(size=(n, 64, 64, 1)).astype("float32"))


def test_vae_networks_are_chains_and_bn_layers_get_training():
    model = tiny_beta_vae(batch_norm=True)
    encoder_chain = _find_chain(model.encoder)
    assert [layer.name for layer, _ in encoder_chain] == [
        layer.name for layer in model.encoder.layers[1:]]
    takes_training = {layer.name for layer, flag in encoder_chain if flag}
    assert {"conv0_bn", "dense0_bn"} <= takes_training
    assert "conv0" not in takes_training
    assert _find_chain(model.decoder) is not None


@pytest.mark.parametrize("training", [False, True])
def test_same_outputs_and_batch_norm_updates_as_keras_call(training):
    ours, theirs = tiny_beta_vae(batch_norm=True), tiny_beta_vae(batch_norm=True)
    theirs.set_weights(ours.get_weights())
    x = images()
    np.testing.assert_allclose(numpy(call_network(ours.encoder, x, training)),
                               numpy(theirs.encoder(x, training=training)), atol=1e-5)
    for mine, keras_weights in zip(ours.encoder.non_trainable_weights,
                                   theirs.encoder.non_trainable_weights):
        np.testing.assert_allclose(numpy(mine), numpy(keras_weights), atol=1e-6)
    moved = not np.allclose(numpy(ours.encoder.get_layer("conv0_bn").moving_mean), 0.0)
    assert moved == training  # training=True really reached BatchNormalization


def test_same_input_gradient_as_keras_call():
    model = tiny_beta_vae()
    x = numpy(images(2))
    weights = np.random.default_rng(1).standard_normal((2, 8)).astype("float32")

    def loss(call):
        return lambda value: keras.ops.sum(call(value) * keras.ops.convert_to_tensor(weights))

    np.testing.assert_allclose(
        gradient(loss(lambda v: call_network(model.encoder, v, True)), x),
        gradient(loss(lambda v: model.encoder(v, training=True)), x), atol=1e-5)


def test_torch_fast_path_skips_layer_call(monkeypatch):
    """Under torch no `Layer.__call__` runs (the point of it); elsewhere Keras' call runs."""
    model = tiny_beta_vae()
    x = images(2)
    expected = numpy(model.decoder(model.encoder(x)[:, :4]))
    calls = []
    original = keras.layers.Layer.__call__

    def counting_call(self, *args, **kwargs):
        calls.append(self.name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(keras.layers.Layer, "__call__", counting_call)
    decoded = call_network(model.decoder, call_network(model.encoder, x)[:, :4])
    np.testing.assert_allclose(numpy(decoded), expected, atol=1e-5)
    if keras.backend.backend() == "torch":
        assert calls == []
    else:
        assert "encoder" in calls and "decoder" in calls


def test_branching_masking_and_subclassed_networks_are_called_as_usual():
    inputs = keras.Input((6,))
    branch = layers.Concatenate()([layers.Dense(3)(inputs), layers.Dense(2)(inputs)])
    branching = keras.Model(inputs, branch)
    assert _find_chain(branching) is None
    x = np.random.default_rng(2).standard_normal((5, 6)).astype("float32")
    np.testing.assert_allclose(numpy(call_network(branching, x)), numpy(branching(x)),
                               atol=1e-6)

    sequence = keras.Input((4, 3))
    masked = keras.Model(sequence, layers.LSTM(2)(layers.Masking(0.0)(sequence)))
    assert _find_chain(masked) is None

    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    subclassed = Subclassed()
    subclassed(x)
    assert _find_chain(subclassed) is None
    np.testing.assert_allclose(numpy(call_network(subclassed, x)), numpy(subclassed(x)),
                               atol=1e-6)


def test_shared_layer_breaks_the_chain():
    shared = layers.Dense(4)
    inputs = keras.Input((4,))
    model = keras.Model(inputs, shared(layers.ReLU()(shared(inputs))))
    assert _find_chain(model) is None
