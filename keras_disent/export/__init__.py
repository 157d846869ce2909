"""Export decoders (latent -> image) and encoders for mobile: SavedModel and TFLite (LiteRT).

`export_decoder(model_or_name, out_dir)` writes `decoder.saved_model/`, `decoder.tflite`
(and `decoder_fp16.tflite` / `decoder_int8.tflite` when quantized) and `export.json`, after
proving each exported file gives the same numbers as Keras on the same latents.

Weights are backend-independent: a model trained under jax or torch is rebuilt under the
tensorflow backend in a subprocess (torch cannot write SavedModels without torch_xla; JAX
SavedModels carry extra ops), so the export path is the same whatever the training backend.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

PARITY_TOLERANCE = {None: 1e-4, "float16": 1e-2, "dynamic_int8": 5e-2}


class ExportError(RuntimeError):
    """Export failed or an exported file does not match Keras; the message says which."""


def _require_tensorflow():
    try:
        import tensorflow  # noqa: F401
    except ImportError as error:
        raise ExportError("Export needs TensorFlow and LiteRT: pip install "
                          "'keras-disent[export]'.") from error


def export_decoder(model, out_dir, formats=("saved_model", "tflite"), quantize=None,
                   encoder=False, num_latency_runs=50):
    """Exports a model's decoder (and optionally encoder) and checks parity with Keras.

    Args:
        model: a model in memory, a zoo name, a `.keras` file or a run directory.
        out_dir: output directory.
        formats: any of "saved_model", "tflite".
        quantize: None (fp32 only), "float16" or "dynamic_int8" (adds a quantized .tflite).
        encoder: also export the encoder (image -> mean code) as `encoder.*`.
        num_latency_runs: calls per latency measurement (median reported).

    Returns:
        the dict written to `export.json`: tensor names, shapes, dtypes, output range, file
        sizes, max |diff| against Keras per file, latencies (ms, batch 1 and 64).

    Raises:
        ExportError: TensorFlow missing, model unreadable, or parity beyond tolerance
            (fp32 1e-4, fp16 1e-2, int8 5e-2).
        contract.MissingCapabilityError: the model has no decoder (or no encoder when
            `encoder=True`).
    """
    unknown = set(formats) - {"saved_model", "tflite"}
    if unknown or not formats:
        raise ValueError(f"formats must be a non-empty subset of saved_model, tflite; got "
                         f"{formats}.")
    if quantize not in PARITY_TOLERANCE:
        raise ValueError(f"quantize must be None, 'float16' or 'dynamic_int8', got {quantize!r}.")
    _require_tensorflow()
    from keras_disent import contract

    resolved = _resolve(model)
    contract.require_capability(resolved, contract.DECODER, "export a decoder")
    if encoder:
        contract.require_capability(resolved, contract.ENCODER, "export an encoder")
    _check_finite_decoder(resolved)
    options = dict(formats=list(formats), quantize=quantize, encoder=encoder,
                   num_latency_runs=num_latency_runs)
    # Everything is written into a staging folder beside `out_dir` and moved in only once
    # every parity check has passed: a rejected export leaves nothing behind.
    parent = os.path.dirname(os.path.abspath(out_dir))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".export-", dir=parent)
    try:
        result = _export_into(model, resolved, staging, formats, options)
        os.makedirs(out_dir, exist_ok=True)
        for name in os.listdir(staging):
            target = os.path.join(out_dir, name)
            if os.path.isdir(target):
                shutil.rmtree(target)
            os.replace(os.path.join(staging, name), target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return result


def _check_finite_decoder(model):
    """Refuses a decoder with NaN/inf weights (a diverged run): some kernels turn NaN into 0
    (oneDNN's ReLU), others keep it, so such a model's exports cannot be trusted."""
    import keras
    import numpy as np

    bad = [w.path for w in model.decoder_network().weights
           if not np.isfinite(keras.ops.convert_to_numpy(w)).all()]
    if bad:
        raise ExportError(f"{type(model).__name__}'s decoder has NaN/inf weights ({bad[0]}"
                          f"{' and more' if len(bad) > 1 else ''}): a diverged run? Nothing was "
                          "exported.")


def _export_into(model, resolved, out_dir, formats, options):
    import keras

    if keras.backend.backend() == "tensorflow":
        from keras_disent.export import _tensorflow

        return _tensorflow.export(resolved, out_dir, **options)
    with tempfile.TemporaryDirectory() as scratch:
        source = model if isinstance(model, str) else _save_run(model, scratch)
        result = _export_in_subprocess(source, out_dir, options)
    if "tflite" in formats:
        result["decoder"]["parity_vs_training_backend"] = _check_against_this_backend(
            resolved, out_dir)
        from keras_disent import runs

        runs.write_json(os.path.join(out_dir, "export.json"), result)
    return result


def _check_against_this_backend(model, out_dir):
    """Max |diff| between decoder.tflite and the model's decode under the current backend
    (the export itself ran under tensorflow): the same weights must give the same images."""
    import keras
    import numpy as np

    from keras_disent.export._litert import tflite_runner

    latents = np.random.default_rng(0).standard_normal((16, model.code_dim)).astype(
        np.float32)
    exported = tflite_runner(os.path.join(out_dir, "decoder.tflite"))(latents)
    diff = float(np.max(np.abs(exported - model.decode(latents))))
    if not diff <= PARITY_TOLERANCE[None]:
        raise ExportError(f"decoder.tflite differs from the model under the "
                          f"{keras.backend.backend()} backend by max |diff| {diff:.3g} > "
                          f"{PARITY_TOLERANCE[None]:g}.")
    return {"backend": keras.backend.backend(), "max_abs_diff": diff,
            "inputs": "16 latents ~ N(0, I), seed 0"}


def _resolve(model):
    if not isinstance(model, str):
        return model
    from keras_disent import zoo

    try:
        return zoo.load(model)
    except zoo.ZooError as error:
        raise ExportError(f"Cannot export {model!r}: {error}") from error
    except (OSError, ValueError) as error:
        raise ExportError(f"Cannot read model {model!r}: {error}") from error


def _save_run(model, directory):
    from keras_disent import runs

    runs.write_json(os.path.join(directory, "config.json"),
                    {"class": type(model).__name__, "model_config": model.get_config()})
    model.save_weights(os.path.join(directory, "model.weights.h5"))
    return directory


def _export_in_subprocess(source, out_dir, options):
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    command = [sys.executable, "-m", "keras_disent.export._worker", source, out_dir,
               json.dumps(options)]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        raise ExportError(lines[-1] if lines else "export subprocess failed")
    with open(os.path.join(out_dir, "export.json")) as handle:
        return json.load(handle)
