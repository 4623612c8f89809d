"""``backends.cuda``: switches of PyTorch's CUDA kernels.  On this project's GPU backend
CuPy picks its own kernels: ``matmul.allow_tf32`` and the scaled-dot-product-attention
switches are remembered and read back, and change nothing.  ``is_built()`` says whether
the GPU backend's array library (CuPy) is installed, which is what a CUDA build means
here (whether a GPU is usable is ``autograd.cuda.is_available()``)."""
import contextlib
import importlib.util
import sys

__all__ = ['is_built', 'matmul', 'flash_sdp_enabled', 'enable_flash_sdp',
           'mem_efficient_sdp_enabled', 'enable_mem_efficient_sdp', 'math_sdp_enabled',
           'enable_math_sdp', 'cudnn_sdp_enabled', 'enable_cudnn_sdp', 'sdp_kernel',
           'preferred_linalg_library']


def is_built():
    """True when CuPy, the GPU backend's array library, is installed (not imported here)."""
    if sys.modules.get('cupy') is not None:
        return True
    try:
        return importlib.util.find_spec('cupy') is not None
    except ValueError:          # a module put in sys.modules by hand has no spec
        return False


class _Matmul:
    """``backends.cuda.matmul``: cuBLAS precision switches (PyTorch's defaults), no effect."""
    __slots__ = ('allow_tf32', 'allow_fp16_reduced_precision_reduction',
                 'allow_bf16_reduced_precision_reduction', 'allow_fp16_accumulation')

    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True
        self.allow_fp16_accumulation = False

    def __repr__(self):
        return f'<backends.cuda.matmul allow_tf32={self.allow_tf32} (no effect here)>'


matmul = _Matmul()

# the attention kernels PyTorch may choose; the project has one (nn.functional's)
_sdp = {'flash': True, 'mem_efficient': True, 'math': True, 'cudnn': True}


def flash_sdp_enabled():
    return _sdp['flash']


def enable_flash_sdp(enabled):
    _sdp['flash'] = bool(enabled)


def mem_efficient_sdp_enabled():
    return _sdp['mem_efficient']


def enable_mem_efficient_sdp(enabled):
    _sdp['mem_efficient'] = bool(enabled)


def math_sdp_enabled():
    return _sdp['math']


def enable_math_sdp(enabled):
    _sdp['math'] = bool(enabled)


def cudnn_sdp_enabled():
    return _sdp['cudnn']


def enable_cudnn_sdp(enabled):
    _sdp['cudnn'] = bool(enabled)


@contextlib.contextmanager
def sdp_kernel(enable_flash=True, enable_math=True, enable_mem_efficient=True,
               enable_cudnn=True):
    """Set the attention-kernel switches inside the block (no effect on the computation)."""
    old = dict(_sdp)
    _sdp.update(flash=bool(enable_flash), math=bool(enable_math),
                mem_efficient=bool(enable_mem_efficient), cudnn=bool(enable_cudnn))
    try:
        yield
    finally:
        _sdp.update(old)


def preferred_linalg_library(backend=None):
    """Accepted for PyTorch's programs; linear algebra here is NumPy's or CuPy's."""
    return None
