"""Multi-backend training core: the ONLY package that imports tensorflow / jax / torch for training.

A model describes its update as a list of `Phase`s (loss function, variables, optimizer name);
`train_step` runs them with the current backend's autodiff:
  - tensorflow: `tf.GradientTape` per phase, `optimizer.apply`;
  - torch: `zero_grad(); loss.backward()`, then `optimizer.apply` under `torch.no_grad()`;
  - jax: stateless; each phase is `jax.value_and_grad` inside a `keras.StatelessScope`,
    `optimizer.stateless_apply` on that member's slice of the optimizer state, and the
    non-trainable state (BatchNorm statistics, SeedGenerator states, counters) of one phase is
    fed into the next. The new state is returned to Keras, which carries it between steps.
Backend-specific speed paths (faster conv layers, the torch layer-by-layer network call) are
not here: they live in `keras_disent.speed`, behind one switch.
"""

import keras

from keras_disent.training.optimizer_group import OptimizerGroup
from keras_disent.training.phase import Phase

__all__ = ["OptimizerGroup", "Phase", "data_parallel", "describe_optimizers",
           "enable_determinism", "input_gradient", "phase_optimizer", "test_step", "train_step"]


def enable_determinism():
    """Asks the current backend for its deterministic kernels; returns what was switched.

    tensorflow: `tf.config.experimental.enable_op_determinism()`; torch:
    `torch.use_deterministic_algorithms(True)` (on a GPU also `CUBLAS_WORKSPACE_CONFIG`);
    jax: deterministic on a CPU already; on a GPU, `--xla_gpu_deterministic_ops=true` is added
    to `XLA_FLAGS`, which only takes effect if JAX has not started its GPU backend yet.
    This changes the process: call it from programs that own theirs (the CLI's
    `--deterministic`, recipes), not from library code.
    """
    import os

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
        return "tf.config.experimental.enable_op_determinism()"
    if backend == "torch":
        import torch

        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        return "torch.use_deterministic_algorithms(True)"
    if backend == "jax":
        flags = os.environ.get("XLA_FLAGS", "")
        if "xla_gpu_deterministic_ops" not in flags:
            os.environ["XLA_FLAGS"] = (flags + " --xla_gpu_deterministic_ops=true").strip()
        return "XLA_FLAGS=--xla_gpu_deterministic_ops=true (GPU; the CPU is deterministic)"
    return "nothing"


def data_parallel(devices=None):
    """Trains the models built after this call on several devices at once (JAX only).

    Sets `keras.distribution.DataParallel` over `devices` (default: every device JAX sees):
    weights are replicated, each batch is split across the devices, gradients are averaged by
    XLA. Every keras-disent model trains this way unchanged, several-optimizer ones included
    (their steps are plain `jax.value_and_grad` inside the jitted step). The batch size must be
    a multiple of the number of devices. On a CPU, `XLA_FLAGS=
    --xla_force_host_platform_device_count=N` (set before JAX starts) gives N virtual devices;
    tests/test_data_parallel.py compares 2 of them with one device: the same losses to float
    rounding, from the same initial weights (Keras draws initial weights differently under a
    distribution, so a run is not bit-equal to a single-device run of the same seed).

    This changes the process (a global distribution): call it from programs that own theirs.

    Returns:
        the distribution set.
    """
    if keras.backend.backend() != "jax":
        raise RuntimeError(
            f"data_parallel needs the jax backend (Keras' distribution API), not "
            f"{keras.backend.backend()!r}: set KERAS_BACKEND=jax.")
    devices = list(keras.distribution.list_devices()) if devices is None else list(devices)
    if not devices:
        raise RuntimeError("JAX sees no devices to train on.")
    distribution = keras.distribution.DataParallel(devices=devices)
    keras.distribution.set_distribution(distribution)
    return distribution


def describe_optimizers(optimizer):
    """`{phase optimizer name: {"class", "learning_rate", other hyperparameters}}` for what a
    model trains with: its compiled optimizer, an `OptimizerGroup`, a dict of optimizers (as
    `default_optimizer` returns) or one optimizer (entry "model"). A run's provenance."""
    if optimizer is None:
        return {}
    if isinstance(optimizer, OptimizerGroup):
        members = optimizer.members
    elif isinstance(optimizer, dict):
        members = optimizer
    else:
        members = {"model": optimizer}
    described = {}
    for name, member in members.items():
        config = member.get_config()
        rate = float(keras.ops.convert_to_numpy(member.learning_rate))
        # The rate is a float32 variable: 7 significant digits give back the number set.
        record = {"class": type(member).__name__, "learning_rate": float(f"{rate:.7g}")}
        for key in ("beta_1", "beta_2", "epsilon", "clipnorm", "clipvalue", "global_clipnorm",
                    "weight_decay", "momentum"):
            if config.get(key) is not None:
                record[key] = config[key]
        described[name] = record
    return described


def phase_optimizer(model, phase):
    """The optimizer that updates `phase`: a member of the model's group, or the optimizer."""
    optimizer = model.optimizer
    if optimizer is None:
        raise ValueError("The model is not compiled: call model.compile(optimizer=...) first.")
    if phase.optimizer is None:
        if isinstance(optimizer, OptimizerGroup):
            raise ValueError(
                "This model's phase uses a single optimizer but was compiled with several: "
                "compile it with one optimizer."
            )
        return optimizer
    if not isinstance(optimizer, OptimizerGroup):
        raise ValueError(
            f"{type(model).__name__} trains with several optimizers; compile it with a dict "
            f"naming each one, e.g. optimizer={{{phase.optimizer!r}: keras.optimizers.Adam()}}."
        )
    return optimizer.members[phase.optimizer]


def _backend_module():
    backend = keras.backend.backend()
    if backend == "tensorflow":
        from keras_disent.training import _tensorflow as module
    elif backend == "jax":
        from keras_disent.training import _jax as module
    elif backend == "torch":
        from keras_disent.training import _torch as module
    else:
        raise NotImplementedError(
            f"keras-disent trains under tensorflow, jax or torch, not {backend!r}. "
            "Set KERAS_BACKEND to one of them."
        )
    return module


def train_step(model, *args):
    """Runs `model.training_phases()` once. JAX: `(state, data) -> (logs, state)`."""
    return _backend_module().train_step(model, *args)


def test_step(model, *args):
    """Evaluates `model.compute_losses(data, training=False)` and updates the trackers."""
    return _backend_module().test_step(model, *args)


def input_gradient(loss_fn, inputs):
    """The gradient of a scalar `loss_fn(inputs)` (written with keras.ops) with respect to the
    numpy array `inputs`, as numpy: what a gradient-sign attack needs. The model's weights are
    constants here; no state changes."""
    return _backend_module().input_gradient(loss_fn, inputs)
