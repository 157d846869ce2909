"""PyTorch train/test steps: eager autograd, optimizer updates under `torch.no_grad()`."""

import torch


def train_step(model, data):
    from keras_disent.training import phase_optimizer

    logs = {}
    for phase in model.training_phases():
        variables = list(phase.variables)
        # Only this phase's gradients are read, so only they are cleared: `model.zero_grad()`
        # walked every submodule and cost time on every step. A gradient of a variable outside the
        # phase is never read (each phase reads `.grad` of its own variables only).
        for variable in variables:
            variable.value.grad = None
        loss, phase_logs = phase.loss_fn(data)
        loss.backward()
        grads = [v.value.grad for v in variables]
        with torch.no_grad():
            phase_optimizer(model, phase).apply(grads, variables)
        logs.update({k: v.detach() for k, v in phase_logs.items()})
    with torch.no_grad():
        return model.update_trackers(logs)


def test_step(model, data):
    _, logs = model.compute_losses(data, training=False)
    return model.update_trackers(logs)


def input_gradient(loss_fn, inputs):
    import keras

    x = keras.ops.convert_to_tensor(inputs).detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(loss_fn(x), [x])
    return grad.detach().cpu().numpy()
