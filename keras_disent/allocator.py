"""glibc malloc settings for CPU training: keep freed activation memory for the next step.

A training step allocates and frees the same large activation buffers (8 MB each for the
Burgess 64x64 VAE at batch 64) every step. glibc's defaults hand them back to the operating
system on free (buffers above the mmap threshold are unmapped; the top of a heap is trimmed;
each thread pool thread gets its own arena, whose heap shrinks as soon as it empties), so the
next step page-faults them in again, zero-filled. These settings keep that memory in the
process instead.

`import keras_disent` does NOT apply these settings: a library leaves its host process as it
found it. Programs that own their process call `keep_freed_memory()` first thing, before
keras starts a backend's threads (the arena limit only binds threads created later): the
`keras-disent` command, the recipes and the bench scripts do. A training script of your own
can do the same:

    from keras_disent import allocator
    allocator.keep_freed_memory()   # before `import keras`

`KERAS_DISENT_MALLOC=default` in the environment makes the call a no-op (glibc's defaults).
The speed-up is measured in README "Performance". The costs: freed memory stays in the
process (its resident size does not shrink after a peak), which is what a training process
wants; and all threads allocate from one arena, so many threads that allocate at once could
contend for its lock.
"""

import ctypes
import ctypes.util
import os
import sys

# mallopt parameters (glibc's malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -3, -8
THRESHOLD_BYTES = 256 << 20

# The same settings as environment variables, for processes started from this one.
ENVIRONMENT = {"MALLOC_ARENA_MAX": "1", "MALLOC_MMAP_THRESHOLD_": str(THRESHOLD_BYTES),
               "MALLOC_TRIM_THRESHOLD_": str(THRESHOLD_BYTES)}

applied = False


def keep_freed_memory():
    """Sets one malloc arena and 256 MB mmap/trim thresholds; True if glibc took them.

    A no-op returning False off Linux, with a C library without `mallopt` (e.g. musl), or
    when `KERAS_DISENT_MALLOC=default`.
    """
    global applied
    if not sys.platform.startswith("linux") or \
            os.environ.get("KERAS_DISENT_MALLOC", "").lower() == "default":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    applied = all(mallopt(option, value) == 1 for option, value in (
        (_M_ARENA_MAX, 1), (_M_MMAP_THRESHOLD, THRESHOLD_BYTES),
        (_M_TRIM_THRESHOLD, THRESHOLD_BYTES)))
    return applied
