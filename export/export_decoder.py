"""Export a model's decoder to SavedModel + TFLite with a parity check (see export/README.md).

    python export/export_decoder.py beta_vae_dsprites --out exported --quantize float16
"""

import sys

from keras_disent import cli

if __name__ == "__main__":
    cli.main(["export"] + sys.argv[1:])
