"""Run directories: every run writes its config, provenance, metrics and figures together."""

import json
import os
import platform
import subprocess
import time


def git_commit():
    """The current git commit of the checkout (with '-dirty' if modified), or None."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                                text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=here, capture_output=True, text=True, timeout=5).stdout
        return commit + ("-dirty" if dirty.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def provenance():
    """Backend, versions, commit and host: what makes a number reproducible."""
    import keras

    from keras_disent import __version__

    return {
        "backend": keras.backend.backend(),
        "keras_version": keras.__version__,
        "keras_disent_version": __version__,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "machine": f"{platform.machine()} ({os.cpu_count()} cpus)",
        "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def write_json(path, payload):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as handle:
        json.dump(payload, handle, indent=2, sort_keys=True, default=_jsonable)
        handle.write("\n")
    return path


def read_json(path):
    with open(path) as handle:
        return json.load(handle)


def _jsonable(value):
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
    except ImportError:
        pass
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
