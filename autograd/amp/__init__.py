"""``autograd.amp`` (PyTorch's ``torch.amp``): automatic mixed precision, ``autocast`` and
``GradScaler``.  ``autograd.cuda.amp`` holds PyTorch's older, deprecated spellings; the
state functions (``is_autocast_enabled`` ...) are ``autograd``'s own, as ``torch``'s."""
from .autocast_mode import autocast, custom_bwd, custom_fwd, is_autocast_available
from .grad_scaler import GradScaler
from . import cuda_amp as _cuda_amp

__all__ = ['autocast', 'custom_bwd', 'custom_fwd', 'is_autocast_available', 'GradScaler']

_cuda_amp.attach()
