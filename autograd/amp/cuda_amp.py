"""``autograd.cuda.amp`` (PyTorch's deprecated ``torch.cuda.amp``): ``GradScaler`` and
``autocast`` fixed to the cuda device, warning as PyTorch's do."""
import sys
import warnings

from . import autocast_mode, grad_scaler

__all__ = ['GradScaler', 'autocast', 'custom_fwd', 'custom_bwd']


class GradScaler(grad_scaler.GradScaler):
    """``torch.cuda.amp.GradScaler(...)``: ``amp.GradScaler('cuda', ...)``, deprecated."""

    def __init__(self, init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        warnings.warn("`torch.cuda.amp.GradScaler(args...)` is deprecated. Please use "
                      "`torch.amp.GradScaler('cuda', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__('cuda', init_scale=init_scale, growth_factor=growth_factor,
                         backoff_factor=backoff_factor, growth_interval=growth_interval,
                         enabled=enabled)


class autocast(autocast_mode.autocast):
    """``torch.cuda.amp.autocast(...)``: ``amp.autocast('cuda', ...)``, deprecated."""

    def __init__(self, enabled=True, dtype=None, cache_enabled=True):
        warnings.warn("`torch.cuda.amp.autocast(args...)` is deprecated. Please use "
                      "`torch.amp.autocast('cuda', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__('cuda', dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


def custom_fwd(fwd=None, *, cast_inputs=None):
    return autocast_mode.custom_fwd(fwd, device_type='cuda', cast_inputs=cast_inputs)


def custom_bwd(bwd=None):
    return autocast_mode.custom_bwd(bwd, device_type='cuda')


def attach():
    """Make this module ``autograd.cuda.amp`` (``autograd.cuda`` is a module, not a package)."""
    from autograd import cuda
    cuda.amp = sys.modules[__name__]
    sys.modules.setdefault('autograd.cuda.amp', sys.modules[__name__])


