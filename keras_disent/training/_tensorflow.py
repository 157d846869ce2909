"""TensorFlow train/test steps (Keras wraps them in `tf.function`)."""

import tensorflow as tf

from keras_disent.training.phase import Phase  # noqa: F401  (documentation)


def train_step(model, data):
    from keras_disent.training import phase_optimizer

    logs = {}
    for phase in model.training_phases():
        with tf.GradientTape() as tape:
            loss, phase_logs = phase.loss_fn(data)
        variables = list(phase.variables)
        grads = tape.gradient(loss, variables)
        phase_optimizer(model, phase).apply(grads, variables)
        logs.update(phase_logs)
    return model.update_trackers(logs)


def test_step(model, data):
    _, logs = model.compute_losses(data, training=False)
    return model.update_trackers(logs)


def input_gradient(loss_fn, inputs):
    x = tf.convert_to_tensor(inputs)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = loss_fn(x)
    return tape.gradient(loss, x).numpy()
