"""What Ray adds per trial: the same tiny trials run in this process, one after another, and
as Ray tasks on a local Ray instance with 1 CPU (one at a time: the difference is Ray's
overhead) and with every CPU (trials in parallel). Prints a table.

    KERAS_BACKEND=jax python bench/sweep_overhead.py [--trials 6] [--steps 50]
"""

import argparse
import os
import shutil
import tempfile
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args()
    from keras_disent import process

    process.configure()
    import ray

    from keras_disent import sweep

    network = {"latent_dim": 4, "conv_channels": [8, 8, 8, 8], "dense_units": [32]}
    trials = sweep.grid({"beta_vae": {"beta": [1.0 + i for i in range(args.trials)]}},
                        seeds=[0], steps=args.steps, batch_size=32, model_config=network)
    root = tempfile.mkdtemp(prefix="sweep_overhead_")
    timings = {}
    try:
        for label, executor, cpus in (("this process, sequential", "local", None),
                                      ("local Ray, 1 CPU", "ray", 1),
                                      (f"local Ray, {os.cpu_count()} CPUs", "ray",
                                       os.cpu_count())):
            out = os.path.join(root, label.replace(" ", "_").replace(",", ""))
            start = time.time()
            if executor == "ray":
                ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False,
                         runtime_env={"env_vars": {"KERAS_BACKEND": os.environ.get(
                             "KERAS_BACKEND", "jax")}})
            started = time.time() - start
            rows = sweep.run_sweep(trials, out, executor=executor, metric_names=(),
                                   progress=False)
            total = time.time() - start
            if executor == "ray":
                ray.shutdown()
            assert all(r["status"] == "finished" for r in rows), rows
            timings[label] = (total, started, sum(r["seconds"] for r in rows))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    base = timings["this process, sequential"][0]
    print(f"\n{args.trials} trials of {args.steps} steps (tiny BetaVAE, dSprites), "
          f"backend {os.environ.get('KERAS_BACKEND', 'jax')}")
    print("| executor | wall s | Ray start s | per trial s | overhead per trial vs in-process s |")
    print("|---|---|---|---|---|")
    for label, (total, started, _) in timings.items():
        print(f"| {label} | {total:.1f} | {started:.1f} | {total / args.trials:.2f} | "
              f"{(total - base) / args.trials:+.2f} |")


if __name__ == "__main__":
    main()
