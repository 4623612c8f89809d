"""autograd: a define-by-run reverse-mode automatic differentiation engine.

The public API mirrors PyTorch's ``torch`` namespace: ``autograd.tensor``, ``Tensor``,
``autograd.grad``, ``autograd.no_grad``, ``autograd.Function`` ...
"""
from . import backend
from .backend import (Device, device, dtype, bool, uint8, int8, int16, int32, int64, float16,
                      float32, float64, get_default_dtype, set_default_dtype, set_default_device,
                      get_default_device, promote_types, result_type)
from .devices import public_device as device  # device('cuda') keeps index None
from .tensor import Tensor, Size
from .grad_mode import (no_grad, enable_grad, set_grad_enabled, is_grad_enabled, inference_mode,
                        is_inference_mode_enabled)
from .engine import backward, grad, set_detect_anomaly, is_anomaly_enabled, detect_anomaly
from .function import Function, FunctionCtx, once_differentiable, Variable
from .serialization import save, load
from .gradcheck import gradcheck, gradgradcheck, GradcheckError
from .creation import *            # noqa: F401,F403
from . import creation as _creation
from . import methods as _methods  # binds ops onto Tensor
from .ops import OP_MODULES as _OP_MODULES
from .ops import aliases as _aliases
from . import utils  # noqa: F401  (autograd.utils.data)
from . import cuda  # noqa: F401  (autograd.cuda.is_available() ...; never imports CuPy)
from .dlpack import from_dlpack  # noqa: F401
from . import accelerator, backends  # noqa: F401  (torch.accelerator, torch.backends)

half, float, double = float16, float32, float64
short, int, long = int16, int32, int64
from .backend import complex64, complex128  # noqa: E402
cfloat, cdouble = complex64, complex128
from .ops.complex import is_complex, is_conj, is_neg  # noqa: E402,F401
from .backend import bfloat16, finfo, iinfo  # noqa: E402,F401  (bfloat16 needs ml_dtypes)

for _mod in _OP_MODULES:
    for _name in getattr(_mod, 'FUNCTIONS', ()):
        globals()[_name] = getattr(_mod, _name)
del _mod, _name
_aliases.install(globals(), Tensor)   # axis=/keepdims= as PyTorch accepts them

from . import viz                  # noqa: E402  graph pictures (Graphviz loaded lazily)
from . import linalg               # noqa: E402  torch.linalg
from . import functional           # noqa: E402  torch.autograd.functional
from . import amp                  # noqa: E402  torch.amp (and torch.cuda.amp)
from .amp import autocast          # noqa: E402,F401  torch.autocast
from .amp.autocast_mode import (get_autocast_dtype, is_autocast_enabled,  # noqa: E402,F401
                                set_autocast_dtype, set_autocast_enabled)
from . import special              # noqa: E402  torch.special's names
__version__ = '0.1.0'


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(input):
    return input.numel()


def is_floating_point(input):
    return input.is_floating_point()


_MATMUL_PRECISIONS = ('highest', 'high', 'medium')
_matmul_precision = 'highest'


def set_float32_matmul_precision(precision):
    """PyTorch's float32 matmul precision switch: ``'highest'``, ``'high'`` or ``'medium'``
    (PyTorch's TF32 / bfloat16 matmuls on a GPU; here remembered and read back, and, as in
    PyTorch, ``'high'`` and ``'medium'`` set ``backends.cuda.matmul.allow_tf32``, which
    changes nothing: NumPy and CuPy compute float32 products in float32).  Another
    string warns and has no effect, as in PyTorch."""
    global _matmul_precision
    if not isinstance(precision, str):
        raise RuntimeError(f'set_float32_matmul_precision expects a str, but got '
                           f'{type(precision).__name__}')
    if precision not in _MATMUL_PRECISIONS:
        import warnings
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      f"setFloat32MatmulPrecision call has no effect.", UserWarning,
                      stacklevel=2)
        return
    _matmul_precision = precision
    backends.cuda.matmul.allow_tf32 = precision != 'highest'


def get_float32_matmul_precision():
    """The precision last set by ``set_float32_matmul_precision`` (``'highest'`` at start)."""
    return _matmul_precision


_LAZY_SUBMODULES = ('distributions', 'distributed', 'onnx')


def __getattr__(name):
    """Modules PyTorch has as attributes of ``torch``, loaded on first use (PEP 562):
    ``autograd.distributions``, ``autograd.distributed`` and ``autograd.onnx`` (they stand
    on layers below this namespace, or load optional packages), and ``nn``/``optim``, so
    that ``torch.nn.Linear`` works after ``import autograd as torch``."""
    import importlib
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f'{__name__}.{name}')
    if name in ('nn', 'optim'):
        return importlib.import_module(name)
    if name == 'autograd':      # torch.autograd.Function ... after `import autograd as torch`
        return importlib.import_module(__name__)
    raise AttributeError(f"module '{__name__}' has no attribute '{name}'")
