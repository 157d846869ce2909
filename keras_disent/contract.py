"""The model contract's vocabulary: capabilities, code layouts, input checks, batched predict.

Every keras-disent model declares what it can do as a set of capabilities, and describes its
code (the `(n, code_dim)` array that `encode` returns and `decode` takes) as a tuple of named
`CodePart`s. The shared tools (metrics, figures, export, the CLI) ask for the capability they
need with `require_capability`, which fails with a one-line error naming what is missing.
"""

import dataclasses

import numpy as np

ENCODER = "encoder"  # encode(images) -> codes (n, code_dim)
DECODER = "decoder"  # decode(codes) -> images in [0, 1]
PRIOR = "prior"  # sample_codes(n, seed) draws codes from the model's prior; sample(n, seed)
TRAVERSABLE = "traversable"  # some code dims are scalar factors that traverse() can sweep
PAIRED_DOMAINS = "paired_domains"  # trains on (domain A, domain B) batches
CLASSIFIER = "classifier"  # class_probabilities(images), predict_labels(images); trains on labels
CAPABILITIES = (ENCODER, DECODER, PRIOR, TRAVERSABLE, PAIRED_DOMAINS, CLASSIFIER)


class MissingCapabilityError(ValueError):
    """A tool needs a capability the model does not declare; the message names it."""


def require_capability(model, capability, purpose):
    """Raises `MissingCapabilityError` unless `model` declares `capability`.

    Args:
        model: a keras-disent model (anything with a `capabilities` set).
        capability: one of `CAPABILITIES`.
        purpose: what the caller wants to do, e.g. "export a decoder" (used in the message).
    """
    declared = getattr(model, "capabilities", None)
    if declared is None:
        raise MissingCapabilityError(
            f"Cannot {purpose}: {type(model).__name__} is not a keras-disent model (it declares "
            f"no capabilities; the '{capability}' capability is needed).")
    if capability not in declared:
        raise MissingCapabilityError(
            f"Cannot {purpose}: {type(model).__name__} has no '{capability}' capability "
            f"(it has: {', '.join(sorted(declared)) or 'none'}).")
    return model


@dataclasses.dataclass(frozen=True)
class CodePart:
    """A named slice of a model's code vector.

    Attributes:
        name: e.g. "z", "noise", "categorical_0", "continuous", "common".
        size: number of code dims in this part.
        kind: "gaussian" (prior N(0, 1)), "uniform" (prior U(-1, 1)), "categorical" (one-hot
            of `size` classes; `encode` gives class probabilities), "noise" (prior N(0, 1),
            not inferred: `encode` gives 0), "map" (a flattened feature map of `shape`) or
            "feature" (a deterministic feature vector without a prior, e.g. D2AE's branches).
        traversable: `traverse` may sweep each dim of this part on its own.
        shape: the part's array shape before flattening (maps), else `(size,)`.
        description: one line for docs and `describe_code()`.
    """

    name: str
    size: int
    kind: str
    traversable: bool = False
    shape: tuple = None
    description: str = ""

    def __post_init__(self):
        if self.shape is None:
            object.__setattr__(self, "shape", (self.size,))


def check_images(images, image_shape, name="images"):
    """Validates a host-side batch of images; returns it as float32 numpy.

    Raises a ValueError that says what to do for: wrong rank or shape, integer pixel values
    (e.g. uint8 0..255), values outside [0, 1], or non-finite values.
    """
    array = np.asarray(images)
    expected = tuple(image_shape)
    if array.ndim == len(expected):
        raise ValueError(
            f"{name} must be a batch of shape (n, {', '.join(map(str, expected))}); got a single "
            f"image of shape {array.shape}. Add a batch axis: x[None]."
        )
    if array.ndim != len(expected) + 1 or tuple(array.shape[1:]) != expected:
        raise ValueError(
            f"{name} must have shape (n, {', '.join(map(str, expected))}), got {array.shape}."
        )
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(
            f"{name} must be float values in [0, 1], got dtype {array.dtype}"
            + (" (scale with x.astype('float32') / 255)." if array.dtype == np.uint8 else ".")
        )
    if array.size:
        low, high = float(array.min()), float(array.max())
        if low < 0.0 or high > 1.0 or not np.isfinite([low, high]).all():
            raise ValueError(
                f"{name} must have values in [0, 1], got range [{low:.3g}, {high:.3g}]"
                + (" (looks like 0..255: divide by 255)." if 1.0 < high <= 255 else ".")
            )
    return array.astype(np.float32, copy=False)


