"""DC-IGN on procedural lit 3D objects (Kulkarni et al. 2015, Fig. 4-6 style: pose and light
latents swept on a test image, beside the ground-truth renders).

Trains DC-IGN with clamped one-factor batches (azimuth : elevation : light : shape =
1 : 1 : 1 : 10, the paper's ratio with the intrinsic group most frequent) and, as the baseline,
a BetaVAE of the same network and latent size trained on uniformly sampled batches for as
many steps. Then:
  fig_pose_light.png   for one test image, per factor (azimuth, elevation, light azimuth):
                       "truth" row = renders with that factor swept over its grid, "DC-IGN"
                       row = the test image's code with the factor's latent swept over its
                       range in the data (2nd..98th percentile of the posterior means),
                       decoded; and the same for the BetaVAE latent most informative of the
                       factor
  metrics.json         MIG (and per-factor MIG) of both models on the 3D dataset
  dcign/ and beta_vae/ run directories (model.keras, config, history; resumable)

CPU (the default length, about 10 minutes per model on 2 cores):
    python recipes/kulkarni2015_fig_pose_light.py
Longer on a GPU: KERAS_BACKEND=jax python recipes/kulkarni2015_fig_pose_light.py --steps 50000
Smoke run (minutes): --smoke.
"""

import os
import sys

import numpy as np
from absl import app, flags

flags.DEFINE_string("out", "runs/kulkarni2015_pose_light", "Output directory.")
flags.DEFINE_integer("steps", 4000, "Training steps of each model.")
flags.DEFINE_integer("batch_size", 64, "Batch size.")
flags.DEFINE_float("learning_rate", 5e-4, "Adam learning rate.")
flags.DEFINE_list("ratios", ["1", "1", "1", "10"],
                  "Batch ratios azimuth:elevation:light_azimuth:shape (intrinsic).")
flags.DEFINE_integer("intrinsic_dim", 7, "Intrinsic latent dims (total latents = 3 + this).")
flags.DEFINE_float("baseline_beta", 4.0, "beta of the BetaVAE baseline.")
flags.DEFINE_integer("seed", 0, "Seed.")
flags.DEFINE_bool("smoke", False, "Tiny run: 150 steps each, small MIG protocol.")
FLAGS = flags.FLAGS

POSE_LIGHT = ("azimuth", "elevation", "light_azimuth")
SHORT = {"azimuth": "azim", "elevation": "elev", "light_azimuth": "light"}


def truth_row(dataset, test_factors, factor, num=9):
    """Renders of the test object with `factor` swept over its grid."""
    k = dataset.factor_names.index(factor)
    factors = np.repeat(test_factors[None], num, axis=0)
    factors[:, k] = np.linspace(0, dataset.factor_sizes[k] - 1, num).round().astype(int)
    return dataset.images_from_factors(factors)


def latent_sweep(model, image, dim, reference_codes, num=9):
    """The test image's code with latent `dim` swept over the 2nd..98th percentile of its
    posterior means on random images (its range in the data), decoded."""
    low, high = np.percentile(reference_codes[:, dim], [2, 98])
    return model.traverse(image, dims=[dim], values=np.linspace(low, high, num))[0]


def most_informative_dim(mig_result, factor_index):
    return int(np.argmax(np.asarray(mig_result["info_per_factor"])[:, factor_index]))


def main(argv):
    del argv
    from keras_disent import process

    process.configure()  # this script owns its process: before keras starts
    from keras_disent import data, runs, train, visualize
    from keras_disent.models import DCIGN, BetaVAE
    from keras_disent.metrics import utils
    from keras_disent.metrics.mig import mig_from_codes

    process.seed_everything(FLAGS.seed)
    steps = 150 if FLAGS.smoke else FLAGS.steps
    num_mig = 2000 if FLAGS.smoke else 10_000
    dataset = data.objects3d()
    command = "python " + " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:])
    steps_per_epoch = min(500, steps)

    dcign = DCIGN(factor_latents=[(f, 1) for f in POSE_LIGHT], intrinsic_dim=FLAGS.intrinsic_dim,
                  intrinsic_factor="shape", seed=FLAGS.seed)
    batches = data.FactorBatches(dataset, dcign.group_factors,
                                 ratios=[float(r) for r in FLAGS.ratios],
                                 batch_size=FLAGS.batch_size, steps_per_epoch=steps_per_epoch,
                                 seed=FLAGS.seed)
    _, dcign_wall = train.fit_run(dcign, dataset, os.path.join(FLAGS.out, "dcign"), steps,
                                  FLAGS.batch_size, FLAGS.learning_rate, FLAGS.seed,
                                  steps_per_epoch, run_config={"command": command},
                                  batches=batches)
    baseline = BetaVAE(latent_dim=dcign.latent_dim, beta=FLAGS.baseline_beta, seed=FLAGS.seed)
    _, baseline_wall = train.fit_run(baseline, dataset, os.path.join(FLAGS.out, "beta_vae"),
                                     steps, FLAGS.batch_size, FLAGS.learning_rate, FLAGS.seed,
                                     steps_per_epoch, run_config={"command": command})

    results = {}
    for name, model, wall in (("dcign", dcign, dcign_wall), ("beta_vae", baseline,
                                                             baseline_wall)):
        # One sample of codes serves MIG (as metrics.mig draws it) and the information matrix.
        codes, factors = utils.sample_codes(dataset, model.encode, num_mig,
                                            utils.make_rng(FLAGS.seed))
        scores = mig_from_codes(codes, factors)
        info = utils.discrete_mutual_info(utils.histogram_discretize(codes, 20), factors)
        results[name] = {"mig": scores["mig"], "mig_per_factor": dict(zip(
            dataset.factor_names, scores["mig_per_factor"])), "info_per_factor": info.tolist(),
            "steps": steps, "wall_time_s": round(wall, 1)}

    test_factors = np.array([2, 5, 2, 2])  # teapot, turned left, seen from slightly below
    test_image = dataset.images_from_factors(test_factors[None])[0]
    reference = dataset.images_from_factors(dataset.sample_factors(2000, FLAGS.seed + 1))
    dcign_codes, baseline_codes = dcign.encode(reference), baseline.encode(reference)
    rows, labels = [], []
    for factor in POSE_LIGHT:
        k = dataset.factor_names.index(factor)
        dim = most_informative_dim(results["beta_vae"], k)
        rows += [truth_row(dataset, test_factors, factor),
                 latent_sweep(dcign, test_image, dcign.factor_dims(factor)[0], dcign_codes),
                 latent_sweep(baseline, test_image, dim, baseline_codes)]
        labels += [f"truth: {SHORT[factor]}", f"DC-IGN z{dcign.factor_dims(factor)[0]}",
                   f"beta-VAE z{dim}"]
    figure = visualize.grid_figure(np.stack(rows), os.path.join(FLAGS.out, "fig_pose_light.png"),
                                   labels)
    runs.write_json(os.path.join(FLAGS.out, "metrics.json"), {
        "dataset": "objects3d", "seed": FLAGS.seed, "metrics": results, "command": command,
        "protocol": f"MIG, {num_mig} points, 20 bins", "provenance": runs.provenance()})
    for name in results:
        print(f"[keras-disent] {name}: MIG {results[name]['mig']:.3f} per factor "
              + ", ".join(f"{k} {v:.3f}" for k, v in results[name]["mig_per_factor"].items()))
    print(f"[keras-disent] wrote {figure} and {FLAGS.out}/metrics.json")


if __name__ == "__main__":
    app.run(main)
