"""Padding layers (PyTorch's ``nn.modules.padding``): each calls ``F.pad`` with its mode.

``padding`` is an int (the same on every side) or a tuple starting at the last dim:
``(left, right)`` for 1d, ``(left, right, top, bottom)`` for 2d, ``(left, right, top,
bottom, front, back)`` for 3d.  Negative sizes crop.
"""
from .. import functional as F
from .module import Module

__all__ = ['CircularPad1d', 'CircularPad2d', 'CircularPad3d', 'ConstantPad1d', 'ConstantPad2d',
           'ConstantPad3d', 'ReflectionPad1d', 'ReflectionPad2d', 'ReflectionPad3d',
           'ReplicationPad1d', 'ReplicationPad2d', 'ReplicationPad3d', 'ZeroPad1d', 'ZeroPad2d',
           'ZeroPad3d']


def _ntuple(padding, n):
    if isinstance(padding, int):
        return (padding,) * n
    return tuple(padding)


class _PadNd(Module):
    """``F.pad(input, self.padding, mode)``; ``_dims`` spatial dims."""
    _mode = 'constant'
    _dims = 1

    def __init__(self, padding):
        super().__init__()
        self.padding = _ntuple(padding, 2 * self._dims)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f'{self.padding}'


class _CircularPadNd(_PadNd):
    _mode = 'circular'

    def forward(self, input):
        # PyTorch checks the input's rank here (ValueError), before F.pad sees it
        ranks = (self._dims + 1, self._dims + 2)
        if input.ndim not in ranks:
            raise ValueError(f'expected {ranks[0]}D or {ranks[1]}D input (got {input.ndim}D '
                             'input)')
        return super().forward(input)


class CircularPad1d(_CircularPadNd):
    """Wrap-around padding of the last dim of (C, W) or (N, C, W)."""
    _dims = 1


class CircularPad2d(_CircularPadNd):
    """Wrap-around padding of the last two dims of (C, H, W) or (N, C, H, W)."""
    _dims = 2


class CircularPad3d(_CircularPadNd):
    """Wrap-around padding of the last three dims of (C, D, H, W) or (N, C, D, H, W)."""
    _dims = 3


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, 'constant', self.value)

    def extra_repr(self):
        return f'padding={self.padding}, value={self.value}'


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim with ``value``."""
    _dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pads the last two dims with ``value``."""
    _dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last three dims with ``value``."""
    _dims = 3


class ZeroPad1d(ConstantPad1d):
    """Pads the last dim with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f'{self.padding}'


class ZeroPad2d(ConstantPad2d):
    """Pads the last two dims with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f'{self.padding}'


class ZeroPad3d(ConstantPad3d):
    """Pads the last three dims with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f'{self.padding}'


class _ReflectionPadNd(_PadNd):
    _mode = 'reflect'


class ReflectionPad1d(_ReflectionPadNd):
    """Mirror padding (the edge not repeated) of the last dim of (C, W) or (N, C, W)."""
    _dims = 1


class ReflectionPad2d(_ReflectionPadNd):
    """Mirror padding of the last two dims of (C, H, W) or (N, C, H, W)."""
    _dims = 2


class ReflectionPad3d(_ReflectionPadNd):
    """Mirror padding of the last three dims of (C, D, H, W) or (N, C, D, H, W)."""
    _dims = 3


class _ReplicationPadNd(_PadNd):
    _mode = 'replicate'


class ReplicationPad1d(_ReplicationPadNd):
    """Edge-repeating padding of the last dim of (C, W) or (N, C, W)."""
    _dims = 1


class ReplicationPad2d(_ReplicationPadNd):
    """Edge-repeating padding of the last two dims of (C, H, W) or (N, C, H, W)."""
    _dims = 2


class ReplicationPad3d(_ReplicationPadNd):
    """Edge-repeating padding of the last three dims of (C, D, H, W) or (N, C, D, H, W)."""
    _dims = 3
