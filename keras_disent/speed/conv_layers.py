"""Drop-in replacements for `keras.layers.Conv2D` / `Conv2DTranspose` with faster paths for
the 4x4, stride-2, "same" case.

Same class names, variables, outputs (to float rounding) and weights files as Keras' own
layers (Keras names weights-file groups after the class name, so a network built with these
loads weights saved with the Keras layers, and the other way round); only the computation
differs, by `implementation`:
  - "phases": the strided (transposed) convolution as stride-1 2x2 convolutions over
    space-to-depth phases (`ops.conv`);
  - "matmul": the same phases, each stride-1 convolution as one matrix product plus shifts
    (`_stride1_conv`);
  - "torch": PyTorch's kernels on a channels-last view of the NHWC tensor, with no layout
    copies (`torch_conv.py`);
  - "native": Keras' own call.
"auto" picks "matmul" under JAX on a CPU, "phases" under JAX elsewhere, "torch" under torch
and "native" under tensorflow, which bench/train_speed.py and bench/conv_forms.py measured as
the fastest on each (README "Performance" has the dated figures). With the speed paths
switched off (`keras_disent.speed.set_enabled(False)`) every layer runs "native".

Reference:
    Shi et al. 2016, Real-Time Single Image and Video Super-Resolution Using an Efficient
    Sub-Pixel Convolutional Neural Network, CVPR (the phase decomposition used here).
"""

import keras
from keras import layers, ops

# A 4-tap stride-2 "same" convolution reads input rows 2i-1 .. 2i+2 for output row i. After
# padding by one and grouping rows in pairs (space-to-depth), that is a 2-tap stride-1
# convolution. The transposed convolution writes output row 2m from input rows (m-1, m) with
# kernel taps (3, 1) and row 2m+1 from rows (m, m+1) with taps (2, 0): four 2x2 stride-1
# convolutions ("phases") interleaved by depth-to-space.
_PHASE_TAPS = ((3, 1), (2, 0))
_IMPLEMENTATIONS = ("auto", "matmul", "phases", "torch", "native")


def _phases_supported(layer):
    return (tuple(layer.kernel_size) == (4, 4) and tuple(layer.strides) == (2, 2)
            and layer.padding == "same" and layer.data_format == "channels_last"
            and tuple(layer.dilation_rate) == (1, 1))


def _implementation(layer):
    """"matmul", "phases", "torch" or "native" for this layer under the current backend
    ("native", Keras' own call, whenever the speed paths are switched off)."""
    from keras_disent import speed

    if not speed.enabled() or layer.implementation == "native" or \
            not _phases_supported(layer):
        return "native"
    backend = keras.backend.backend()
    if layer.implementation == "auto":
        if backend == "jax":
            implementation = "matmul" if _jax_on_cpu() else "phases"
        else:
            implementation = "torch" if backend == "torch" else "native"
    else:
        implementation = layer.implementation
    if implementation == "torch" and (backend != "torch" or not _torch_kernels().usable()):
        return "native"
    return implementation


def _jax_on_cpu():
    from keras_disent.training import _jax

    return _jax.default_platform() == "cpu"


def _checked(implementation):
    if implementation not in _IMPLEMENTATIONS:
        raise ValueError(f"implementation must be one of {_IMPLEMENTATIONS}, got "
                         f"{implementation!r}.")
    return implementation


def _torch_kernels():
    from keras_disent.speed import torch_conv

    return torch_conv


class _Implementation:
    """The `implementation` argument both layers add to their Keras base class."""

    def __init__(self, filters, kernel_size, implementation="auto", **kwargs):
        super().__init__(filters, kernel_size, **kwargs)
        self.implementation = _checked(implementation)

    def get_config(self):
        return dict(super().get_config(), implementation=self.implementation)


def _cast(variable, inputs):
    return ops.cast(variable, inputs.dtype)


def _bias(layer, inputs):
    return _cast(layer.bias, inputs) if layer.use_bias else None


def _activate(layer, outputs):
    return outputs if layer.activation is None else layer.activation(outputs)


def _stride1_conv(inputs, kernel, implementation):
    """Stride-1 "valid" convolution of `inputs` (N, H, W, C) with `kernel` (kh, kw, C, F).

    "phases": `ops.conv`. "matmul": one matrix product, in whichever arrangement has the
    smaller intermediate tensor:
      - C <= F, input patches: the kh*kw shifted windows of the input side by side,
        (N*Ho*Wo, kh*kw*C) @ (kh*kw*C, F) (im2col);
      - C > F, output taps: every input pixel times every tap, (N*H*W, C) @ (C, kh*kw*F),
        then each tap's products shifted into place and summed (col2im).
    Their gradients are matrix products and pads/slices too.
    """
    if implementation != "matmul":
        return ops.conv(inputs, kernel, strides=1, padding="valid")
    kernel_h, kernel_w, channels, filters = kernel.shape
    height, width = inputs.shape[1], inputs.shape[2]
    out_h, out_w = height - kernel_h + 1, width - kernel_w + 1
    taps = [(i, j) for i in range(kernel_h) for j in range(kernel_w)]
    if channels <= filters:
        patches = ops.concatenate([inputs[:, i:i + out_h, j:j + out_w, :] for i, j in taps],
                                  axis=-1)
        outputs = ops.matmul(ops.reshape(patches, (-1, len(taps) * channels)),
                             ops.reshape(kernel, (len(taps) * channels, filters)))
        return ops.reshape(outputs, (-1, out_h, out_w, filters))
    products = ops.matmul(ops.reshape(inputs, (-1, channels)),
                          ops.reshape(ops.transpose(kernel, (2, 0, 1, 3)),
                                      (channels, len(taps) * filters)))
    products = ops.reshape(products, (-1, height, width, kernel_h, kernel_w, filters))
    outputs = None
    for i, j in taps:
        shifted = products[:, i:i + out_h, j:j + out_w, i, j, :]
        outputs = shifted if outputs is None else outputs + shifted
    return outputs


