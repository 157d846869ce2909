"""Process settings for programs that own their process (the `keras-disent` command, the
recipes, the bench scripts); never applied by `import keras_disent`.

`configure()` must run before keras (and so a backend) is imported:
  - malloc settings that keep freed activation memory (`keras_disent.allocator`);
  - quiet backend logs: TensorFlow's C++ INFO/WARNING lines (oneDNN notices, absl start-up
    lines) are hidden by `TF_CPP_MIN_LOG_LEVEL=2`; errors still show. A value the user set
    in the environment wins, and `KERAS_DISENT_BACKEND_LOGS=1` keeps every backend line.
"""

import os

QUIET_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "2", "GRPC_VERBOSITY": "ERROR"}


def configure(quiet_backend_logs=None, malloc=True):
    """Applies the settings; returns what it set (for the run's provenance).

    Args:
        quiet_backend_logs: hide backend C++ log noise; default: yes unless the environment
            has `KERAS_DISENT_BACKEND_LOGS=1`.
        malloc: apply `allocator.keep_freed_memory()`.
    """
    from keras_disent import allocator

    if quiet_backend_logs is None:
        quiet_backend_logs = os.environ.get("KERAS_DISENT_BACKEND_LOGS", "") not in ("1", "true")
    applied = {}
    if quiet_backend_logs:
        for key, value in QUIET_ENVIRONMENT.items():
            applied[key] = os.environ.setdefault(key, value)
    if malloc:
        applied["malloc"] = allocator.keep_freed_memory()
    return applied
