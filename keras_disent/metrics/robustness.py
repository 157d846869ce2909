"""Accuracy of a classifier under the fast gradient-sign attack (Goodfellow et al. 2015),
the attack of Alemi et al. 2017's robustness experiments (there called FGS)."""

import numpy as np

from keras_disent import contract


def gradient_sign_accuracy(model, images, labels, epsilons=(0.0, 0.05, 0.1, 0.2, 0.3),
                           batch_size=500):
    """`{epsilon: accuracy}` on x' = clip(x + epsilon * sign(grad_x CE(f(x), y)), 0, 1).

    The gradient is taken once per image, of the cross-entropy of the model's test-time
    prediction (`model.prediction_loss`; for Deep VIB the average over its z draws, a
    white-box attack), and every epsilon moves along its sign.

    Args:
        model: a model with the "classifier" capability and `prediction_loss`.
        images: `(n, H, W, C)` in [0, 1].
        labels: int `(n,)`.
        epsilons: L-infinity sizes of the perturbation (pixels are in [0, 1]).
    """
    from keras import ops

    from keras_disent import training

    contract.require_capability(model, contract.CLASSIFIER, "attack a classifier")
    images = contract.check_images(images, model.image_shape)
    labels = contract.check_labels(labels, model.num_classes, len(images))
    epsilons = [float(e) for e in epsilons]
    if any(e < 0 or not np.isfinite(e) for e in epsilons):
        raise ValueError(f"epsilons must be finite and >= 0, got {epsilons}.")
    correct = {e: 0 for e in epsilons}
    for begin in range(0, len(images), batch_size):
        x = images[begin:begin + batch_size]
        y = labels[begin:begin + batch_size]
        target = ops.convert_to_tensor(y)
        grad = training.input_gradient(lambda t: model.prediction_loss(t, target), x)
        direction = np.sign(grad).astype(np.float32)
        for e in epsilons:
            attacked = np.clip(x + e * direction, 0.0, 1.0)
            correct[e] += int(np.sum(model.predict_labels(attacked, batch_size) == y))
    return {e: correct[e] / len(images) for e in epsilons}
