"""beta-VAE on dSprites (Higgins et al. 2017, Fig. 7: latent traversals) + disentanglement metrics.

Full scale (a GPU; defaults follow disentanglement_lib's beta-VAE study: beta 4, 10 latents,
batch 64, Adam 1e-4, 300k steps):
    KERAS_BACKEND=jax python recipes/higgins2017_dsprites.py --out runs/higgins2017
CPU smoke run (a few minutes):
    python recipes/higgins2017_dsprites.py --smoke
Outputs: run directory with model.keras, model.weights.h5, traversal.png, reconstruction.png,
config.json (config, command, backend, Keras version, commit), metrics.json, history.json.
Register the result in the zoo with `keras-disent zoo register RUN_DIR --name NAME`.
"""

import os
import sys

from absl import app, flags

flags.DEFINE_string("out", "runs/higgins2017_dsprites", "Run directory.")
flags.DEFINE_integer("steps", 300_000, "Training steps.")
flags.DEFINE_integer("batch_size", 64, "Batch size.")
flags.DEFINE_float("learning_rate", 1e-4, "Adam learning rate.")
flags.DEFINE_float("beta", 4.0, "KL weight (Higgins'17 used 4 on dSprites).")
flags.DEFINE_float("capacity_max", None, "Burgess'18 C_max in nats; enables annealing.")
flags.DEFINE_integer("capacity_steps", 100_000, "Steps for C to reach C_max.")
flags.DEFINE_float("gamma", 1000.0, "Weight of |KL - C| when annealing.")
flags.DEFINE_integer("latent_dim", 10, "Latent dimensions.")
flags.DEFINE_integer("seed", 0, "Seed of data order, initialisation and metrics.")
flags.DEFINE_list("metrics", ["mig", "factor_vae", "dci", "sap", "modularity", "beta_vae"],
                  "Metrics computed after training.")
flags.DEFINE_enum("dci_classifier", "gbt", ["gbt", "lasso"], "DCI's classifier.")
flags.DEFINE_bool("smoke", False, "Tiny CPU run: 300 steps, fast metrics.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    from keras_disent import process

    process.configure()  # this script owns its process: before keras starts
    from keras_disent import data, train
    from keras_disent.models import BetaVAE

    process.seed_everything(FLAGS.seed)
    steps, metric_names, dci_classifier = FLAGS.steps, FLAGS.metrics, FLAGS.dci_classifier
    if FLAGS.smoke:
        steps, metric_names, dci_classifier = 300, ["mig", "sap"], "lasso"
    annealing = {}
    if FLAGS.capacity_max is not None:
        annealing = dict(capacity_max=FLAGS.capacity_max, capacity_steps=FLAGS.capacity_steps,
                         gamma=FLAGS.gamma)
    model = BetaVAE(latent_dim=FLAGS.latent_dim, beta=FLAGS.beta, seed=FLAGS.seed, **annealing)
    command = "python " + " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:])
    train.train_and_report(model, data.dsprites(), FLAGS.out, steps, FLAGS.batch_size,
                           FLAGS.learning_rate, FLAGS.seed, metric_names, dci_classifier,
                           command=command)
    print(f"[keras-disent] wrote {FLAGS.out}/")


if __name__ == "__main__":
    app.run(main)
