"""Convolutional encoders and decoders, built from plain config values.

The default is the 64x64 network of Burgess et al. 2018 (Understanding disentangling in
beta-VAE, Sec. 4 / Appendix A) used by disentanglement_lib: 4 conv layers of 32 4x4 filters,
stride 2, two dense layers of 256, and the mirror-image decoder. Other input sizes work: the
decoder upsamples to the next multiple of 2**len(conv_channels) and crops to the input size.
"""

import math

import keras
from keras import layers

from keras_disent.speed import conv_layers as kd_layers


def _check_shape(image_shape):
    if len(image_shape) != 3 or min(image_shape) <= 0:
        raise ValueError(f"image_shape must be (height, width, channels), got {image_shape}.")
    return tuple(int(d) for d in image_shape)


def _check_channels(conv_channels):
    channels = tuple(conv_channels)
    if not channels or any(int(c) != c or c <= 0 for c in channels):
        raise ValueError(f"conv_channels must list at least one positive number of filters "
                         f"(one per stride-2 layer), got {conv_channels!r}.")
    return channels


def _stride2_convs(x, conv_channels, kernel_size, batch_norm=False):
    """Stride-2 'same' convolutions `conv{i}` (+ BatchNormalization `conv{i}_bn`), each
    followed by ReLU."""
    for i, channels in enumerate(conv_channels):
        x = kd_layers.Conv2D(channels, kernel_size, strides=2, padding="same",
                             name=f"conv{i}")(x)
        if batch_norm:
            x = layers.BatchNormalization(name=f"conv{i}_bn")(x)
        x = layers.ReLU()(x)
    return x


def conv_encoder(image_shape, output_dim, conv_channels=(32, 32, 32, 32), kernel_size=4,
                 dense_units=(256, 256), batch_norm=False, name="encoder"):
    """Image `(H, W, C)` -> vector `(output_dim,)` (e.g. mean and log-variance of q(z|x)).

    Args:
        image_shape: input image shape `(H, W, C)`.
        output_dim: size of the final linear output.
        conv_channels: filters of each stride-2 convolution.
        kernel_size: convolution kernel size.
        dense_units: sizes of the ReLU dense layers after the convolutions.
        batch_norm: add BatchNormalization after every hidden layer.
        name: model name.
    """
    image_shape = _check_shape(image_shape)
    conv_channels = _check_channels(conv_channels)
    inputs = keras.Input(image_shape, name="images")
    x = layers.Flatten()(_stride2_convs(inputs, conv_channels, kernel_size, batch_norm))
    for i, units in enumerate(dense_units):
        x = layers.Dense(units, name=f"dense{i}")(x)
        if batch_norm:
            x = layers.BatchNormalization(name=f"dense{i}_bn")(x)
        x = layers.ReLU()(x)
    outputs = layers.Dense(output_dim, name="output")(x)
    return keras.Model(inputs, outputs, name=name)


