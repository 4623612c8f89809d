"""``autograd.amp`` (PyTorch's ``torch.amp``): automatic mixed precision, ``autocast`` and
``GradScaler``.  ``autograd.cuda.amp`` holds PyTorch's older, deprecated spellings."""
from .autocast_mode import (autocast, custom_bwd, custom_fwd, get_autocast_dtype,  # noqa: F401
                            is_autocast_available, is_autocast_enabled, set_autocast_dtype,
                            set_autocast_enabled)
from .grad_scaler import GradScaler, OptState  # noqa: F401
from . import cuda_amp as _cuda_amp

__all__ = ['autocast', 'custom_bwd', 'custom_fwd', 'is_autocast_available', 'GradScaler']
# is_autocast_enabled, get_autocast_dtype ... are autograd's own names (torch.is_autocast_enabled)

_cuda_amp.attach()
