"""Convolution layers: ``Conv1d``, ``Conv2d``, ``Conv3d``, ``ConvTranspose1d``,
``ConvTranspose2d``, ``ConvTranspose3d``
(PyTorch's parameter names, shapes, initialisation and ``extra_repr``)."""
import math

from .. import functional as F
from .. import init
from .module import Module
from ._utils import empty_parameters

__all__ = ['Conv1d', 'Conv2d', 'Conv3d', 'ConvTranspose1d', 'ConvTranspose2d',
           'ConvTranspose3d']

_PADDING_MODES = ('zeros', 'reflect', 'replicate', 'circular')


def _ntuple(v, n):
    if isinstance(v, int):
        return (v,) * n
    v = tuple(v)
    return v * n if len(v) == 1 else v


class _ConvNd(Module):
    """Shared state of the convolutions: weight (out, in/groups, *k), or (in, out/groups, *k)
    when transposed, and bias (out,), both initialised U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    _dims = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 transposed, output_padding, groups, bias, padding_mode, device=None,
                 dtype=None):
        super().__init__()
        if groups <= 0:
            raise ValueError('groups must be a positive integer')
        if in_channels % groups != 0:
            raise ValueError('in_channels must be divisible by groups')
        if out_channels % groups != 0:
            raise ValueError('out_channels must be divisible by groups')
        n = self._dims
        if isinstance(padding, str):
            if padding not in ('same', 'valid'):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 "{'valid', 'same'}")
            if padding == 'same' and any(s != 1 for s in _ntuple(stride, n)):
                raise ValueError("padding='same' is not supported for strided convolutions")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {list(_PADDING_MODES)}, but got "
                             f"padding_mode='{padding_mode}'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _ntuple(kernel_size, n)
        self.stride = _ntuple(stride, n)
        self.padding = padding if isinstance(padding, str) else _ntuple(padding, n)
        self.dilation = _ntuple(dilation, n)
        self.transposed = transposed
        self.output_padding = _ntuple(output_padding, n)
        self.groups = groups
        self.padding_mode = padding_mode
        # F.pad's argument: last dim first, (before, after) per dim
        if isinstance(self.padding, str):
            pads = []
            if padding == 'same':
                for d, k in zip(self.dilation, self.kernel_size):
                    total = d * (k - 1)
                    pads = [total // 2, total - total // 2] + pads
            else:
                pads = [0, 0] * n
            self._reversed_padding_repeated_twice = pads
        else:
            self._reversed_padding_repeated_twice = [p for p in reversed(self.padding)
                                                     for _ in range(2)]
        shape = ((in_channels, out_channels // groups) if transposed else
                 (out_channels, in_channels // groups)) + self.kernel_size
        empty_parameters(self, device, dtype, weight=shape,
                         bias=(out_channels,) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        s = ('{in_channels}, {out_channels}, kernel_size={kernel_size}'
             ', stride={stride}')
        n = self._dims
        if self.padding != (0,) * n:
            s += ', padding={padding}'
        if self.dilation != (1,) * n:
            s += ', dilation={dilation}'
        if self.output_padding != (0,) * n:
            s += ', output_padding={output_padding}'
        if self.groups != 1:
            s += ', groups={groups}'
        if self.bias is None:
            s += ', bias=False'
        if self.padding_mode != 'zeros':
            s += ', padding_mode={padding_mode}'
        return s.format(**self.__dict__)


class _Conv(_ConvNd):
    _fn = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode='zeros', device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         False, 0, groups, bias, padding_mode, device, dtype)

    def _conv_forward(self, input, weight, bias):
        conv = type(self)._fn
        if self.padding_mode != 'zeros':
            padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return conv(padded, weight, bias, self.stride, 0, self.dilation, self.groups)
        return conv(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    """1-d convolution over (N, C_in, L) or (C_in, L) input -> (N, C_out, L_out),
    L_out = (L + 2 padding - dilation (kernel_size - 1) - 1) // stride + 1."""
    _dims = 1
    _fn = staticmethod(F.conv1d)


class Conv2d(_Conv):
    """2-d convolution over (N, C_in, H, W) or (C_in, H, W) input -> (N, C_out, H_out, W_out),
    H_out = (H + 2 padding - dilation (kernel_size - 1) - 1) // stride + 1.  Weight
    (C_out, C_in / groups, kH, kW); padding may be 'same' or 'valid'."""
    _dims = 2
    _fn = staticmethod(F.conv2d)


class Conv3d(_Conv):
    """3-d convolution over (N, C_in, D, H, W) or (C_in, D, H, W) input ->
    (N, C_out, D_out, H_out, W_out), each size as in Conv2d.  Weight
    (C_out, C_in / groups, kD, kH, kW); padding may be 'same' or 'valid'."""
    _dims = 3
    _fn = staticmethod(F.conv3d)


class _ConvTransposeNd(_ConvNd):
    _fn = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode='zeros',
                 device=None, dtype=None):
        if padding_mode != 'zeros':
            raise ValueError(f'Only "zeros" padding mode is supported for '
                             f'{type(self).__name__}')
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         True, output_padding, groups, bias, padding_mode, device, dtype)

    def _output_padding(self, input, output_size):
        """The output_padding that makes the output ``output_size`` (as PyTorch)."""
        if output_size is None:
            return self.output_padding
        n = self._dims
        output_size = list(output_size)
        if len(output_size) == n + 2 or len(output_size) == n + 1 and input.ndim == n + 1:
            output_size = output_size[-n:]
        if len(output_size) != n:
            raise ValueError(f'ConvTranspose{n}D: for {input.ndim}D input, output_size must have '
                             f'{n} or {n + 2} elements (got {len(output_size)})')
        res = []
        for d in range(n):
            size = input.shape[input.ndim - n + d]
            smallest = ((size - 1) * self.stride[d] - 2 * self.padding[d]
                        + self.dilation[d] * (self.kernel_size[d] - 1) + 1)
            largest = smallest + self.stride[d] - 1
            if not smallest <= output_size[d] <= largest:
                raise ValueError(f'requested an output size of {output_size}, but valid sizes '
                                 f'range from {smallest} to {largest} (for an input of '
                                 f'{list(input.shape[input.ndim - n:])})')
            res.append(output_size[d] - smallest)
        return tuple(res)

    def forward(self, input, output_size=None):
        output_padding = self._output_padding(input, output_size)
        return type(self)._fn(input, self.weight, self.bias, self.stride, self.padding,
                              output_padding, self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """1-d transposed convolution (N, C_in, L) -> (N, C_out, L_out), L_out = (L - 1) stride
    - 2 padding + dilation (kernel_size - 1) + output_padding + 1.  Weight
    (C_in, C_out / groups, k)."""
    _dims = 1
    _fn = staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """2-d transposed convolution (the gradient of Conv2d in its input): (N, C_in, H, W) ->
    (N, C_out, H_out, W_out), H_out = (H - 1) stride - 2 padding + dilation (kH - 1)
    + output_padding + 1.  Weight (C_in, C_out / groups, kH, kW); ``forward(input,
    output_size)`` picks the output_padding that gives ``output_size``."""
    _dims = 2
    _fn = staticmethod(F.conv_transpose2d)


class ConvTranspose3d(_ConvTransposeNd):
    """3-d transposed convolution (the gradient of Conv3d in its input): (N, C_in, D, H, W) ->
    (N, C_out, D_out, H_out, W_out), D_out = (D - 1) stride - 2 padding + dilation (kD - 1)
    + output_padding + 1.  Weight (C_in, C_out / groups, kD, kH, kW)."""
    _dims = 3
    _fn = staticmethod(F.conv_transpose3d)
