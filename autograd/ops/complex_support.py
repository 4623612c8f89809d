"""Which library ops are right on complex tensors (``Op.complex_grad``; see
``ops/complex.py`` for the convention).

An op whose output is complex records a node only if its class is marked here or in its own
body; any other op refuses with a RuntimeError naming it, rather than return a gradient
that lacks a conjugate.  Marked: the linear ops whose backward needs no conjugate (sums,
shapes, views, indexing, copies), and the products whose formulas take ``conj_of`` of the
other operand (``Mul``, ``Div``, ``MatMul``).
"""
from . import elementwise as E
from . import indexing as I
from . import linalg as L
from . import reduction as R
from . import shape as S

COMPLEX_OPS = (
    E.Add, E.Sub, E.Neg, E.Mul, E.Div,
    R.Sum, R.Mean,
    L.MatMul, L.SwapLast,
    S.SumTo, S.BroadcastTo, S.ToCopy, S.Reshape, S.Permute, S.Squeeze, S.Unsqueeze,
    S.Unflatten, S.Clone, S.Flip, S.Roll, S.Tril, S.Triu, S.Diagonal, S.DiagonalScatter,
    S.Cat, S.Stack, S.Narrow, S.Split, S.Unbind, S.Repeat,
    I.Slice, I.Index, I.IndexBackward,
)

for _cls in COMPLEX_OPS:
    _cls.complex_grad = True
del _cls