def _finish(layer, outputs):
    if layer.use_bias:
        outputs = outputs + layer.bias
    return _activate(layer, outputs)


def set_implementation(model, implementation):
    """Sets `implementation` on every `Conv2D` / `Conv2DTranspose` of this module in `model`
    (e.g. "native" to compare with Keras' call); returns how many layers it changed."""
    implementation = _checked(implementation)
    convs = [layer for layer in model._flatten_layers() if isinstance(layer, _Implementation)]
    for layer in convs:
        layer.implementation = implementation
    return len(convs)


@keras.saving.register_keras_serializable(package="keras_disent")
class Conv2D(_Implementation, layers.Conv2D):
    """`keras.layers.Conv2D`; with kernel 4, stride 2, "same" padding it is computed as
    space-to-depth + a 2x2 stride-1 convolution under JAX (see the module docstring).

    Args:
        implementation: "auto" ("matmul" under JAX on a CPU, "phases" under JAX elsewhere,
            "torch" under PyTorch, "native" under TensorFlow), "matmul" (phases, each
            stride-1 convolution as a matrix product), "phases" (phases, `ops.conv`), "torch"
            (PyTorch's kernel on a channels-last view; the torch backend only) or "native"
            (Keras' call).
        other arguments: as `keras.layers.Conv2D`.
    """

    def call(self, inputs):
        height, width = inputs.shape[1], inputs.shape[2]
        implementation = _implementation(self)
        if implementation == "native" or height is None or width is None or height % 2 or \
                width % 2:
            return super().call(inputs)
        if implementation == "torch":
            outputs = _torch_kernels().conv2d(inputs, _cast(self.kernel, inputs),
                                             _bias(self, inputs))
            return _activate(self, outputs)
        channels = inputs.shape[3]
        padded = ops.pad(inputs, ((0, 0), (1, 1), (1, 1), (0, 0)))
        rows, cols = height // 2 + 1, width // 2 + 1
        grouped = ops.reshape(padded, (-1, rows, 2, cols, 2, channels))
        grouped = ops.reshape(ops.transpose(grouped, (0, 1, 3, 2, 4, 5)),
                              (-1, rows, cols, 4 * channels))
        kernel = ops.reshape(self.kernel, (2, 2, 2, 2, channels, self.filters))
        kernel = ops.reshape(ops.transpose(kernel, (0, 2, 1, 3, 4, 5)),
                             (2, 2, 4 * channels, self.filters))
        return _finish(self, _stride1_conv(grouped, kernel, implementation))


@keras.saving.register_keras_serializable(package="keras_disent")
class Conv2DTranspose(_Implementation, layers.Conv2DTranspose):
    """`keras.layers.Conv2DTranspose`; with kernel 4, stride 2, "same" padding it is computed
    as one 2x2 stride-1 convolution into 4 output phases + depth-to-space under JAX.

    Args:
        implementation: "auto" ("matmul" under JAX on a CPU, "phases" under JAX elsewhere,
            "torch" under PyTorch, "native" under TensorFlow), "matmul" (phases, each
            stride-1 convolution as a matrix product), "phases" (phases, `ops.conv`), "torch"
            (PyTorch's kernel on a channels-last view; the torch backend only) or "native"
            (Keras' call).
        other arguments: as `keras.layers.Conv2DTranspose`.
    """

    def _phase_kernel(self):
        """`(2, 2, in, 4 * filters)`: the 2x2 sub-kernels of the 4 output phases."""
        kernel = ops.transpose(self.kernel, (0, 1, 3, 2))  # (4, 4, in, filters)
        phases = []
        for row_taps in _PHASE_TAPS:
            rows = ops.stack([kernel[t] for t in row_taps], axis=0)
            for col_taps in _PHASE_TAPS:
                phases.append(ops.stack([rows[:, t] for t in col_taps], axis=1))
        return ops.concatenate(phases, axis=-1)

    def call(self, inputs):
        height, width = inputs.shape[1], inputs.shape[2]
        implementation = _implementation(self)
        if implementation == "native" or self.output_padding is not None or height is None \
                or width is None:
            return super().call(inputs)
        if implementation == "torch":
            outputs = _torch_kernels().conv2d_transpose(
                inputs, _cast(self.kernel, inputs), _bias(self, inputs))
            return _activate(self, outputs)
        padded = ops.pad(inputs, ((0, 0), (1, 1), (1, 1), (0, 0)))
        outputs = _stride1_conv(padded, self._phase_kernel(), implementation)
        phases, index = [], 0
        for row in range(2):
            for col in range(2):
                phases.append(outputs[:, row:row + height, col:col + width,
                                      index * self.filters:(index + 1) * self.filters])
                index += 1
        outputs = ops.reshape(ops.stack(phases, axis=3),
                              (-1, height, width, 2, 2, self.filters))
        outputs = ops.reshape(ops.transpose(outputs, (0, 1, 3, 2, 4, 5)),
                              (-1, 2 * height, 2 * width, self.filters))
        return _finish(self, outputs)
