"""Process settings for programs that own their process (the `keras-disent` command, the
recipes, the bench scripts); never applied by `import keras_disent`.

`configure()` runs before keras (and so a backend) is imported:
  - malloc settings that keep freed activation memory (`keras_disent.allocator`);
  - quiet backend logs: `TF_CPP_MIN_LOG_LEVEL=2` hides TensorFlow's C++ INFO/WARNING lines,
    and keras is imported with the C-level stderr filtered, because the lines TensorFlow
    prints while loading (the absl start-up notice, "oneDNN custom operations are on") ignore
    that variable. Other stderr output of the import is passed through; errors still show.
    A value the user set in the environment wins, and `KERAS_DISENT_BACKEND_LOGS=1` (or the
    CLI's `--backend-logs`) keeps every backend line.
"""

import contextlib
import os
import sys
import tempfile

QUIET_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "2", "GRPC_VERBOSITY": "ERROR"}
# Lines the backends print while loading that say nothing to a user of this library.
NOISE = ("All log messages before absl::InitializeLog() is called",
         "oneDNN custom operations are on",
         "cpu_feature_guard.cc",
         "To enable the following instructions:",
         "rebuild TensorFlow with the appropriate compiler flags",
         "Created TensorFlow Lite XNNPACK delegate")

_QUIET = [False]


def configure(quiet_backend_logs=None, malloc=True, load_keras=True):
    """Applies the settings; returns what it set (for the run's provenance).

    Args:
        quiet_backend_logs: hide backend C++ log noise; default: yes unless the environment
            has `KERAS_DISENT_BACKEND_LOGS=1`.
        malloc: apply `allocator.keep_freed_memory()`.
        load_keras: import keras now, quietly (`import_keras()`); the CLI does it later,
            only for the commands that need a backend.
    """
    from keras_disent import allocator

    if quiet_backend_logs is None:
        quiet_backend_logs = os.environ.get("KERAS_DISENT_BACKEND_LOGS", "") not in ("1", "true")
    applied = {}
    _QUIET[0] = bool(quiet_backend_logs)
    if quiet_backend_logs:
        for key, value in QUIET_ENVIRONMENT.items():
            applied[key] = os.environ.setdefault(key, value)
    if malloc:
        applied["malloc"] = allocator.keep_freed_memory()
    if load_keras:
        import_keras()
    return applied


def import_keras():
    """Imports keras (and its backend), dropping the backend's loading noise when quiet;
    TensorFlow's Python logger then shows errors only (its retracing notices are about
    TensorFlow's internals, not about the user's run)."""
    with quietly():
        import keras
    if _QUIET[0] and "tensorflow" in sys.modules:
        import logging

        logging.getLogger("tensorflow").setLevel(logging.ERROR)
    return keras


def quietly():
    """A context that drops the backends' loading noise from stderr when `configure` made
    the process quiet (e.g. around `keras.utils.set_random_seed`, which imports TensorFlow to
    seed it under any backend); otherwise it does nothing."""
    return filtered_native_stderr(NOISE) if _QUIET[0] else contextlib.nullcontext()


@contextlib.contextmanager
def filtered_native_stderr(patterns):
    """Sends file descriptor 2 (where C/C++ code writes) to a temporary file for the body,
    then writes back every line that contains none of `patterns`."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode(errors="replace")
            kept = [line for line in text.splitlines(keepends=True)
                    if not any(pattern in line for pattern in patterns)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def seed_everything(seed):
    """`keras.utils.set_random_seed(seed)`: Python, numpy and the backend (weight
    initialisation) from one seed; quietly, as it imports TensorFlow to seed it if installed.
    It changes the process's global seeds: for programs that own their process."""
    keras = import_keras()
    with quietly():
        keras.utils.set_random_seed(seed)
