"""``autograd.backends`` (PyTorch's ``torch.backends``): the switches programs set for
PyTorch's native kernel libraries.

This project computes with NumPy on the CPU and CuPy on the GPU; it has no cuDNN, MKL-DNN,
MPS or opt_einsum path, so every flag here is accepted, remembered and read back, and
changes nothing: ``backends.cudnn.benchmark = True`` is a no-op, and the ``is_available()``
functions say honestly that those libraries are not used (False).  The one query with an
answer here is ``backends.cuda.is_built()``: whether the GPU backend's array library
(CuPy) is installed.
"""
from . import cpu, cuda, cudnn, mkldnn, mps, opt_einsum   # noqa: F401

__all__ = ['cpu', 'cuda', 'cudnn', 'mkldnn', 'mps', 'opt_einsum']
