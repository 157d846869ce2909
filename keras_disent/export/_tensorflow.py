"""The export itself, under the tensorflow backend: SavedModel, TFLite, parity, latency."""

import os
import shutil
import statistics
import time

import keras
import numpy as np
import tensorflow as tf

from keras_disent.export import PARITY_TOLERANCE, ExportError
from keras_disent.export._litert import tflite_runner


def _median_ms(fn, runs):
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - start))
    return round(statistics.median(times), 4)


def _convert(saved_model_dir, quantize):
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir)
    if quantize == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif quantize == "dynamic_int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    return converter.convert()


def _size(path):
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(root, f))
                   for root, _, files in os.walk(path) for f in files)
    return os.path.getsize(path)


def _export_one(net, stem, inputs, out_dir, formats, quantize, runs):
    """Writes `stem.saved_model/`, `stem*.tflite`; returns the record for export.json."""
    keras_out = np.asarray(net(inputs, training=False))
    batch1 = inputs[:1]
    batch64 = np.repeat(inputs, int(np.ceil(64 / len(inputs))), axis=0)[:64]
    record = {
        "input": {"name": net.inputs[0].name, "shape": [None] + list(net.inputs[0].shape[1:]),
                  "dtype": "float32"},
        "output": {"name": net.layers[-1].name,
                   "shape": [None] + list(net.outputs[0].shape[1:]), "dtype": "float32"},
        "batch": "dynamic (resize the input tensor to [n, ...])",
        "saved_model_signature": "serve / serving_default",
        "files": {},
        "latency_ms": {"keras": {"batch_1": _median_ms(lambda: net(batch1), runs),
                                 "batch_64": _median_ms(lambda: net(batch64), runs)}},
    }
    saved_model = os.path.join(out_dir, f"{stem}.saved_model")
    shutil.rmtree(saved_model, ignore_errors=True)
    net.export(saved_model, format="tf_saved_model", verbose=False)
    loaded = tf.saved_model.load(saved_model)
    serve = loaded.serve
    diff = float(np.max(np.abs(serve(tf.constant(inputs)).numpy() - keras_out)))
    files = [("saved_model", saved_model, diff, PARITY_TOLERANCE[None],
              lambda x: serve(tf.constant(x)))]
    if "tflite" in formats:
        variants = [(None, f"{stem}.tflite")]
        if quantize:
            suffix = {"float16": "fp16", "dynamic_int8": "int8"}[quantize]
            variants.append((quantize, f"{stem}_{suffix}.tflite"))
        for mode, name in variants:
            path = os.path.join(out_dir, name)
            with open(path, "wb") as handle:
                handle.write(_convert(saved_model, mode))
            run = tflite_runner(path)
            diff = float(np.max(np.abs(run(inputs) - keras_out)))
            record["tflite_tensors"] = {"input": run.tensor_names[0],
                                        "output": run.tensor_names[1]}
            files.append((name, path, diff, PARITY_TOLERANCE[mode], run))
    for name, path, diff, tolerance, run in files:
        record["files"][name] = {"path": os.path.basename(path), "bytes": _size(path),
                                 "max_abs_diff_vs_keras": diff, "tolerance": tolerance}
        record["latency_ms"][name] = {"batch_1": _median_ms(lambda: run(batch1), runs),
                                      "batch_64": _median_ms(lambda: run(batch64), runs)}
        if not diff <= tolerance:
            raise ExportError(f"{name} differs from Keras by max |diff| {diff:.3g} > "
                              f"{tolerance:g} on the same inputs; not exported.")
    if "saved_model" not in formats:
        shutil.rmtree(saved_model)
        del record["files"]["saved_model"]
    return record


def export(model, out_dir, formats=("saved_model", "tflite"), quantize=None, encoder=False,
           num_latency_runs=50):
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(0)
    latents = rng.standard_normal((16, model.code_dim)).astype(np.float32)
    result = {
        "model": type(model).__name__, "code_dim": model.code_dim,
        "code_layout": [{"name": p.name, "size": p.size, "kind": p.kind}
                        for p in model.code_layout()],
        "image_shape": list(model.image_shape), "output_range": [0.0, 1.0],
        "keras_version": keras.__version__, "tensorflow_version": tf.__version__,
        "parity_inputs": "16 latents ~ N(0, I), seed 0",
        "decoder": _export_one(model.decoder_network(), "decoder", latents, out_dir, formats,
                               quantize, num_latency_runs),
    }
    if encoder:
        images = model.decode(latents)
        result["encoder"] = _export_one(model.encoder_network(), "encoder", images, out_dir,
                                        formats, quantize, num_latency_runs)
    from keras_disent import runs

    runs.write_json(os.path.join(out_dir, "export.json"), result)
    return result
