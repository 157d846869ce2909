"""Synthetic ground truth whose observations are the factors themselves.

Used to check metrics against known answers (as disentanglement_lib's
`IdentityObservationsData`): a representation_fn then maps factor vectors to codes.
"""

import numpy as np

from keras_disent.data.ground_truth import GroundTruthDataset


class FactorObservations(GroundTruthDataset):
    """Observations are the factor grid indices as float32 `(n, K)`.

    Args:
        factor_sizes: number of values of each factor.
        factor_names: optional names; default `factor0`, `factor1`, ...
    """

    def __init__(self, factor_sizes=(10, 10, 10), factor_names=None):
        self.factor_sizes = tuple(int(s) for s in factor_sizes)
        self.factor_names = tuple(factor_names or
                                  (f"factor{i}" for i in range(len(self.factor_sizes))))
        self.image_shape = (len(self.factor_sizes),)

    def images_from_factors(self, factors):
        return self._check_factors(factors).astype(np.float32)
