"""keras_disent.allocator: glibc malloc settings applied at import, with an opt-out."""

import subprocess
import sys

import pytest

from keras_disent import allocator

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")


@linux_only
def test_applied_at_import_and_repeatable():
    assert allocator.applied is True
    assert allocator.keep_freed_memory() is True
    assert allocator.ENVIRONMENT["MALLOC_ARENA_MAX"] == "1"
    assert int(allocator.ENVIRONMENT["MALLOC_MMAP_THRESHOLD_"]) == allocator.THRESHOLD_BYTES


def test_opt_out_keeps_glibc_defaults(monkeypatch):
    monkeypatch.setenv("KERAS_DISENT_MALLOC", "default")
    assert allocator.keep_freed_memory() is False


@linux_only
def test_opt_out_before_import_in_a_fresh_process():
    code = ("import os; os.environ['KERAS_DISENT_MALLOC'] = 'default'; "
            "import keras_disent; print(keras_disent.allocator.applied)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "False"
