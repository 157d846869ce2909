"""How many training steps ContentTransfer needs before it adds and removes the glasses.

Usage: KERAS_BACKEND=jax python bench/content_transfer_steps.py --steps 12000 --every 2000 \
           [--learning-rate 2e-4 --batch-size 32 --specific-code map --specific-channels 4]

Trains one configuration on the procedural glasses benchmark (`data.GlassesBenchmark`) and,
every `--every` steps, prints the held-out errors of add (whole image and changed pixels: a
blurry output can beat "copy input" on the changed pixels alone) and remove
(`metrics.content_transfer.transfer_errors`, 500 pairs) and the training losses, as one JSON
line per checkpoint (also appended to `--log`). Run several configurations side by side (one
process each) to compare learning curves; the recipe `recipes/press2019_glasses.py` trains
the chosen default.
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12000)
    parser.add_argument("--every", type=int, default=2000)
    parser.add_argument("--learning-rate", type=float, default=2e-4)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--specific-code", default="map", choices=("map", "global"))
    parser.add_argument("--specific-channels", type=int, default=4)
    parser.add_argument("--confusion-weight", type=float, default=0.001)
    parser.add_argument("--unaligned", action="store_true",
                        help="GlassesBenchmark(aligned=False): sprites and glasses move")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--log", default=None, help="append the JSON lines to this file")
    args = parser.parse_args()
    from keras_disent import process

    process.configure()  # this script owns its process: before keras starts

    import keras

    from keras_disent import data
    from keras_disent.metrics import content_transfer
    from keras_disent.models import ContentTransfer

    keras.utils.set_random_seed(args.seed)
    bench = data.GlassesBenchmark(aligned=not args.unaligned)
    batches = bench.batches(args.batch_size, args.every, args.seed)
    model = ContentTransfer(image_shape=bench.image_shape, specific_code=args.specific_code,
                            specific_channels=args.specific_channels,
                            confusion_weight=args.confusion_weight, seed=args.seed)
    model.compile(model.default_optimizer(args.learning_rate))
    config = {k: v for k, v in vars(args).items() if k not in ("log", "steps", "every")}
    start = time.perf_counter()
    for epoch in range(args.steps // args.every):
        history = model.fit(batches, initial_epoch=epoch, epochs=epoch + 1, verbose=0)
        results, _ = content_transfer.transfer_errors(model, bench)
        line = json.dumps(dict(
            config, step=(epoch + 1) * args.every,
            seconds=round(time.perf_counter() - start, 1),
            add_image=round(results["add"]["model"]["mae"], 5),
            add_copy_image=round(results["add"]["copy input"]["mae"], 5),
            add=round(results["add"]["model"]["mae_changed_pixels"], 4),
            add_copy=round(results["add"]["copy input"]["mae_changed_pixels"], 4),
            remove=round(results["remove"]["model"]["mae_changed_pixels"], 4),
            remove_copy=round(results["remove"]["copy input"]["mae_changed_pixels"], 4),
            **{k: round(float(v[-1]), 5) for k, v in history.history.items()}))
        print(line, flush=True)
        if args.log:
            with open(args.log, "a") as f:
                f.write(line + "\n")


if __name__ == "__main__":
    main()
