"""Normalisation layers: ``BatchNorm1d/2d/3d``, ``InstanceNorm1d/2d/3d``, ``LayerNorm``,
``GroupNorm``, ``LocalResponseNorm`` (PyTorch's parameters, buffers and their names)."""
import warnings

import autograd

from .. import functional as F
from .. import init
from .module import Module
from ._utils import empty_parameters

__all__ = ['BatchNorm1d', 'BatchNorm2d', 'BatchNorm3d', 'InstanceNorm1d', 'InstanceNorm2d',
           'InstanceNorm3d', 'LayerNorm', 'GroupNorm', 'LocalResponseNorm', 'SyncBatchNorm']


class _Affine(Module):
    """A normalisation followed by an optional elementwise affine map.  ``extra_repr``
    formats ``_repr`` with the layer's attributes and ``use_bias``."""
    _repr = ''

    def _register_affine(self, shape, affine, bias, device, dtype):
        """``weight`` and ``bias`` Parameters of ``shape`` when ``affine`` (``bias`` only with
        ``bias``), None otherwise, so the state_dict keys follow PyTorch's."""
        empty_parameters(self, device, dtype, weight=shape if affine else None,
                         bias=shape if affine and bias else None)

    def reset_parameters(self):
        """The identity map: weight ones, bias zeros (where present)."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def extra_repr(self):
        return self._repr.format(**self.__dict__, use_bias=self.bias is not None)


class _NormBase(_Affine):
    """Per-channel normalisation over (N, C, *) input: weight (ones) and bias (zeros) of
    shape (num_features,) when ``affine``; buffers running_mean (zeros), running_var (ones)
    and num_batches_tracked when ``track_running_stats``.  ``_input_dims``: the accepted
    input ranks."""
    _version = 2            # version 2 added num_batches_tracked
    _input_dims = ()
    _repr = ('{num_features}, eps={eps}, momentum={momentum}, affine={affine}, bias={use_bias}, '
             'track_running_stats={track_running_stats}')

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        kw = dict(device=device, dtype=dtype)
        self._register_affine((num_features,), affine, bias, device, dtype)
        stats = track_running_stats
        self.register_buffer('running_mean', autograd.zeros(num_features, **kw) if stats else None)
        self.register_buffer('running_var', autograd.ones(num_features, **kw) if stats else None)
        self.register_buffer('num_batches_tracked', autograd.tensor(
            0, dtype=autograd.int64, device=device) if stats else None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        super().reset_parameters()

    def _check_input_dim(self, input):
        if input.ndim not in self._input_dims:
            want = ' or '.join(f'{d}D' for d in self._input_dims)
            raise ValueError(f'expected {want} input (got {input.ndim}D input)')

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, *args):
        # checkpoints older than version 2 have no num_batches_tracked: keep our own count
        version = local_metadata.get('version')
        key = prefix + 'num_batches_tracked'
        if (version is None or version < 2) and self.track_running_stats and key not in state_dict:
            state_dict[key] = self.num_batches_tracked
        super()._load_from_state_dict(state_dict, prefix, local_metadata, *args)


class _BatchNorm(_NormBase):

    def _cumulative_factor(self):
        """``1 / num_batches_tracked`` (momentum None) as a 0-d tensor on the buffers'
        device: PyTorch reads the count on the host here (a GPU sync); this does not."""
        dtype = self.running_mean.dtype if self.running_mean is not None else None
        return 1.0 / self.num_batches_tracked.to(dtype or autograd.get_default_dtype())

    def forward(self, input):
        self._check_input_dim(input)
        # momentum None: the cumulative moving average, factor 1 / batches seen
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            factor = (self._cumulative_factor() if self.momentum is None
                      else self.momentum)
        batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        # the buffers go in where they are read (evaluation) or updated (tracked training)
        use_running = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if use_running else None,
                            self.running_var if use_running else None, self.weight, self.bias,
                            batch_stats, factor, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch normalisation (Ioffe & Szegedy 2015) of (N, C) or (N, C, L) input per channel."""
    _input_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) input per channel."""
    _input_dims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of (N, C, D, H, W) input per channel."""
    _input_dims = (5,)


