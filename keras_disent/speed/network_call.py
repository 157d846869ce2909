"""Calling a chain-shaped network layer by layer under PyTorch, past Keras' per-call bookkeeping.

Under the torch backend a step runs eagerly, and every `Layer.__call__` spends Python time
before the layer computes anything: input dtype conversion, binding the call signature,
checking the input spec, resolving the `training` flag and masks, opening name scopes. The
Burgess'18 VAE makes 30 such calls per forward pass (encoder and decoder each a functional
model of 14-15 layers). TensorFlow and JAX trace the step once, so they pay this only while tracing and keep Keras'
call.

`call_network` runs a network whose graph is a plain chain (one input, each layer fed by the
one before it, one output) as `layer.call(x[, training=...])` in order: the same layers,
weights and arithmetic, without the bookkeeping. It falls back to `network(x,
training=training)` for anything else: another backend, a subclassed or branching model, a
layer that makes masks, has an activity regularizer or needs arguments besides its input
(`training` is passed; an optional `mask` is left at None), mixed precision, an input that
is not a tensor (numpy) or carries a mask, or an input whose dtype is not the layers' compute dtype.
"""

import inspect
import weakref

import keras

# network -> tuple of (layer, takes_training) for a chain, or None for a network that is not
# one. Weak keys: a network that is garbage-collected leaves no entry behind.
_CHAINS = weakref.WeakKeyDictionary()


def call_network(network, inputs, training=False):
    """`network(inputs, training=training)`; under torch, layer by layer for a chain (unless
    the speed paths are switched off: `keras_disent.speed.set_enabled(False)`)."""
    from keras_disent import speed

    if keras.backend.backend() != "torch" or not speed.enabled():
        return network(inputs, training=training)
    chain = _chain(network)
    if (chain is None or not keras.ops.is_tensor(inputs)
            or keras.backend.standardize_dtype(inputs.dtype) != network.compute_dtype
            or getattr(inputs, "_keras_mask", None) is not None):
        return network(inputs, training=training)
    outputs = inputs
    for layer, takes_training in chain:
        outputs = layer.call(outputs, training=training) if takes_training else layer.call(outputs)
    return outputs


def _chain(network):
    try:
        return _CHAINS[network]
    except KeyError:
        chain = _find_chain(network)
        if network.built:  # an unbuilt network may become a chain once built: ask again then
            _CHAINS[network] = chain
        return chain


def _find_chain(network):
    """The (layer, takes_training) pairs of a built single-path functional model, else None."""
    if not isinstance(network, keras.Model) or not network.built:
        return None
    try:
        model_inputs, model_outputs = network.inputs, network.outputs
    except (AttributeError, ValueError):  # a subclassed model has no graph
        return None
    if not model_inputs or len(model_inputs) != 1 or len(model_outputs) != 1:
        return None
    layers = [layer for layer in network.layers if not isinstance(layer, keras.layers.InputLayer)]
    previous = model_inputs[0]
    chain = []
    for layer in layers:
        takes_training = _plain_layer(layer, network.compute_dtype)
        if takes_training is None or layer.input is not previous:
            return None
        previous = layer.output
        chain.append((layer, takes_training))
    if previous is not model_outputs[0]:
        return None
    return tuple(chain)


def _plain_layer(layer, compute_dtype):
    """Whether `layer.call` takes `training` (True/False), or None when calling it directly
    would skip something `Layer.__call__` does for it."""
    if not layer.built or layer.activity_regularizer is not None:
        return None
    if layer.compute_dtype != compute_dtype or layer.variable_dtype != compute_dtype:
        return None
    if type(layer).compute_mask is not keras.layers.Layer.compute_mask:
        return None  # it makes masks (Masking, Embedding): `__call__` passes them on
    parameters = list(inspect.signature(layer.call).parameters.values())
    if not parameters or parameters[0].kind not in (inspect.Parameter.POSITIONAL_ONLY,
                                                    inspect.Parameter.POSITIONAL_OR_KEYWORD):
        return None
    takes_training = False
    for parameter in parameters[1:]:
        if parameter.name == "training":
            takes_training = True
        elif parameter.name == "mask" and parameter.default is not None:
            return None
        elif parameter.default is inspect.Parameter.empty and parameter.kind not in (
                parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            return None
    return takes_training
