"""beta-VAE with capacity annealing on dSprites (Burgess et al. 2018, Fig. 4-5).

gamma * |KL - C|, C rising linearly from 0 to 25 nats over 100k steps (the paper's dSprites
setting, and disentanglement_lib's "AnnealedVAE"). Same outputs as higgins2017_dsprites.py.
    KERAS_BACKEND=jax python recipes/burgess2018_dsprites.py --out runs/burgess2018
    python recipes/burgess2018_dsprites.py --smoke
"""

import sys

from absl import app

import higgins2017_dsprites as base

if __name__ == "__main__":
    # Same recipe body; the paper's annealing defaults are set before flags are parsed.
    base.FLAGS.set_default("capacity_max", 25.0)
    base.FLAGS.set_default("out", "runs/burgess2018_dsprites")
    base.FLAGS.set_default("learning_rate", 5e-4)
    app.run(base.main, argv=sys.argv)
