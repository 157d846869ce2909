"""PyTorch kernels for `keras_disent.speed.conv_layers`' 4x4 stride-2 "same" convolutions (NHWC).

Keras' torch backend runs a channels-last convolution as: permute to NCHW + `.contiguous()`
(a copy), `.contiguous(memory_format=channels_last)` (a second copy back to the original
layout), the convolution, a permute back; its transposed convolution computes the un-padded
(2H + 2)-row output and slices it, leaving a strided tensor that the next layer copies again.
Here the NHWC tensor is handed to PyTorch as an NCHW *view*: its memory already is PyTorch's
`channels_last` format, which the CPU (oneDNN) and CUDA (cuDNN) kernels take directly and
return in the same format, so the final permute back to NHWC is free. "Same" padding for
kernel 4, stride 2 on even sizes is symmetric: `padding=1` in both directions (output H/2
for the convolution, 2H for the transposed one), and the bias is fused into the call.

Under `torch.compile` (`model.compile(jit_compile=True)`) the layers use Keras' call instead:
Inductor's CUDA convolution-backward rejected these channels-last views (stride assertion,
torch 2.11 on an H100), and compiled graphs pick their own layouts anyway.
"""

import torch
from torch.nn import functional as F


def usable():
    """False while torch.compile traces the step (see the module docstring)."""
    return not torch.compiler.is_compiling()


def conv2d(inputs, kernel, bias):
    """`inputs` (N, H, W, C), Keras `kernel` (4, 4, C, F) -> (N, H/2, W/2, F)."""
    outputs = F.conv2d(inputs.permute(0, 3, 1, 2), kernel.permute(3, 2, 0, 1), bias,
                       stride=2, padding=1)
    return outputs.permute(0, 2, 3, 1)


def conv2d_transpose(inputs, kernel, bias):
    """`inputs` (N, H, W, C), Keras `kernel` (4, 4, F, C) -> (N, 2H, 2W, F)."""
    outputs = F.conv_transpose2d(inputs.permute(0, 3, 1, 2), kernel.permute(3, 2, 0, 1), bias,
                                 stride=2, padding=1)
    return outputs.permute(0, 2, 3, 1)