def check_codes(codes, code_dim, name="codes"):
    """Validates a batch of codes `(n, code_dim)`; returns it as float32 numpy."""
    array = np.asarray(codes)
    if array.ndim != 2 or array.shape[1] != code_dim:
        raise ValueError(f"{name} must have shape (n, {code_dim}), got {array.shape}.")
    if not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"{name} must be numbers, got dtype {array.dtype}.")
    array = array.astype(np.float32, copy=False)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contain NaN or inf values.")
    return array


def domain_one_hot(domains, num_domains, num=None):
    """One-hot domain vectors `(n, num_domains)` (UFDN's and DRIT's domain codes).

    Args:
        domains: one domain id (repeated `num` times, default once) or one id per row.
        num_domains: how many domains the model has.
        num: the number of images they go with (checked when given).
    """
    ids = np.asarray(domains)
    if ids.ndim == 0:
        ids = np.full(1 if num is None else check_count(num, "num"), ids)
    if num is not None and len(ids) != num:
        raise ValueError(f"{num} images but {len(ids)} domain ids.")
    if ids.size and (ids.min() < 0 or ids.max() >= num_domains
                     or not np.array_equal(ids, np.round(ids))):
        raise ValueError(f"domain ids must be whole numbers in 0..{num_domains - 1}, got "
                         f"{ids.min()}..{ids.max()}.")
    return np.eye(num_domains, dtype=np.float32)[ids.astype(int)]


def check_labels(labels, num_classes, num=None, name="labels"):
    """Validates class labels `(n,)` (or `(n, 1)`) in 0..num_classes-1; returns them as int32.

    Args:
        labels: integer class indices (float arrays holding whole numbers are accepted).
        num_classes: the number of classes the model predicts.
        num: the number of images they label (checked when given).
        name: what the message calls them.
    """
    if labels is None:
        raise ValueError(f"{name} are missing: this model trains on (images, labels) pairs.")
    array = np.asarray(labels)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"{name} must be class indices of shape (n,), got shape {array.shape}"
                         + (" (one-hot? use labels.argmax(axis=1))." if array.ndim == 2 else "."))
    if num is not None and len(array) != num:
        raise ValueError(f"{num} images but {len(array)} {name}.")
    if not np.issubdtype(array.dtype, np.number) or not np.isfinite(array).all() or \
            not np.array_equal(array, np.round(array)):
        raise ValueError(f"{name} must be whole class indices, got dtype {array.dtype}"
                         f"{' with fractional or non-finite values' if array.size else ''}.")
    if array.size and (array.min() < 0 or array.max() >= num_classes):
        raise ValueError(f"{name} must be in 0..{num_classes - 1} (num_classes={num_classes}), "
                         f"got range {int(array.min())}..{int(array.max())}.")
    return array.astype(np.int32)


def check_num_classes(num_classes):
    """A classifier's number of classes: a whole number >= 2, as int."""
    num_classes = check_count(num_classes, "num_classes")
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}.")
    return num_classes


def check_finite(**values):
    """Raises ValueError for a hyperparameter that is not a finite number (NaN, inf, text)."""
    for name, value in values.items():
        if value is None:
            continue
        try:
            finite = bool(np.isfinite(float(value)))
        except (TypeError, ValueError):
            finite = False
        if not finite or isinstance(value, bool):
            raise ValueError(f"{name} must be a finite number, got {value!r}.")


def check_count(num, name="num"):
    """A positive whole number of items (not a bool), as int."""
    if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < 1:
        raise ValueError(f"{name} must be a positive integer, got {num!r}.")
    return int(num)


def predict_batched(fn, array, batch_size=256):
    """`fn` applied to `array` in batches of `batch_size` rows; outputs concatenated.

    Every model's numpy-level prediction goes through here. When `array` spans several
    batches the last one is zero-padded to `batch_size` (one compiled shape for jitted
    backends) and the padding rows are dropped from the output. `fn` may return an array or
    a tuple of arrays (then a tuple is returned).

    Raises:
        ValueError: `batch_size` is not a positive integer, or `array` has no rows.
    """
    batch_size = check_count(batch_size, "batch_size")
    if len(array) == 0:
        raise ValueError("Received an empty batch (0 rows).")
    outputs = []
    for begin in range(0, len(array), batch_size):
        chunk = array[begin:begin + batch_size]
        size = len(chunk)
        if size < batch_size and len(array) > batch_size:
            pad = np.zeros((batch_size - size,) + chunk.shape[1:], chunk.dtype)
            chunk = np.concatenate([chunk, pad])
        result = fn(chunk)
        if isinstance(result, (tuple, list)):
            outputs.append(tuple(np.asarray(r)[:size] for r in result))
        else:
            outputs.append(np.asarray(result)[:size])
    if isinstance(outputs[0], tuple):
        return tuple(np.concatenate(parts) for parts in zip(*outputs))
    return np.concatenate(outputs)
