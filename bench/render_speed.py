"""Images/s of the procedural dSprites renderer, and rendering the whole grid in bounded memory.

Usage: python bench/render_speed.py [--all]
"""

import argparse
import os
import resource
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from keras_disent.data.dsprites import DSprites  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--all", action="store_true", help="render all 737,280 images")
    args = parser.parse_args()
    dataset = DSprites()
    print(f"{'batch':>6} | {'images/s':>10}")
    for batch in (64, 1024, 8192):
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < 2.0:
            factors = dataset.sample_factors(batch, seed=count)
            dataset.images_from_factors(factors)
            count += batch
        print(f"{batch:>6} | {count / (time.perf_counter() - start):>10.0f}")
    if args.all:
        start, total = time.perf_counter(), 0
        for indices, images in dataset.iter_images(8192):
            total += int(images.sum() > 0)
        seconds = time.perf_counter() - start
        print(f"all {len(dataset)} images: {seconds:.1f} s "
              f"({len(dataset) / seconds:.0f} images/s), peak RSS "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
