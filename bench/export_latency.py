"""Size and per-call latency of Keras vs SavedModel vs TFLite fp32/fp16 for a decoder.

    KERAS_BACKEND=tensorflow python bench/export_latency.py [beta_vae_dsprites]
"""

import os
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from keras_disent.export import export_decoder  # noqa: E402


def main():
    source = sys.argv[1] if len(sys.argv) > 1 else "beta_vae_dsprites"
    with tempfile.TemporaryDirectory() as out:
        result = export_decoder(source, out, quantize="float16", num_latency_runs=200)
    decoder = result["decoder"]
    print(f"\nDecoder export of {source} (latent_dim {result['latent_dim']}, image "
          f"{result['image_shape']}), median of 200 calls")
    print(f"{'format':<22} | {'size MB':>8} | {'max |diff|':>10} | {'batch 1 ms':>10} | "
          f"{'batch 64 ms':>11}")
    print("-" * 74)
    latency = decoder["latency_ms"]
    print(f"{'keras (tensorflow)':<22} | {'-':>8} | {'-':>10} | {latency['keras']['batch_1']:>10.3f}"
          f" | {latency['keras']['batch_64']:>11.3f}")
    for name, info in decoder["files"].items():
        print(f"{name:<22} | {info['bytes'] / 1e6:>8.3f} | {info['max_abs_diff_vs_keras']:>10.2g}"
              f" | {latency[name]['batch_1']:>10.3f} | {latency[name]['batch_64']:>11.3f}")


if __name__ == "__main__":
    main()
