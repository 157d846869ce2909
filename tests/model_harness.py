"""The per-model test harness (in the spirit of keras-hub's `run_backbone_test` and
`run_model_saving_test`): every model class runs through the same checks of the model
contract on every backend. A new method joins by adding one `ModelCase` to
`tests/test_model_contract.py`.

Checks:
  - `run_config_test`: get_config survives JSON and rebuilds an equal model config;
  - `run_saving_test`: a trained model saved as `.keras` loads with equal codes, images and
    losses;
  - `run_fit_step_test`: one `fit` step moves every phase's weights, and each optimizer
    counts exactly one update;
  - `run_evaluate_test`: `evaluate` / `compute_losses(training=False)` change no state
    (weights, BatchNorm statistics, seed generators, counters, optimizer) and repeat exactly;
  - `run_numpy_api_test`: encode/decode/sample/reconstruct/traverse shapes and ranges, the
    code layout, capability errors, and bad-input errors.
"""

import dataclasses
import json
import os
from typing import Callable

import keras
import numpy as np
import pytest

from keras_disent import contract, training


@dataclasses.dataclass
class ModelCase:
    """One model configuration for the harness.

    Attributes:
        name: test id.
        build: `() -> model` (tiny: the whole harness must stay fast on a 2-core CPU).
        data: `(n, seed) -> what fit/evaluate take` (images, `(images, group)` or `(a, b)`).
        images: `(n, seed) -> images (n, H, W, C)` in [0, 1] for the numpy API.
        capabilities: what the model must declare.
        plain_labels: a classifier that trains on `(images, labels)`; False for one whose
            targets are nested (UFDN's `(images, (domain ids, labels))`, tested on its own).
    """

    name: str
    build: Callable
    data: Callable
    images: Callable
    capabilities: frozenset
    plain_labels: bool = True


def _numpy(value):
    return np.array(keras.ops.convert_to_numpy(value))


def state_variables(model):
    """Every variable whose value is model state: weights (trainable and not: BatchNorm
    statistics, counters), seed generator states, optimizer variables."""
    variables = list(model.weights)
    for value in vars(model).values():
        if isinstance(value, keras.random.SeedGenerator):
            variables.append(value.state)
    if getattr(model, "optimizer", None) is not None:
        variables += list(model.optimizer.variables)
    unique = {id(v): v for v in variables}
    return list(unique.values())


def snapshot(model):
    return [_numpy(v) for v in state_variables(model)]


def _losses(model, data):
    _, logs = model.compute_losses(_as_tensors(data), training=False)
    return {key: float(_numpy(value)) for key, value in logs.items()}


def _as_tensors(data):
    if isinstance(data, tuple):
        return tuple(_as_tensors(d) for d in data)
    return keras.ops.convert_to_tensor(data)


def _fit(model, data, batch_size):
    if isinstance(data, tuple):
        return model.fit(data[0], data[1], batch_size=batch_size, epochs=1, verbose=0)
    return model.fit(data, batch_size=batch_size, epochs=1, verbose=0)


def _evaluate(model, data, batch_size):
    if isinstance(data, tuple):
        return model.evaluate(data[0], data[1], batch_size=batch_size, verbose=0,
                              return_dict=True)
    return model.evaluate(data, batch_size=batch_size, verbose=0, return_dict=True)


def run_config_test(case):
    model = case.build()
    config = model.get_config()
    restored = json.loads(json.dumps(config))  # every value must be JSON
    clone = type(model).from_config(restored)
    assert clone.get_config() == config
    assert model.capabilities == case.capabilities
    assert set(model.capabilities) <= set(contract.CAPABILITIES)