class _InstanceNorm(_NormBase):
    """``_input_dims``: (unbatched rank, batched rank); statistics per sample and channel."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        # checkpoints from before PyTorch 0.4 (no version) kept running stats that are
        # not tracked by default any more: PyTorch's explanation, and the keys dropped
        if local_metadata.get('version') is None and not self.track_running_stats:
            keys = [k for k in (prefix + 'running_mean', prefix + 'running_var')
                    if k in state_dict]
            if keys:
                klass = type(self).__name__
                error_msgs.append(
                    'Unexpected running stats buffer(s) {names} for {klass} with '
                    'track_running_stats=False. If state_dict is a checkpoint saved before '
                    '0.4.0, this may be expected because {klass} does not track running stats '
                    'by default since 0.4.0. Please remove these keys from state_dict. If the '
                    'running stats are actually needed, instead set track_running_stats=True '
                    'in {klass} to enable them. See the documentation of {klass} for details.'
                    .format(names=' and '.join(f'"{k}"' for k in keys), klass=klass))
                for k in keys:
                    state_dict.pop(k)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    def forward(self, input):
        self._check_input_dim(input)
        unbatched = input.ndim == self._input_dims[0]
        channel_dim = 0 if unbatched else 1
        c = input.shape[channel_dim]
        if c != self.num_features:
            if self.affine:
                raise ValueError(f'expected input\'s size at dim={channel_dim} to match '
                                 f'num_features ({self.num_features}), but got: {c}.')
            warnings.warn(f'input\'s size at dim={channel_dim} does not match num_features. '
                          'You can silence this warning by not passing in num_features, which '
                          'is not used because affine=False', stacklevel=2)
        if unbatched:
            input = input.unsqueeze(0)
        out = F.instance_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                              self.training or not self.track_running_stats,
                              0.0 if self.momentum is None else self.momentum, self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or (C, L) input over L, per sample and channel."""
    _input_dims = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or (C, H, W) input over H, W."""
    _input_dims = (3, 4)


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of (N, C, D, H, W) or (C, D, H, W) input over D, H, W."""
    _input_dims = (4, 5)


class LayerNorm(_Affine):
    """Layer normalisation (Ba et al. 2016) over the trailing dims ``normalized_shape``;
    weight (ones) and bias (zeros) of that shape."""
    _repr = ('{normalized_shape}, eps={eps}, elementwise_affine={elementwise_affine}, '
             'bias={use_bias}')

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self._register_affine(self.normalized_shape, elementwise_affine, bias, device, dtype)
        self.reset_parameters()

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)


class GroupNorm(_Affine):
    """Group normalisation (Wu & He 2018): channels split into ``num_groups`` groups, each
    normalised over its channels and the spatial dims; per-channel weight and bias."""
    _repr = '{num_groups}, {num_channels}, eps={eps}, affine={affine}, bias={use_bias}'

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
        self._register_affine((num_channels,), affine, bias, device, dtype)
        self.reset_parameters()

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)


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


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation whose training statistics are those of the whole data-parallel
    batch (every rank's): the per-channel sums travel through a differentiable all-reduce
    (``autograd.distributed.nn.functional.all_reduce``), so backward sums the statistics'
    gradients over the ranks too.  In evaluation, or in a world of one, it is BatchNorm."""
    _input_dims = None

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, process_group=None, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats,
                         device=device, dtype=dtype)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if input.ndim < 2:
            raise ValueError(f'expected at least 2D input (got {input.ndim}D input)')

    def forward(self, input):
        import autograd.distributed as dist
        self._check_input_dim(input)
        if not (self.training and dist.is_initialized()
                and dist.get_world_size(self.process_group) > 1):
            return super().forward(input)
        from autograd.distributed.nn.functional import all_reduce
        c = input.shape[1]
        dims = (0,) + tuple(range(2, input.ndim))
        shape = (1, c) + (1,) * (input.ndim - 2)
        count = autograd.tensor([input.numel() // c], dtype=input.dtype, device=input.device)
        totals = all_reduce(autograd.cat([input.sum(dims), count]), group=self.process_group)
        n = totals[c:]
        mean = totals[:c] / n
        centred = input - mean.reshape(shape)
        var = all_reduce((centred * centred).sum(dims), group=self.process_group) / n
        y = centred / (var.reshape(shape) + self.eps).sqrt()
        if self.weight is not None:
            y = y * self.weight.reshape(shape)
        if self.bias is not None:
            y = y + self.bias.reshape(shape)
        if self.track_running_stats:
            with autograd.no_grad():
                self.num_batches_tracked.add_(1)
                m = self._cumulative_factor() if self.momentum is None else self.momentum
                self.running_mean.mul_(1 - m).add_(mean.detach() * m)
                self.running_var.mul_(1 - m).add_(var.detach() * (n * m / (n - 1)))
        return y

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every BatchNorm*D replaced by a SyncBatchNorm sharing its
        parameters and buffers."""
        out = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            out = SyncBatchNorm(module.num_features, module.eps, module.momentum, module.affine,
                                module.track_running_stats, process_group)
            if module.affine:
                with autograd.no_grad():
                    out.weight = module.weight
                    out.bias = module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out
