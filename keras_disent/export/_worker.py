"""`python -m keras_disent.export._worker SOURCE OUT_DIR OPTIONS_JSON` under KERAS_BACKEND=tensorflow."""

import json
import sys


def main(argv):
    source, out_dir, options = argv[1], argv[2], json.loads(argv[3])
    from keras_disent.export import ExportError, _resolve, _tensorflow

    try:
        _tensorflow.export(_resolve(source), out_dir, **options)
    except ExportError as error:
        print(f"ExportError: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
