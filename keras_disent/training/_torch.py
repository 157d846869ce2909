"""PyTorch train/test steps: eager autograd, optimizer updates under `torch.no_grad()`."""

import torch


def train_step(model, data):
    from keras_disent.training import phase_optimizer

    logs = {}
    for phase in model.training_phases():
        model.zero_grad(set_to_none=True)
        loss, phase_logs = phase.loss_fn(data)
        loss.backward()
        variables = list(phase.variables)
        grads = [v.value.grad for v in variables]
        with torch.no_grad():
            phase_optimizer(model, phase).apply(grads, variables)
        logs.update({k: v.detach() for k, v in phase_logs.items()})
    with torch.no_grad():
        return model.update_trackers(logs)


def test_step(model, data):
    _, logs = model.compute_losses(data, training=False)
    return model.update_trackers(logs)
