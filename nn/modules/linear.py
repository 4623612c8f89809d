"""``Identity``, ``Linear`` and ``Bilinear`` (PyTorch's parameter names, shapes and init)."""
import math

from .. import functional as F
from .. import init
from .module import Module
from ._utils import empty_parameters

__all__ = ['Identity', 'Linear', 'Bilinear']


class Identity(Module):
    """Returns its input; accepts and ignores any constructor arguments."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """``y = x W^T + b`` with ``weight (out_features, in_features)`` and ``bias (out_features,)``.

    Initialised as PyTorch: ``W ~ U(-1/sqrt(in), 1/sqrt(in))`` (kaiming_uniform with
    a = sqrt(5)) and ``b ~ U(-1/sqrt(in), 1/sqrt(in))``.
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        empty_parameters(self, device, dtype, weight=(out_features, in_features),
                         bias=(out_features,) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (f'in_features={self.in_features}, out_features={self.out_features}, '
                f'bias={self.bias is not None}')


class NonDynamicallyQuantizableLinear(Linear):
    """A plain ``Linear`` under PyTorch's name for ``MultiheadAttention.out_proj``'s class
    (PyTorch keeps it, unexported, in ``nn.modules.linear``; the name shows in repr)."""


class Bilinear(Module):
    """``y_k = x1^T A_k x2 + b_k`` with ``weight (out, in1, in2)`` and ``bias (out,)``, both
    initialised ``U(-1/sqrt(in1), 1/sqrt(in1))``."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None,
                 dtype=None):
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        empty_parameters(self, device, dtype, weight=(out_features, in1_features, in2_features),
                         bias=(out_features,) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f'in1_features={self.in1_features}, in2_features={self.in2_features}, '
                f'out_features={self.out_features}, bias={self.bias is not None}')
