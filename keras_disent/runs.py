"""Run directories: every run writes its config, provenance, metrics and figures together.

A run directory belongs to one configuration and one process at a time (`RunLock`); its
files are written atomically (a temporary file renamed over the target, so a kill leaves the
old file or the new one, never half of one); its final weights carry a sha256 that is checked
whenever the run is loaded.
"""

import contextlib
import hashlib
import json
import os
import platform
import subprocess
import time


class RunError(RuntimeError):
    """A run cannot start, resume or be loaded; the message says why and what to do."""


class RunLockedError(RunError):
    """Another process holds the run directory."""


class RunConfigMismatchError(RunError):
    """The run directory holds a run of another configuration."""


class CorruptRunError(RunError):
    """A file of the run directory is truncated or was modified (sha256 mismatch)."""


class TrainingDivergedError(RunError):
    """A loss became NaN or infinite; nothing was saved as finished."""


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


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path`; renames it over `path` if the body succeeds
    (removes it otherwise). Readers see the old file or the new one, never a partial one."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    # The name keeps its whole ending (Keras checks for ".weights.h5" and ".keras").
    temporary = os.path.join(directory, f".tmp-{os.getpid()}-{os.path.basename(path)}")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def write_json(path, payload):
    """Writes `payload` as JSON, atomically."""
    with atomic_path(path) as temporary:
        with open(temporary, "w") as handle:
            json.dump(payload, handle, indent=2, sort_keys=True, default=_jsonable)
            handle.write("\n")
    return path


def read_json(path):
    """The JSON in `path`; a truncated or garbled file raises `CorruptRunError`."""
    with open(path) as handle:
        try:
            return json.load(handle)
        except json.JSONDecodeError as error:
            raise CorruptRunError(f"{path} is not valid JSON ({error}): the file is truncated "
                                  "or was edited.") from error


def sha256_of(path):
    """Full sha256 of a file, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_sha256(path, expected, what):
    """Raises `CorruptRunError` unless `path` exists and has sha256 `expected`."""
    if not os.path.exists(path):
        raise CorruptRunError(f"{what} is missing: {path}.")
    actual = sha256_of(path)
    if actual != expected:
        raise CorruptRunError(f"{what} is corrupt: {path} has sha256 {actual[:16]}..., the run "
                              f"recorded {expected[:16]}... (truncated, or modified after "
                              "the run).")
    return path


class RunLock:
    """An exclusive lock on a run directory for the life of a `with` block.

    A second process (or a second lock in this one) gets `RunLockedError` at once, naming the
    holder's process id. The lock is an OS file lock (`fcntl.flock`): it goes away with the
    process that held it, so a killed run never leaves a stale lock behind.
    """

    def __init__(self, run_dir):
        self.path = os.path.join(run_dir, ".lock")
        self.handle = None

    def __enter__(self):
        import fcntl

        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise RunLockedError(
                f"{os.path.dirname(self.path)} is in use by another process (pid {holder}): "
                "one run directory trains in one process at a time. Wait for it to finish, "
                "or train into another --out directory.") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self.handle = handle
        return self

    def __exit__(self, *exc):
        import fcntl

        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()
        self.handle = None
        return False


def config_differences(saved, wanted, prefix=""):
    """`["key: saved -> wanted", ...]` for the entries where two JSON configs differ."""
    if isinstance(saved, dict) and isinstance(wanted, dict):
        lines = []
        for key in sorted(set(saved) | set(wanted)):
            lines += config_differences(saved.get(key), wanted.get(key),
                                        f"{prefix}{'.' if prefix else ''}{key}")
        return lines
    return [] if saved == wanted else [f"{prefix}: {saved!r} -> {wanted!r}"]


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
