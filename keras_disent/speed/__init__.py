"""Backend-specific speed paths, in one place, behind one switch.

What lives here (each gives the same numbers as plain Keras, to float rounding):
  - `conv_layers.Conv2D` / `Conv2DTranspose`: drop-ins for Keras' conv layers that compute
    the 4x4 stride-2 "same" case as stride-1 convolutions over space-to-depth phases (JAX;
    on a CPU as matrix products) or with PyTorch's kernels on channels-last views (torch,
    `torch_conv.py`). Same variables and weights files as Keras' layers.
  - `call_network`: under torch, runs a chain-shaped functional network layer by layer,
    skipping `Layer.__call__`'s per-call bookkeeping (`network_call.py`).

The switch: `set_enabled(False)` (or `KERAS_DISENT_SPEED=off` in the environment before
the first model is built) makes every conv layer run Keras' own call and `call_network` call
the network as usual: plain Keras layers, for debugging or to compare. `disabled()` is the
same as a context manager. The switch is read when a step is traced (tensorflow, jax) or
run (torch): set it before building and compiling the model you compare.

Measured speed-ups are dated in README.md ("Performance") and bench/results/.
"""

import contextlib
import os

_ENABLED = [os.environ.get("KERAS_DISENT_SPEED", "on").lower() not in ("off", "0", "false")]


def enabled():
    """True when the speed paths run (the default)."""
    return _ENABLED[0]


def set_enabled(flag):
    """Turns the speed paths on (True) or off (False: plain Keras layers and calls)."""
    _ENABLED[0] = bool(flag)


@contextlib.contextmanager
def disabled():
    """Runs the body with plain Keras layers and calls."""
    previous = _ENABLED[0]
    _ENABLED[0] = False
    try:
        yield
    finally:
        _ENABLED[0] = previous


from keras_disent.speed.network_call import call_network  # noqa: E402

__all__ = ["call_network", "disabled", "enabled", "set_enabled"]
