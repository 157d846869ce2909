"""Multi-device training (`training.data_parallel`): 2 virtual CPU devices against one device.

The device count of JAX is fixed when it starts, so the comparison runs in a child process
with `XLA_FLAGS=--xla_force_host_platform_device_count=2`. Run once, in the jax pass of the
suite (the child always uses jax).
"""

import json
import os
import subprocess
import sys

import keras
import pytest

CHILD = r'''
import json, os, sys
import numpy as np, keras
from keras_disent import training
from keras_disent.models import BetaVAE, FactorVAE

def build(cls):
    tiny = dict(latent_dim=3, image_shape=(32, 32, 1), conv_channels=(8, 8, 8, 8),
                dense_units=(16,), seed=3)
    if cls is FactorVAE:
        return FactorVAE(discriminator_units=8, discriminator_depth=2, **tiny)
    return BetaVAE(**tiny)

x = (np.random.default_rng(0).random((64, 32, 32, 1)) > 0.7).astype("float32")
results = {}
for cls in (BetaVAE, FactorVAE):
    keras.distribution.set_distribution(None)
    single = build(cls)
    path = os.path.join(sys.argv[1], cls.__name__ + ".weights.h5")
    single.save_weights(path)
    single.compile(single.default_optimizer(1e-3))
    one = single.fit(x, batch_size=16, epochs=3, verbose=0, shuffle=False).history["loss"]
    distribution = training.data_parallel()
    parallel = build(cls)
    parallel.load_weights(path)
    parallel.compile(parallel.default_optimizer(1e-3))
    two = parallel.fit(x, batch_size=16, epochs=3, verbose=0, shuffle=False).history["loss"]
    mesh = parallel.trainable_variables[0].value.sharding.mesh
    results[cls.__name__] = {"one": one, "two": two, "devices": int(mesh.size)}
print("RESULT " + json.dumps(results))
'''


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="runs once, in the jax pass")
def test_two_devices_give_the_single_device_losses(tmp_path):
    env = dict(os.environ, KERAS_BACKEND="jax",
               XLA_FLAGS="--xla_force_host_platform_device_count=2")
    done = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    line = [l for l in done.stdout.splitlines() if l.startswith("RESULT ")][-1]
    results = json.loads(line[len("RESULT "):])
    for name, result in results.items():
        assert result["devices"] == 2, name
        assert result["two"] == pytest.approx(result["one"], rel=1e-5), name


def test_data_parallel_refuses_other_backends():
    from keras_disent import training

    if keras.backend.backend() == "jax":
        pytest.skip("the jax backend supports it")
    with pytest.raises(RuntimeError, match="data_parallel needs the jax backend"):
        training.data_parallel()
