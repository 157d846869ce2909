"""JAX train/test steps: stateless functions of the (trainable, non-trainable, optimizer,
metrics) state that Keras jits and threads between steps."""

import jax
import keras

from keras_disent.training.optimizer_group import OptimizerGroup


def default_platform():
    """"cpu", "gpu" or "tpu": where JAX puts arrays by default."""
    return jax.default_backend()


def _run_stateless(model, fn, trainable, non_trainable):
    """Calls `fn()` with the model's variables bound to the given values.

    Returns fn's result and the new non-trainable values (BatchNorm statistics, seeds, ...).
    """
    mapping = list(zip(model.trainable_variables, trainable))
    mapping += list(zip(model.non_trainable_variables, non_trainable))
    with keras.StatelessScope(state_mapping=mapping) as scope:
        result = fn()
    new_non_trainable = [scope.get_current_value(v) for v in model.non_trainable_variables]
    return result, new_non_trainable


def _update_trackers(model, metrics_values, logs):
    mapping = list(zip(model.metrics_variables, metrics_values))
    with keras.StatelessScope(state_mapping=mapping) as scope:
        results = model.update_trackers(logs)
    return results, [scope.get_current_value(v) for v in model.metrics_variables]


def _optimizer_state(model, phase, optimizer_values):
    """(optimizer, slice of `optimizer_values` it owns) for `phase`."""
    from keras_disent.training import phase_optimizer

    optimizer = phase_optimizer(model, phase)
    if isinstance(model.optimizer, OptimizerGroup):
        return optimizer, model.optimizer.member_slices()[phase.optimizer]
    return optimizer, slice(0, len(optimizer_values))


def train_step(model, state, data):
    trainable, non_trainable, optimizer_values, metrics_values = state
    trainable, non_trainable = list(trainable), list(non_trainable)
    optimizer_values = list(optimizer_values)
    position = {id(v): i for i, v in enumerate(model.trainable_variables)}
    logs = {}
    for phase in model.training_phases():
        indices = [position[id(v)] for v in phase.variables]

        def loss_fn(phase_values, non_trainable_values):
            values = list(trainable)
            for i, value in zip(indices, phase_values):
                values[i] = value
            (loss, phase_logs), new_non_trainable = _run_stateless(
                model, lambda: phase.loss_fn(data), values, non_trainable_values
            )
            return loss, (phase_logs, new_non_trainable)

        phase_values = [trainable[i] for i in indices]
        (_, (phase_logs, non_trainable)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            phase_values, non_trainable
        )
        optimizer, owned = _optimizer_state(model, phase, optimizer_values)
        new_values, optimizer_values[owned] = optimizer.stateless_apply(
            optimizer_values[owned], grads, phase_values
        )
        for i, value in zip(indices, new_values):
            trainable[i] = value
        logs.update(phase_logs)
    results, metrics_values = _update_trackers(model, metrics_values, logs)
    return results, (trainable, non_trainable, optimizer_values, metrics_values)


def test_step(model, state, data):
    trainable, non_trainable, metrics_values = state
    (_, logs), non_trainable = _run_stateless(
        model, lambda: model.compute_losses(data, training=False), trainable, non_trainable
    )
    results, metrics_values = _update_trackers(model, metrics_values, logs)
    return results, (trainable, non_trainable, metrics_values)


def input_gradient(loss_fn, inputs):
    import numpy as np

    return np.asarray(jax.grad(loss_fn)(jax.numpy.asarray(inputs)))
