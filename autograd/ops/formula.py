"""The namespace of backward formulas: what a formula may call.

A backward formula runs twice over: on tensors when a graph of the backward is recorded
(``create_graph=True``, so it differentiates again) and on the device's bare arrays in the
plain sweep (for ops with ``array_backward = True``).  Everything here takes either form
and answers in the same form: an op class through ``Cls.apply(...)`` (which on bare arrays
runs its forward alone), and the helpers below.  Besides these, a formula may use the
arithmetic operators, comparisons, ``.shape``, ``.ndim``, ``.dtype``, ``.T`` and
``.reshape`` (which tensors and arrays share), and ``self.saved_tensors``.  A formula that
needs anything else is written as an op of its own (see ``docs/EXTENDING.md``).
"""
from ..extend import array_of, const_like, xp_of, zeros_like_shape
from .elementwise import (Abs, Clamp, Div, Erf, Exp, Log, Maximum, Mul, Neg, Pow, Sigmoid, Sign,
                          Sqrt, Square, Tanh, Where)
from .indexing import Gather, IndexAdd, MaskedFill, ScatterAdd
from .linalg import MatMul
from .reduction import Amax, LogSumExp, Mean, Sum
from .shape import BroadcastTo, Cat, Permute, Reshape, Stack, SumTo, broadcast_to, sum_to

__all__ = [
    # helpers
    'array_of', 'const_like', 'xp_of', 'zeros_like_shape', 'sum_to', 'broadcast_to',
    # ops (call as Cls.apply)
    'Abs', 'Clamp', 'Div', 'Erf', 'Exp', 'Log', 'Maximum', 'Mul', 'Neg', 'Pow', 'Sigmoid', 'Sign',
    'Sqrt', 'Square', 'Tanh', 'Where', 'Gather', 'IndexAdd', 'MaskedFill', 'ScatterAdd',
    'MatMul', 'Amax', 'LogSumExp', 'Mean', 'Sum', 'BroadcastTo', 'Cat', 'Permute', 'Reshape',
    'Stack', 'SumTo',
]

# Used by the backward formulas of nn.functional (losses)
from .elementwise import Log1p  # noqa: E402
from .reduction import LogSoftmax, Softmax  # noqa: E402

__all__ += ['Log1p', 'LogSoftmax', 'Softmax']

# Complex values: the conjugate (identity on real values) and the parts (ops/complex.py)
from .complex import Conj, Imag, Real, conj_of  # noqa: E402

__all__ += ['Conj', 'Imag', 'Real', 'conj_of']
