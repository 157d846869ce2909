"""Training speed of BetaVAE under the current Keras backend vs a plain PyTorch loop.

Usage: KERAS_BACKEND=tensorflow|jax|torch python bench/train_speed.py [--rounds 15 --steps 20]
       [--batch-size 256 --device cuda --conv native]

Alternates, in one run: R rounds of (PyTorch reference loop, N steps) and (N steps of one
running keras_disent BetaVAE.fit on the built-in dSprites pipeline: a callback times each
block of N steps and runs the reference between blocks, so `fit`'s start-up is not counted,
as the reference's is not, and the two sides alternate every few seconds: this shared
machine's speed drifts by +-15% over tens of seconds). The reference runs in a child process
(started with "spawn", so it shares no thread pool with TensorFlow or JAX: TF's pool kept
spinning after a Keras step and halved the reference's speed when both lived in one process);
the two never run at the same time, and each timed run starts after a pause (`--pause`, 1 s)
so that the other process's OpenMP threads, which spin for a while after their work, have gone
to sleep. Prints steps/s of each per round, the ratio per round and
the median ratio, peak RSS, and the share of a Keras step spent producing the input batch.
Same network (Burgess'18 64x64), batch 64, Adam 5e-4, beta 4, Bernoulli. Both processes run
with the same malloc settings (`--allocator`; keras_disent.allocator explains why they matter).
"""

import argparse
import multiprocessing
import os
import resource
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_reference  # noqa: E402  (imports torch only)



def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def wait_for_device(model):
    """Block until the queued steps have run (GPU work is asynchronous): reading a weight back
    needs every update before it."""
    import keras

    keras.ops.convert_to_numpy(model.trainable_variables[-1])


def make_interleaved(keras, steps, run_reference, pause):
    """A Keras callback that times each block of `steps` train steps of a running `fit` (the
    device synchronised at both ends) and runs the reference, between pauses, before each."""

    class Interleaved(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.rows, self.start, self.reference_rate = [], None, None

        def _close_block(self):
            wait_for_device(self.model)
            if self.start is not None:
                keras_rate = steps / (time.perf_counter() - self.start)
                self.rows.append((self.reference_rate, keras_rate))
                self.start = None

        def on_train_batch_begin(self, batch, logs=None):
            if batch % steps:
                return
            self._close_block()
            time.sleep(pause)
            self.reference_rate = run_reference()
            time.sleep(pause)
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self._close_block()

    return Interleaved()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--decoder-upsample", default="transpose",
                        choices=("transpose", "resize"))
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="threads of the PyTorch reference")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                        help="device of the PyTorch reference; auto: cuda when torch sees a GPU "
                             "(Keras picks its own device: the GPU when its backend sees one)")
    parser.add_argument("--conv", default="auto",
                        choices=("auto", "matmul", "phases", "torch", "native"),
                        help="implementation of keras_disent.speed.conv_layers' 4x4 stride-2 "
                             "convolutions")
    parser.add_argument("--pause", type=float, default=1.0,
                        help="seconds of rest before each timed run: the other process's "
                             "OpenMP threads keep spinning for a while after its run")
    parser.add_argument("--jit-compile", action="store_true",
                        help="model.compile(jit_compile=True): torch.compile under torch "
                             "(tensorflow and jax compile by default)")
    parser.add_argument("--allocator", default="tuned", choices=("tuned", "default", "shipped"),
                        help="tuned: keras_disent.allocator's malloc settings in BOTH processes "
                             "(the reference gets them as MALLOC_* variables); default: glibc's "
                             "defaults in both; shipped: keras-disent as imported (tuned) vs "
                             "the reference as usually run (glibc's defaults)")
    args = parser.parse_args()
    if args.device == "auto":
        args.device = "cuda" if torch_reference.torch.cuda.is_available() else "cpu"
    if args.allocator == "default":
        os.environ["KERAS_DISENT_MALLOC"] = "default"
    from keras_disent import allocator

    allocator.keep_freed_memory()  # a no-op when KERAS_DISENT_MALLOC=default

    if allocator.applied and args.allocator == "tuned":
        os.environ.update(allocator.ENVIRONMENT)  # the same settings for the reference

    # The reference starts first (a fresh interpreter: "spawn"), before the Keras model exists.
    context = multiprocessing.get_context("spawn")
    connection, child_end = context.Pipe()
    child = context.Process(target=torch_reference.serve,
                            args=(child_end, args.threads, args.device), daemon=True)
    child.start()

    import keras

    from keras_disent.data import dsprites
    from keras_disent.speed import conv_layers as kd_layers
    from keras_disent.models import BetaVAE

    dataset = dsprites()
    batches = dataset.batches(args.batch_size, steps_per_epoch=args.rounds * args.steps, seed=0)
    for i in range(args.steps):
        connection.send(("batch", batches[i].transpose(0, 3, 1, 2).copy()))
    connection.send(("ready", None))
    model = BetaVAE(latent_dim=10, beta=4.0, decoder_upsample=args.decoder_upsample, seed=0)
    kd_layers.set_implementation(model, args.conv)
    model.compile(keras.optimizers.Adam(5e-4), jit_compile=True if args.jit_compile else "auto")
    model.fit(batches, epochs=1, steps_per_epoch=3, verbose=0)  # compile/trace once
    wait_for_device(model)
    assert connection.recv() == "ok"

    start = time.perf_counter()
    for i in range(args.steps):
        batches[i]
    input_seconds = (time.perf_counter() - start) / args.steps

    def run_reference():
        connection.send(("run", args.steps))
        return args.steps / connection.recv()

    interleaved = make_interleaved(keras, args.steps, run_reference, args.pause)
    model.fit(batches, epochs=1, steps_per_epoch=args.rounds * args.steps, verbose=0,
              callbacks=[interleaved])
    rows = [(r, torch_rate, keras_rate, keras_rate / torch_rate)
            for r, (torch_rate, keras_rate) in enumerate(interleaved.rows)]

    backend = keras.backend.backend()
    print(f"\nBetaVAE training speed, backend={backend}, batch {args.batch_size}, "
          f"decoder={args.decoder_upsample}, conv={args.conv}, jit_compile={model.jit_compile}, "
          f"allocator={args.allocator}, "
          f"{args.steps} steps/round, "
          f"reference on {args.device} ({args.threads} threads)")
    print(f"{'round':>5} | {'pytorch steps/s':>15} | {'keras-disent steps/s':>20} | {'ratio':>6}")
    print("-" * 56)
    for r, t, k, ratio in rows:
        print(f"{r:>5} | {t:>15.2f} | {k:>20.2f} | {ratio:>6.2f}")
    median = statistics.median(row[3] for row in rows)
    keras_median = statistics.median(row[2] for row in rows)
    print("-" * 56)
    print(f"median ratio keras-disent/pytorch: {median:.2f}")
    print(f"input batch: {1000 * input_seconds:.2f} ms = "
          f"{100 * input_seconds * keras_median:.1f}% of a keras-disent step")
    print(f"peak RSS (keras-disent process): {peak_rss_mib():.0f} MiB; images/s keras-disent: "
          f"{keras_median * args.batch_size:.0f}")
    connection.send(("stop", None))
    child.join(timeout=10)


if __name__ == "__main__":
    main()
