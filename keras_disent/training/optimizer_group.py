"""`OptimizerGroup`: several optimizers compiled as one, so every backend carries their state.

Why: under JAX, Keras threads only `model.optimizer.variables` through the jitted train step.
A second optimizer kept as a plain attribute either fails inside the step (`apply`) or silently
never persists (`stateless_apply` on its own variables: iterations stay 0). Compiling the group
as the model's optimizer makes its `variables` the concatenation of the members' variables, so
the JAX step can split that state per member and the TF/torch steps can call members directly.
"""

import keras


@keras.saving.register_keras_serializable(package="keras_disent")
class OptimizerGroup(keras.optimizers.Optimizer):
    """Named optimizers that act as one `model.optimizer`.

    Args:
        optimizers: dict mapping a phase's optimizer name to a `keras.optimizers.Optimizer`.
        name: optimizer name.

    Each member is built with the variables of the model phase that names it; the model passes
    `variables_fn` (name -> list of variables) when it compiles with a dict of optimizers.

    Example:
        >>> model.compile(optimizer={"d": keras.optimizers.Adam(2e-4),
        ...                          "g": keras.optimizers.Adam(1e-3)})
    """

    def __init__(self, optimizers, name="optimizer_group", variables_fn=None, **kwargs):
        super().__init__(learning_rate=0.0, name=name, **kwargs)
        if not optimizers:
            raise ValueError("OptimizerGroup needs at least one optimizer, got none.")
        self.members = {}
        for key, optimizer in optimizers.items():
            if isinstance(optimizer, (str, dict)):
                optimizer = keras.optimizers.get(optimizer)
            if not isinstance(optimizer, keras.optimizers.Optimizer):
                raise TypeError(
                    f"OptimizerGroup member {key!r} must be a keras Optimizer, got {optimizer!r}."
                )
            self.members[key] = optimizer
        self._variables_fn = variables_fn

    def bind(self, variables_fn):
        """Sets the function `() -> {name: variables}` used to build the members."""
        self._variables_fn = variables_fn

    def build(self, var_list=None):
        if self._variables_fn is None:
            raise ValueError(
                "OptimizerGroup must be bound to a model (compile the model with it) before "
                "it is built: its members update different variable subsets."
            )
        groups = self._variables_fn()
        missing = set(self.members) - set(groups)
        if missing:
            raise ValueError(
                f"The model has no training phase for optimizer(s) {sorted(missing)}; "
                f"its phases use {sorted(groups)}."
            )
        for key, optimizer in self.members.items():
            if not optimizer.built:
                optimizer.build(list(groups[key]))
        self.built = True

    @property
    def variables(self):
        variables = []
        for optimizer in self.members.values():
            variables.extend(optimizer.variables)
        return variables

    @property
    def iterations(self):
        """Iterations of the first member (each member keeps its own count)."""
        return next(iter(self.members.values())).iterations

    def member_slices(self):
        """`{name: slice}` locating each member's variables inside `self.variables`."""
        slices, start = {}, 0
        for key, optimizer in self.members.items():
            stop = start + len(optimizer.variables)
            slices[key] = slice(start, stop)
            start = stop
        return slices

    def apply(self, grads, trainable_variables=None):
        raise NotImplementedError(
            "An OptimizerGroup applies gradients per member: use group.members[name].apply(...)."
        )

    def get_config(self):
        return {
            "name": self.name,
            "optimizers": {
                key: keras.saving.serialize_keras_object(optimizer)
                for key, optimizer in self.members.items()
            },
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        optimizers = {
            key: keras.saving.deserialize_keras_object(value, custom_objects=custom_objects)
            for key, value in config["optimizers"].items()
        }
        return cls(optimizers, name=config.get("name", "optimizer_group"))
