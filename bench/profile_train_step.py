"""Where a BetaVAE training step spends its time: cProfile of `fit` under the current backend.

Usage: KERAS_BACKEND=torch python bench/profile_train_step.py [--steps 50 --batch-size 64
           --conv auto --top 20]

Prints steps/s without the profiler, then the top functions by self time over `--steps` steps
of `model.fit` (paper network, dSprites, batch 64). GPU work is asynchronous: under a GPU the
self time lands on whichever call waits for the device.
"""

import argparse
import cProfile
import os
import pstats
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--conv", default="auto",
                        choices=("auto", "matmul", "phases", "torch", "native"))
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    from keras_disent import process

    process.configure()  # this script owns its process: before keras starts

    import keras

    from keras_disent.data import dsprites
    from keras_disent.speed import conv_layers as kd_layers
    from keras_disent.models import BetaVAE

    batches = dsprites().batches(args.batch_size, steps_per_epoch=args.steps, seed=0)
    model = BetaVAE(latent_dim=10, beta=4.0, seed=0)
    kd_layers.set_implementation(model, args.conv)
    model.compile(keras.optimizers.Adam(5e-4))
    model.fit(batches, epochs=1, steps_per_epoch=3, verbose=0)

    def run():
        model.fit(batches, epochs=1, steps_per_epoch=args.steps, verbose=0)
        keras.ops.convert_to_numpy(model.trainable_variables[-1])

    start = time.perf_counter()
    run()
    print(f"{keras.backend.backend()}, batch {args.batch_size}, conv={args.conv}: "
          f"{args.steps / (time.perf_counter() - start):.1f} steps/s")
    profile = cProfile.Profile()
    profile.enable()
    run()
    profile.disable()
    pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
