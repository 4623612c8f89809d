"""Pooling and resampling layers (PyTorch's ``MaxPool*``, ``AvgPool*``, ``AdaptiveAvgPool*``,
``AdaptiveMaxPool*``, ``MaxUnpool*``, ``LPPool*``, ``Upsample``); the work is done in
``nn.functional``."""
from .. import functional as F
from .module import Module

__all__ = ['MaxPool1d', 'MaxPool2d', 'AvgPool1d', 'AvgPool2d', 'AdaptiveAvgPool1d',
           'AdaptiveAvgPool2d', 'AdaptiveMaxPool1d', 'AdaptiveMaxPool2d', 'MaxUnpool1d',
           'MaxUnpool2d', 'LPPool1d', 'LPPool2d', 'Upsample', 'UpsamplingNearest2d',
           'UpsamplingBilinear2d', 'MaxPool3d', 'AvgPool3d', 'AdaptiveAvgPool3d',
           'AdaptiveMaxPool3d', 'MaxUnpool3d', 'LPPool3d']


class _MaxPoolNd(Module):
    _fn = None

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input):
        return type(self)._fn(input, self.kernel_size, self.stride, self.padding, self.dilation,
                              ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f'kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, '
                f'dilation={self.dilation}, ceil_mode={self.ceil_mode}')


class MaxPool1d(_MaxPoolNd):
    """Max over sliding windows of (N, C, L) or (C, L) input; ``return_indices`` also
    returns the argmax positions (for MaxUnpool1d)."""
    _fn = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """Max over sliding 2-d windows of (N, C, H, W) or (C, H, W) input; ``return_indices``
    also returns the flat argmax positions (for MaxUnpool2d)."""
    _fn = staticmethod(F.max_pool2d)


class AvgPool1d(Module):
    """Mean over sliding windows of (N, C, L) or (C, L) input."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self):
        return f'kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}'


def _single(v):
    return _ntuple(v, 1)


def _ntuple(v, n):
    return (v,) * n if isinstance(v, int) else tuple(v)


class AvgPool2d(Module):
    """Mean over sliding 2-d windows of (N, C, H, W) or (C, H, W) input; the divisor is the
    window size, the count of non-padding elements, or ``divisor_override``."""
    _fn = staticmethod(F.avg_pool2d)

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        return type(self)._fn(input, self.kernel_size, self.stride, self.padding,
                              self.ceil_mode, self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f'kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}'


class _AdaptiveAvgPoolNd(Module):
    _fn = None

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return type(self)._fn(input, self.output_size)

    def extra_repr(self):
        return f'output_size={self.output_size}'


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Average pooling of (N, C, L) input to length ``output_size``."""
    _fn = staticmethod(F.adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Average pooling of (N, C, H, W) input to ``output_size`` (an int, a pair, None keeps a
    dim)."""
    _fn = staticmethod(F.adaptive_avg_pool2d)


class _AdaptiveMaxPoolNd(Module):
    _fn = None

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input):
        return type(self)._fn(input, self.output_size, self.return_indices)

    def extra_repr(self):
        return f'output_size={self.output_size}'


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max pooling of (N, C, L) or (C, L) input to length ``output_size``; ``return_indices``
    also returns the argmax positions."""
    _fn = staticmethod(F.adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max pooling of (N, C, H, W) or (C, H, W) input to ``output_size`` (an int, a pair, None
    keeps a dim); ``return_indices`` also returns the flat argmax positions."""
    _fn = staticmethod(F.adaptive_max_pool2d)


class _MaxUnpoolNd(Module):
    _fn = None
    _dims = 2

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = _ntuple(kernel_size, self._dims)
        self.stride = _ntuple(stride if stride is not None else kernel_size, self._dims)
        self.padding = _ntuple(padding, self._dims)

    def forward(self, input, indices, output_size=None):
        return type(self)._fn(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)

    def extra_repr(self):
        return f'kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}'


class MaxUnpool1d(_MaxUnpoolNd):
    """The partial inverse of MaxPool1d: values at their indices, zeros elsewhere."""
    _fn = staticmethod(F.max_unpool1d)
    _dims = 1


class MaxUnpool2d(_MaxUnpoolNd):
    """The partial inverse of MaxPool2d: values at their flat indices, zeros elsewhere."""
    _fn = staticmethod(F.max_unpool2d)


class _LPPoolNd(Module):
    _fn = None

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def forward(self, input):
        return type(self)._fn(input, float(self.norm_type), self.kernel_size, self.stride,
                              self.ceil_mode)

    def extra_repr(self):
        return (f'norm_type={self.norm_type}, kernel_size={self.kernel_size}, '
                f'stride={self.stride}, ceil_mode={self.ceil_mode}')


class LPPool1d(_LPPoolNd):
    """Power-average pooling (sum of x^p over each window)^(1/p) of (N, C, L) input."""
    _fn = staticmethod(F.lp_pool1d)


class LPPool2d(_LPPoolNd):
    """Power-average pooling (sum of x^p over each window)^(1/p) of (N, C, H, W) input."""
    _fn = staticmethod(F.lp_pool2d)


class Upsample(Module):
    """Resampling by ``F.interpolate`` (nearest, nearest-exact, area, linear, bilinear,
    bicubic, trilinear) to ``size`` or by ``scale_factor``."""

    def __init__(self, size=None, scale_factor=None, mode='nearest', align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, (int, float)) \
            else (tuple(float(f) for f in scale_factor) if scale_factor else None)
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        if self.scale_factor is not None:
            info = f'scale_factor={self.scale_factor!r}'
        else:
            info = f'size={self.size!r}'
        return info + f', mode={self.mode!r}'


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour upsampling of (N, C, H, W) input."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode='nearest')


class UpsamplingBilinear2d(Upsample):
    """Bilinear upsampling of (N, C, H, W) input with align_corners=True."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode='bilinear', align_corners=True)


class MaxPool3d(_MaxPoolNd):
    """Max over sliding 3-d windows of (N, C, D, H, W) or (C, D, H, W) input;
    ``return_indices`` also returns the flat argmax positions (for MaxUnpool3d)."""
    _fn = staticmethod(F.max_pool3d)


class AvgPool3d(AvgPool2d):
    """Mean over sliding 3-d windows of (N, C, D, H, W) or (C, D, H, W) input; the divisor as
    in AvgPool2d."""
    _fn = staticmethod(F.avg_pool3d)


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """Average pooling of (N, C, D, H, W) or (C, D, H, W) input to ``output_size`` (an int, a
    triple, None keeps a dim)."""
    _fn = staticmethod(F.adaptive_avg_pool3d)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """Max pooling of (N, C, D, H, W) or (C, D, H, W) input to ``output_size`` (an int, a
    triple, None keeps a dim); ``return_indices`` also returns the flat argmax positions."""
    _fn = staticmethod(F.adaptive_max_pool3d)


class MaxUnpool3d(_MaxUnpoolNd):
    """The partial inverse of MaxPool3d: values at their flat indices, zeros elsewhere."""
    _fn = staticmethod(F.max_unpool3d)
    _dims = 3


class LPPool3d(_LPPoolNd):
    """Power-average pooling (sum of x^p over each window)^(1/p) of (N, C, D, H, W) input."""
    _fn = staticmethod(F.lp_pool3d)
