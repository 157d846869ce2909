"""keras_disent.allocator: glibc malloc settings only where keras-disent owns the process."""

import os
import subprocess
import sys

import pytest

from keras_disent import allocator

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(code):
    env = {k: v for k, v in os.environ.items() if k != "KERAS_DISENT_MALLOC"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300, cwd=ROOT, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip().splitlines()[-1]


@linux_only
def test_import_changes_nothing_in_the_host_process():
    # A library must not tune the allocator (or import a backend) of the program that
    # imports it: importing the package and building a model leaves glibc's defaults.
    code = ("import sys, keras_disent\n"
            "from keras_disent import allocator, models\n"
            "models.BetaVAE(latent_dim=2, conv_channels=(4, 4, 4, 4), dense_units=(8,))\n"
            "print(allocator.applied)")
    assert _run(code) == "False"


def test_bare_import_does_not_import_keras():
    assert _run("import sys, keras_disent; print('keras' in sys.modules)") == "False"


@linux_only
def test_the_command_line_applies_them():
    code = ("import sys; from keras_disent import allocator, cli\n"
            "sys.argv = ['keras-disent', 'zoo', 'list']\n"
            "cli.main()\n"
            "print(allocator.applied)")
    assert _run(code) == "True"


@linux_only
def test_explicit_call_and_opt_out(monkeypatch):
    monkeypatch.setenv("KERAS_DISENT_MALLOC", "default")
    assert allocator.keep_freed_memory() is False
    assert allocator.ENVIRONMENT["MALLOC_ARENA_MAX"] == "1"
    assert int(allocator.ENVIRONMENT["MALLOC_MMAP_THRESHOLD_"]) == allocator.THRESHOLD_BYTES
    assert _run("from keras_disent import allocator; print(allocator.keep_freed_memory())") \
        == "True"
