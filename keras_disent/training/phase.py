"""A training phase: one loss, the variables it updates, and the optimizer that updates them."""

import dataclasses
from typing import Callable, Optional, Sequence


@dataclasses.dataclass(frozen=True)
class Phase:
    """One gradient update inside a train step.

    A model with a single optimizer has one phase over all its trainable variables. A GAN-style
    model (InfoGAN, FactorVAE, content transfer) returns several: e.g. a discriminator phase and
    a generator phase, run in order, each seeing the weights the previous phase produced.

    Attributes:
        loss_fn: `loss_fn(data) -> (scalar loss, dict of logs)`, written with `keras.ops` only.
        variables: the trainable variables this phase differentiates and updates.
        optimizer: member name inside an `OptimizerGroup`; `None` means `model.optimizer` itself.
    """

    loss_fn: Callable
    variables: Sequence
    optimizer: Optional[str] = None
