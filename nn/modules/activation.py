"""Activation layers: thin modules over ``nn.functional`` (PyTorch's reprs and defaults)."""
import autograd

from .. import functional as F
from ..parameter import Parameter
from .module import Module

__all__ = ['ReLU', 'ReLU6', 'LeakyReLU', 'PReLU', 'RReLU', 'ELU', 'CELU', 'SELU', 'GELU',
           'SiLU', 'Mish', 'Softplus', 'Sigmoid', 'Tanh', 'Hardtanh', 'Hardsigmoid',
           'Hardswish', 'LogSigmoid', 'Tanhshrink', 'Softsign', 'Softshrink', 'Hardshrink',
           'Threshold', 'GLU', 'Softmax', 'LogSoftmax', 'Softmin', 'Softmax2d']


class _Inplace(Module):
    """An activation ``_fn(input, *options, inplace=...)``: ``_options`` names the
    attributes passed as the options, which ``extra_repr`` shows (``inplace`` only when
    set, as PyTorch)."""
    _fn = None
    _options = ()

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return type(self)._fn(input, *[getattr(self, name) for name in self._options],
                              inplace=self.inplace)

    def extra_repr(self):
        shown = [f'{name}={getattr(self, name)}' for name in self._options]
        if self.inplace:
            shown.append('inplace=True')
        return ', '.join(shown)


class _Plain(Module):
    """An activation without options."""
    _fn = None

    def forward(self, input):
        return type(self)._fn(input)


class ReLU(_Inplace):
    """``max(x, 0)``."""
    _fn = F.relu


class SELU(_Inplace):
    _fn = F.selu


class SiLU(_Inplace):
    """``x * sigmoid(x)``."""
    _fn = F.silu


class Mish(_Inplace):
    """``x * tanh(softplus(x))``."""
    _fn = F.mish


class Hardsigmoid(_Inplace):
    _fn = F.hardsigmoid


class Hardswish(_Inplace):
    _fn = F.hardswish


class Sigmoid(_Plain):
    _fn = F.sigmoid


class Tanh(_Plain):
    _fn = F.tanh


class LogSigmoid(_Plain):
    _fn = F.logsigmoid


class Tanhshrink(_Plain):
    _fn = F.tanhshrink


class Softsign(_Plain):
    _fn = F.softsign


class Hardtanh(_Inplace):
    """Clip to ``[min_val, max_val]``."""
    _fn = F.hardtanh
    _options = ('min_val', 'max_val')

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__(inplace)
        if max_val <= min_val:
            raise ValueError('max_val must be greater than min_val')
        self.min_val, self.max_val = min_val, max_val


class ReLU6(Hardtanh):
    """``min(max(x, 0), 6)``."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return 'inplace=True' if self.inplace else ''


class LeakyReLU(_Inplace):
    _fn = F.leaky_relu
    _options = ('negative_slope',)

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__(inplace)
        self.negative_slope = negative_slope


class PReLU(Module):
    """Leaky ReLU with a learned slope: one (``num_parameters=1``) or one per channel."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(autograd.empty(num_parameters, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self):
        from .. import init
        init.constant_(self.weight, self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f'num_parameters={self.num_parameters}'


class RReLU(_Inplace):
    _options = ('lower', 'upper')

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__(inplace)
        self.lower, self.upper = lower, upper

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)


class ELU(_Inplace):
    _fn = F.elu
    _options = ('alpha',)

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__(inplace)
        self.alpha = alpha


class CELU(ELU):
    _fn = F.celu


class GELU(Module):
    def __init__(self, approximate='none'):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f'approximate={self.approximate!r}'


class Softplus(Module):
    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f'beta={self.beta}, threshold={self.threshold}'


class Threshold(_Inplace):
    _fn = F.threshold
    _options = ('threshold', 'value')

    def __init__(self, threshold, value, inplace=False):
        super().__init__(inplace)
        self.threshold, self.value = threshold, value


class Softshrink(Module):
    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.softshrink(input, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Hardshrink(Softshrink):
    def forward(self, input):
        return F.hardshrink(input, self.lambd)


class GLU(Module):
    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f'dim={self.dim}'


class Softmax(Module):
    """``softmax`` along ``dim``."""
    _fn = F.softmax

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return type(self)._fn(input, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f'dim={self.dim}'


class LogSoftmax(Softmax):
    _fn = F.log_softmax


class Softmin(Softmax):
    _fn = F.softmin


class Softmax2d(Module):
    """Softmax over the channels of ``(N, C, H, W)`` or ``(C, H, W)`` input."""

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ValueError(f'Softmax2d: expected input to be 3D or 4D, got {input.ndim}D '
                             'instead')
        return F.softmax(input, -3, _stacklevel=5)


# PyTorch defines MultiheadAttention in this module (torch.nn.modules.activation); ours lives in
# attention.py beside its functional form, and is importable from here under PyTorch's path.
from .attention import MultiheadAttention  # noqa: E402,F401