def conv_decoder(latent_dim, image_shape, conv_channels=(32, 32, 32, 32), kernel_size=4,
                 dense_units=(256, 256), upsample="transpose", batch_norm=False, name="decoder"):
    """Latent `(latent_dim,)` -> image logits `(H, W, C)`: the mirror of `conv_encoder`.

    Args:
        latent_dim: size of the input code.
        image_shape: output image shape `(H, W, C)`.
        conv_channels: the encoder's filters; the decoder uses them in reverse order.
        kernel_size: kernel size of the transposed convolutions.
        dense_units: the encoder's dense sizes; used in reverse order.
        upsample: "transpose" (paper: Conv2DTranspose, stride 2) or "resize" (nearest-neighbour
            upsampling then a 3x3 convolution: about 2x faster to train under JAX on CPU).
        batch_norm: add BatchNormalization after every hidden layer.
        name: model name.
    """
    image_shape = _check_shape(image_shape)
    conv_channels = _check_channels(conv_channels)
    if upsample not in ("transpose", "resize"):
        raise ValueError(f"upsample must be 'transpose' or 'resize', got {upsample!r}.")
    if latent_dim <= 0:
        raise ValueError(f"latent_dim must be positive, got {latent_dim}.")
    height, width, out_channels = image_shape
    factor = 2 ** len(conv_channels)
    start_h, start_w = math.ceil(height / factor), math.ceil(width / factor)
    channels = list(conv_channels)[::-1]

    inputs = keras.Input((latent_dim,), name="latents")
    x = inputs
    for i, units in enumerate(list(dense_units)[::-1]):
        x = layers.Dense(units, name=f"dense{i}")(x)
        if batch_norm:
            x = layers.BatchNormalization(name=f"dense{i}_bn")(x)
        x = layers.ReLU()(x)
    x = layers.Dense(start_h * start_w * channels[0], name="to_grid")(x)
    x = layers.ReLU()(x)
    x = layers.Reshape((start_h, start_w, channels[0]))(x)
    targets = channels[1:] + [out_channels]
    for i, filters in enumerate(targets):
        last = i == len(targets) - 1
        if upsample == "transpose":
            x = kd_layers.Conv2DTranspose(filters, kernel_size, strides=2, padding="same",
                                       name=f"deconv{i}")(x)
        else:
            x = layers.UpSampling2D(2, name=f"upsample{i}")(x)
            x = kd_layers.Conv2D(filters, 3, padding="same", name=f"conv{i}")(x)
        if not last:
            if batch_norm:
                x = layers.BatchNormalization(name=f"deconv{i}_bn")(x)
            x = layers.ReLU()(x)
    crop_h, crop_w = start_h * factor - height, start_w * factor - width
    if crop_h or crop_w:
        x = layers.Cropping2D(((crop_h // 2, crop_h - crop_h // 2),
                               (crop_w // 2, crop_w - crop_w // 2)))(x)
    return keras.Model(inputs, x, name=name)


def mlp_classifier(input_dim, hidden_units, num_classes, name="classifier"):
    """Vector `(input_dim,)` -> `num_classes` logits through ReLU dense `hidden_units` (none:
    a softmax regression). Used for identity / domain classifiers on codes."""
    inputs = keras.Input((input_dim,))
    x = inputs
    for i, units in enumerate(hidden_units):
        x = layers.Dense(units, activation="relu", name=f"dense{i}")(x)
    return keras.Model(inputs, layers.Dense(num_classes, name="logits")(x), name=name)


def conv_feature_map(image_shape, conv_channels=(32, 64), kernel_size=4, name="features"):
    """Image `(H, W, C)` -> feature map `(ceil(H / 2**k), ceil(W / 2**k), conv_channels[-1])`
    through `k` stride-2 ReLU convolutions (DRIT's per-domain content layers)."""
    image_shape = _check_shape(image_shape)
    conv_channels = _check_channels(conv_channels)
    inputs = keras.Input(image_shape, name="images")
    return keras.Model(inputs, _stride2_convs(inputs, conv_channels, kernel_size), name=name)


def map_generator(input_shape, image_shape, conv_channels=(32, 64), kernel_size=4,
                  name="generator"):
    """Feature map `(h, w, c)` -> image logits `(H, W, C)`: a 3x3 ReLU convolution, then
    stride-2 transposed convolutions (the mirror of `conv_feature_map` with the same
    `conv_channels`), cropped to `image_shape` (DRIT's generators)."""
    image_shape = _check_shape(image_shape)
    conv_channels = _check_channels(conv_channels)
    height, width, out_channels = image_shape
    inputs = keras.Input(tuple(int(d) for d in input_shape), name="feature_map")
    x = kd_layers.Conv2D(conv_channels[-1], 3, padding="same", name="mix")(inputs)
    x = layers.ReLU()(x)
    targets = list(conv_channels)[::-1][1:] + [out_channels]
    for i, filters in enumerate(targets):
        x = kd_layers.Conv2DTranspose(filters, kernel_size, strides=2, padding="same",
                                      name=f"deconv{i}")(x)
        if i < len(targets) - 1:
            x = layers.ReLU()(x)
    crop_h = int(input_shape[0]) * 2 ** len(conv_channels) - height
    crop_w = int(input_shape[1]) * 2 ** len(conv_channels) - width
    if crop_h < 0 or crop_w < 0:
        raise ValueError(f"a {tuple(input_shape)} map upsampled {2 ** len(conv_channels)}x "
                         f"cannot cover images of shape {image_shape}.")
    if crop_h or crop_w:
        x = layers.Cropping2D(((crop_h // 2, crop_h - crop_h // 2),
                               (crop_w // 2, crop_w - crop_w // 2)))(x)
    return keras.Model(inputs, x, name=name)
