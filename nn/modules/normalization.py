"""Normalisation layers: ``BatchNorm1d/2d/3d``, ``InstanceNorm1d/2d``, ``LayerNorm``,
``GroupNorm``, ``LocalResponseNorm`` (PyTorch's parameters, buffers and their names)."""
import autograd

from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ['BatchNorm1d', 'BatchNorm2d', 'BatchNorm3d', 'InstanceNorm1d', 'InstanceNorm2d',
           'LayerNorm', 'GroupNorm', 'LocalResponseNorm']


class _NormBase(Module):
    """weight (ones) and bias (zeros) of shape (num_features,) when ``affine``; buffers
    running_mean (zeros), running_var (ones) and num_batches_tracked when
    ``track_running_stats``."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        kw = dict(device=device, dtype=dtype)
        if affine:
            self.weight = Parameter(autograd.empty(num_features, **kw))
            if bias:
                self.bias = Parameter(autograd.empty(num_features, **kw))
            else:
                self.register_parameter('bias', None)
        else:
            self.register_parameter('weight', None)
            self.register_parameter('bias', None)
        if track_running_stats:
            self.register_buffer('running_mean', autograd.zeros(num_features, **kw))
            self.register_buffer('running_var', autograd.ones(num_features, **kw))
            self.register_buffer('num_batches_tracked',
                                 autograd.tensor(0, dtype=autograd.int64, device=device))
        else:
            self.register_buffer('running_mean', None)
            self.register_buffer('running_var', None)
            self.register_buffer('num_batches_tracked', None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input_dim(self, input):
        raise NotImplementedError

    def extra_repr(self):
        return ('{num_features}, eps={eps}, momentum={momentum}, affine={affine}, '
                'bias={use_bias}, track_running_stats={track_running_stats}'
                .format(**self.__dict__, use_bias=self.bias is not None))


class _BatchNorm(_NormBase):
    _dims = ()

    def _check_input_dim(self, input):
        if input.ndim not in self._dims:
            want = ' or '.join(f'{d}D' for d in self._dims)
            raise ValueError(f'expected {want} input (got {input.ndim}D input)')

    def forward(self, input):
        self._check_input_dim(input)
        # momentum None: the cumulative moving average, factor 1 / batches seen
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            factor = (1.0 / float(self.num_batches_tracked) if self.momentum is None
                      else self.momentum)
        batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        use_running = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if use_running else None,
                            self.running_var if use_running else None, self.weight, self.bias,
                            batch_stats, factor, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch normalisation (Ioffe & Szegedy 2015) of (N, C) or (N, C, L) input per channel."""
    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) input per channel."""
    _dims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of (N, C, D, H, W) input per channel."""
    _dims = (5,)


class _InstanceNorm(_NormBase):
    _dims = 1

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def forward(self, input):
        d = self._dims
        if input.ndim not in (d + 1, d + 2):
            raise ValueError(f'expected {d + 1}D or {d + 2}D input (got {input.ndim}D input)')
        unbatched = input.ndim == d + 1
        if unbatched:
            input = input.unsqueeze(0)
        c = input.shape[1]
        if c != self.num_features and self.affine:
            raise ValueError(f'expected input\'s size at dim=1 to match num_features '
                             f'({self.num_features}), but got: {c}.')
        out = F.instance_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                              self.training or not self.track_running_stats, self.momentum
                              if self.momentum is not None else 0.0, self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or (C, L) input over L, per sample and channel."""
    _dims = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or (C, H, W) input over H, W."""
    _dims = 2


class LayerNorm(Module):
    """Layer normalisation (Ba et al. 2016) over the trailing dims ``normalized_shape``;
    weight (ones) and bias (zeros) of that shape."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        kw = dict(device=device, dtype=dtype)
        if elementwise_affine:
            self.weight = Parameter(autograd.empty(*self.normalized_shape, **kw))
            if bias:
                self.bias = Parameter(autograd.empty(*self.normalized_shape, **kw))
            else:
                self.register_parameter('bias', None)
        else:
            self.register_parameter('weight', None)
            self.register_parameter('bias', None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.elementwise_affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return ('{normalized_shape}, eps={eps}, elementwise_affine={elementwise_affine}, '
                'bias={use_bias}'.format(**self.__dict__, use_bias=self.bias is not None))


class GroupNorm(Module):
    """Group normalisation (Wu & He 2018): channels split into ``num_groups`` groups, each
    normalised over its channels and the spatial dims; per-channel weight and bias."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f'num_channels ({num_channels}) must be divisible by num_groups '
                             f'({num_groups})')
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        kw = dict(device=device, dtype=dtype)
        if affine:
            self.weight = Parameter(autograd.empty(num_channels, **kw))
            if bias:
                self.bias = Parameter(autograd.empty(num_channels, **kw))
            else:
                self.register_parameter('bias', None)
        else:
            self.register_parameter('weight', None)
            self.register_parameter('bias', None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return ('{num_groups}, {num_channels}, eps={eps}, affine={affine}, bias={use_bias}'
                .format(**self.__dict__, use_bias=self.bias is not None))


class LocalResponseNorm(Module):
    """Local response normalisation across channels (Krizhevsky et al. 2012):
    b_c = a_c / (k + alpha/n * sum of a^2 over n neighbouring channels)^beta."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return '{size}, alpha={alpha}, beta={beta}, k={k}'.format(**self.__dict__)
