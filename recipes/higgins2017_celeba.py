"""beta-VAE on CelebA (Higgins et al. 2017, Fig. 4: CelebA latent traversals).

Reads CelebA through TFDS (`--data_dir`, a prepared `celeb_a`) or a local folder
(`--celeba_folder ROOT` with img_align_celeba/ and list_attr_celeba.txt); centre crop 178,
resize 64, RGB in [0, 1]. The network is the 64x64 conv VAE with 32-32-64-64 channels, 10
latents, beta 4 and a Bernoulli decoder: the architecture recorded in the zoo entry
`beta_vae_celeba`.

Full scale (a GPU):
    KERAS_BACKEND=jax python recipes/higgins2017_celeba.py --data_dir PATH --out runs/beta_vae_celeba
then `keras-disent zoo register runs/beta_vae_celeba --name beta_vae_celeba --default`.
CelebA is not downloadable on machines without internet; the recipe says so at once.
"""

import os
import sys

from absl import app, flags

flags.DEFINE_string("out", "runs/higgins2017_celeba", "Run directory.")
flags.DEFINE_string("data_dir", None, "TFDS data_dir holding a prepared celeb_a.")
flags.DEFINE_string("celeba_folder", None, "Local CelebA root (img_align_celeba/ + attrs).")
flags.DEFINE_integer("steps", 200_000, "Training steps.")
flags.DEFINE_integer("batch_size", 64, "Batch size.")
flags.DEFINE_float("learning_rate", 5e-4, "Adam learning rate.")
flags.DEFINE_float("beta", 4.0, "KL weight.")
flags.DEFINE_integer("latent_dim", 10, "Latent dimensions.")
flags.DEFINE_integer("max_images", None, "Use only the first N faces (memory: 12 KB each).")
flags.DEFINE_integer("seed", 0, "Seed.")
flags.DEFINE_bool("smoke", False, "Tiny run: 300 steps on at most 2,000 faces.")
FLAGS = flags.FLAGS

CONFIG = dict(image_shape=(64, 64, 3), conv_channels=(32, 32, 64, 64), dense_units=(256, 256),
              reconstruction="bernoulli")


def load_faces():
    """CelebA as an ImageArrayDataset, or SystemExit with how to get it."""
    from keras_disent import data
    from keras_disent.data.tfds_loader import DatasetNotPreparedError

    max_images = 2000 if FLAGS.smoke else FLAGS.max_images
    try:
        if FLAGS.celeba_folder:
            return data.celeba_folder(FLAGS.celeba_folder, image_size=64, max_images=max_images)
        return data.tfds("celeb_a", split="train", data_dir=FLAGS.data_dir,
                         image_size=64, max_examples=max_images)
    except (DatasetNotPreparedError, FileNotFoundError, ImportError) as error:
        raise SystemExit(f"error: CelebA is not available here.\n{error}\n"
                         "Pass --data_dir DIR (a prepared TFDS celeb_a) or --celeba_folder ROOT.")


def main(argv):
    del argv
    from keras_disent import process

    process.configure()  # this script owns its process: before keras starts
    from keras_disent import train
    from keras_disent.models import BetaVAE

    process.seed_everything(FLAGS.seed)
    faces = load_faces()
    steps = 300 if FLAGS.smoke else FLAGS.steps
    model = BetaVAE(latent_dim=FLAGS.latent_dim, beta=FLAGS.beta, seed=FLAGS.seed, **CONFIG)
    command = "python " + " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:])
    train.train_and_report(model, faces, FLAGS.out, steps, FLAGS.batch_size,
                           FLAGS.learning_rate, FLAGS.seed, (), command=command)
    print(f"[keras-disent] wrote {FLAGS.out}/")


if __name__ == "__main__":
    app.run(main)
