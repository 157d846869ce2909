"""Decoder export: SavedModel + TFLite fp32/fp16 parity with Keras, from any training backend."""

import os

import keras
import numpy as np
import pytest

from helpers import tiny_beta_vae
from keras_disent.export import ExportError, export_decoder

pytestmark = pytest.mark.export
pytest.importorskip("tensorflow")
pytest.importorskip("ai_edge_litert")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("export"))
    model = tiny_beta_vae()
    return model, out, export_decoder(model, out, quantize="float16", encoder=True,
                                      num_latency_runs=3)


def test_files_exist_with_sizes_and_parity(exported):
    _, out, result = exported
    files = result["decoder"]["files"]
    assert set(files) == {"saved_model", "decoder.tflite", "decoder_fp16.tflite"}
    for info in files.values():
        assert os.path.exists(os.path.join(out, info["path"]))
        assert info["max_abs_diff_vs_keras"] <= info["tolerance"]
    assert files["decoder.tflite"]["max_abs_diff_vs_keras"] < 1e-4
    assert files["decoder_fp16.tflite"]["bytes"] < files["decoder.tflite"]["bytes"]
    assert result["decoder"]["input"]["shape"] == [None, 4]
    assert result["decoder"]["output"]["shape"] == [None, 64, 64, 1]
    assert set(result["decoder"]["latency_ms"]["decoder.tflite"]) == {"batch_1", "batch_64"}
    assert os.path.exists(os.path.join(out, "export.json"))
    if keras.backend.backend() != "tensorflow":  # exported under tensorflow, checked here too
        parity = result["decoder"]["parity_vs_training_backend"]
        assert parity["backend"] == keras.backend.backend() and parity["max_abs_diff"] < 1e-4


def test_exported_tflite_matches_keras_on_new_latents_and_batch_sizes(exported):
    from ai_edge_litert.interpreter import Interpreter

    model, out, _ = exported
    interpreter = Interpreter(model_path=os.path.join(out, "decoder.tflite"))
    for batch in (1, 5):
        z = np.random.default_rng(batch).standard_normal((batch, 4)).astype("float32")
        index = interpreter.get_input_details()[0]["index"]
        interpreter.resize_tensor_input(index, z.shape)
        interpreter.allocate_tensors()
        interpreter.set_tensor(index, z)
        interpreter.invoke()
        got = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
        np.testing.assert_allclose(got, model.decode(z), atol=1e-4)


def test_encoder_export(exported):
    _, out, result = exported
    encoder = result["encoder"]
    assert encoder["input"]["shape"] == [None, 64, 64, 1]
    assert encoder["output"]["shape"] == [None, 4]
    assert encoder["files"]["encoder.tflite"]["max_abs_diff_vs_keras"] < 1e-4


def test_absent_and_corrupt_models_give_clear_errors(tmp_path):
    with pytest.raises(ExportError, match="No model file"):
        export_decoder(str(tmp_path / "absent.keras"), str(tmp_path / "out"))
    with pytest.raises(ExportError, match="No zoo entry named 'not_a_model'"):
        export_decoder("not_a_model", str(tmp_path / "out"))
    corrupt = tmp_path / "corrupt.keras"
    corrupt.write_bytes(b"not a zip file")
    with pytest.raises(ExportError, match="corrupt.keras"):
        export_decoder(str(corrupt), str(tmp_path / "out"))
    with pytest.raises(ValueError, match="quantize must be"):
        export_decoder(tiny_beta_vae(), str(tmp_path / "out"), quantize="int4")
