"""Reconstruction and traversal figures of converted zoo models on real images.

Usage: python zoo/figures.py [NAME ...] [--samples ../shared/peer/disentangling-vae]

For each zoo entry (default: beta_vae_celeba, beta_vae_chairs, beta_vae_mnist) writes
zoo/figures/<name>_reconstruction.png (10 real images above their reconstructions) and
zoo/figures/<name>_traversal.png (each latent swept over -2..2 around the first image's code,
rows sorted by KL over the 100 images), using the 100 real sample images the peer project
published (`<dataset>_samples.png`).
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*",
                        default=["beta_vae_celeba", "beta_vae_chairs", "beta_vae_mnist"])
    parser.add_argument("--samples", default=os.path.join(HERE, "..", "..", "shared", "peer",
                                                          "disentangling-vae"))
    args = parser.parse_args()
    from keras_disent import process

    process.configure()
    from keras_disent import visualize, zoo
    from keras_disent.peers import disentangling_vae as peer

    for name in args.names:
        entry = zoo.get(name)
        model = zoo.load(name)
        size, channels = entry.input_shape[0], entry.input_shape[2]
        images = peer.sample_images(os.path.join(args.samples, f"{entry.dataset}_samples.png"),
                                    size, channels)
        out = os.path.join(HERE, "figures")
        visualize.reconstruction_figure(model, images[:10],
                                        os.path.join(out, f"{name}_reconstruction.png"))
        _, order, kl = visualize.traversal_figure(model, images[0],
                                                  os.path.join(out, f"{name}_traversal.png"),
                                                  reference=images)
        print(f"{name}: KL per latent (sorted) {[round(float(kl[d]), 2) for d in order]}")


if __name__ == "__main__":
    main()