def run_saving_test(case, tmp_path):
    model = case.build()
    model.compile(model.default_optimizer())
    data = case.data(8, 0)
    _fit(model, data, 8)
    path = os.path.join(str(tmp_path), "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(model)
    assert loaded.get_config() == model.get_config()
    images = case.images(5, 1)
    if contract.ENCODER in model.capabilities:
        np.testing.assert_allclose(loaded.encode(images), model.encode(images), atol=1e-5)
    if contract.DECODER in model.capabilities:
        codes = _codes(model, images)
        np.testing.assert_allclose(loaded.decode(codes), model.decode(codes), atol=1e-5)
    expected, got = _losses(model, data), _losses(loaded, data)
    assert got.keys() == expected.keys()
    for key in expected:
        assert got[key] == pytest.approx(expected[key], rel=1e-4, abs=1e-5), key
    # The optimizer(s) come back too: same classes and learning rates.
    assert training.describe_optimizers(loaded.optimizer) == \
        training.describe_optimizers(model.optimizer)


def run_fit_step_test(case):
    model = case.build()
    model.compile(model.default_optimizer())
    phases = model.training_phases()
    before = {i: [_numpy(v) for v in phase.variables] for i, phase in enumerate(phases)}
    history = _fit(model, case.data(8, 0), 8)
    assert set(history.history) == set(model.log_keys)
    for key, values in history.history.items():
        assert np.isfinite(values).all(), key
    for i, phase in enumerate(phases):
        after = [_numpy(v) for v in phase.variables]
        moved = sum(not np.array_equal(b, a) for b, a in zip(before[i], after))
        assert moved > 0, f"phase {phase.optimizer or i} moved no weight"
    optimizer = model.optimizer
    members = optimizer.members if isinstance(optimizer, training.OptimizerGroup) else \
        {"model": optimizer}
    used = {phase.optimizer or "model" for phase in phases}
    assert set(members) == used
    for name, member in members.items():
        assert int(_numpy(member.iterations)) == 1, name


def run_evaluate_test(case):
    model = case.build()
    model.compile(model.default_optimizer())
    data = case.data(8, 0)
    _fit(model, data, 8)  # optimizer state and trained BatchNorm statistics exist
    before = snapshot(model)
    first = _evaluate(model, data, 4)
    second = _evaluate(model, data, 4)
    assert first == pytest.approx(second, rel=1e-5, abs=1e-6)
    losses = _losses(model, data)
    assert losses == _losses(model, data)
    after = snapshot(model)
    names = [v.path for v in state_variables(model)]
    changed = [n for n, b, a in zip(names, before, after) if not np.array_equal(b, a)]
    assert not changed, f"evaluate/compute_losses changed state: {changed}"


def _codes(model, images):
    if contract.ENCODER in model.capabilities:
        return model.encode(images)
    return np.random.default_rng(0).standard_normal(
        (len(images), model.code_dim)).astype("float32")


def run_numpy_api_test(case):
    model = case.build()
    images = case.images(7, 2)
    n = len(images)
    layout = model.code_layout()
    assert sum(part.size for part in layout) == model.code_dim
    assert len({part.name for part in layout}) == len(layout)
    assert len(model.describe_code().splitlines()) == len(layout)
    caps = model.capabilities

    if contract.ENCODER in caps:
        codes = model.encode(images)
        assert codes.shape == (n, model.code_dim) and codes.dtype == np.float32
        assert np.isfinite(codes).all()
        # batching pads the last batch: results do not depend on the batch size
        np.testing.assert_allclose(model.encode(images, batch_size=3), codes, atol=1e-5)
        with pytest.raises(ValueError, match="dtype uint8"):
            model.encode((images * 255).astype("uint8"))
        with pytest.raises(ValueError, match="single image"):
            model.encode(images[0])
        with pytest.raises(ValueError, match="must have shape"):
            model.encode(np.zeros((2, 3, 3, 1), "float32"))
        with pytest.raises(ValueError, match="batch_size must be a positive integer"):
            model.encode(images, batch_size=0)
        activity, label = model.latent_activity(images)
        assert activity.shape == (model.code_dim,) and isinstance(label, str)
    else:
        with pytest.raises(contract.MissingCapabilityError, match="'encoder' capability"):
            model.encode(images)

    if contract.DECODER in caps:
        codes = _codes(model, images)
        decoded = model.decode(codes)
        assert decoded.shape == images.shape
        assert decoded.min() >= 0.0 and decoded.max() <= 1.0
        np.testing.assert_allclose(model.decode(codes, batch_size=2), decoded, atol=1e-5)
        with pytest.raises(ValueError, match=rf"must have shape \(n, {model.code_dim}\)"):
            model.decode(np.zeros((2, model.code_dim + 1), "float32"))
        with pytest.raises(ValueError, match="NaN or inf"):
            model.decode(np.full((1, model.code_dim), np.nan, "float32"))
        net = model.decoder_network()
        np.testing.assert_allclose(_numpy(net(codes)), decoded, atol=1e-5)
    if {contract.ENCODER, contract.DECODER} <= caps:
        assert model.reconstruct(images).shape == images.shape
        if contract.ENCODER in caps:
            np.testing.assert_allclose(_numpy(model.encoder_network()(images)),
                                       model.encode(images), atol=1e-5)

    if contract.PRIOR in caps:
        samples = model.sample(3, seed=4)
        assert samples.shape == (3,) + images.shape[1:]
        np.testing.assert_allclose(model.sample(3, seed=4), samples, atol=1e-6)
        assert model.sample_codes(3, seed=4).shape == (3, model.code_dim)
        for bad in (0, -1, 2.5):
            with pytest.raises(ValueError, match="positive integer"):
                model.sample(bad)
    else:
        with pytest.raises(contract.MissingCapabilityError, match="'prior' capability"):
            model.sample(2)

    if contract.CLASSIFIER in caps:
        probabilities = model.class_probabilities(images)
        assert probabilities.shape == (n, model.num_classes)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
        np.testing.assert_allclose(model.class_probabilities(images), probabilities, atol=1e-6)
        predicted = model.predict_labels(images)
        assert predicted.shape == (n,) and predicted.dtype == np.int32
        np.testing.assert_array_equal(predicted, probabilities.argmax(axis=1))
    if contract.CLASSIFIER in caps and case.plain_labels:
        model.compile(model.default_optimizer())
        with pytest.raises(ValueError, match=r"trains on \(images, labels\)"):
            model.fit(images, batch_size=n, epochs=1, verbose=0)
        with pytest.raises(ValueError, match=rf"must be in 0..{model.num_classes - 1}"):
            model.fit(images, np.full(n, model.num_classes), batch_size=n, verbose=0)
        with pytest.raises(ValueError, match="whole class indices"):
            model.fit(images, np.full(n, 0.5), batch_size=n, verbose=0)
        with pytest.raises(ValueError, match="one-hot"):
            model.fit(images, np.eye(model.num_classes)[np.zeros(n, int)], batch_size=n,
                      verbose=0)
    if contract.CLASSIFIER not in caps:
        with pytest.raises(contract.MissingCapabilityError, match="'classifier' capability"):
            model.class_probabilities(images)

    if contract.TRAVERSABLE in caps:
        dims = model.traversable_dims()
        assert dims
        values = np.linspace(-1.0, 1.0, 3)
        sweep = model.traverse(images[0], dims=dims[:2], values=values)
        assert sweep.shape == (len(dims[:2]), 3) + images.shape[1:]
        code = model.encode(images[:1])
        code[0, dims[0]] = values[-1]
        np.testing.assert_allclose(sweep[0, -1], model.decode(code)[0], atol=1e-5)
        hidden = sorted(set(range(model.code_dim)) - set(dims))
        if hidden:
            with pytest.raises(ValueError, match="not traversable"):
                model.traverse(images[0], dims=[hidden[0]])
    else:
        with pytest.raises(contract.MissingCapabilityError, match="'traversable' capability"):
            model.traverse(images[0])
