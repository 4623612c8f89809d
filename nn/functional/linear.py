"""``linear`` (one fused op: a GEMM plus bias) and ``bilinear``."""
import math

import numpy

from autograd.extend import Op, linear_rows, ones_vector
from autograd.ops.formula import broadcast_to

__all__ = ['linear', 'bilinear']


_add_reduce = numpy.add.reduce      # (ndarray.sum is this behind a Python frame)

_C_NAMES = {'float64': 'double', 'float32': 'float', 'float16': 'c10::Half'}


def _c_name(a):
    """The C type name PyTorch's matmul errors use (``double``, ``float``)."""
    return _C_NAMES.get(str(a.dtype), str(a.dtype))


class Linear(Op):
    """``y = x W^T + b`` for ``x (*, in)``, ``W (out, in)``, ``b (out,)``.

    Backward (with ``g = dL/dy`` flattened to ``(n, out)`` and ``x`` to ``(n, in)``):
    ``dx = g W``, ``dW = g^T x``, ``db = sum_n g``.
    """
    __slots__ = ()
    array_backward = True
    save = (0, 1)
    save_for = (1, 0)       # dW reads x, dx reads W: an unneeded one is not kept (PyTorch)

    def name(self):
        """PyTorch's node name: its last op for the input's rank, with or without bias."""
        bias = len(self.next_functions) == 3
        return _LINEAR_NAMES[bias].get(len(self.output_shape),
                                       'ViewBackward0' if bias else 'UnsafeViewBackward0')

    def forward(self, xp, x, w, b=None):
        if w.ndim != 2:
            raise RuntimeError(f'mat2 must be a matrix, got {w.ndim}-D tensor')
        if x.ndim == 0 or x.shape[-1] != w.shape[1]:
            rows = x.size // x.shape[-1] if x.ndim >= 2 and x.shape[-1] else 1
            raise RuntimeError(f'mat1 and mat2 shapes cannot be multiplied '
                               f'({rows}x{x.shape[-1] if x.ndim else 1} and '
                               f'{w.shape[1]}x{w.shape[0]})')
        if x.dtype != w.dtype or (b is not None and b.dtype != x.dtype):
            other = w if x.dtype != w.dtype else b
            raise RuntimeError(f'expected m1 and m2 to have the same dtype, but got: '
                               f'{_c_name(x)} != {_c_name(other)}')
        if x.ndim > 2:          # one GEMM over all rows, not one per leading index
            rows = math.prod(x.shape[:-1])
            x2 = x.reshape(rows, x.shape[-1])
        else:
            x2 = x
        if b is None:
            out = xp.matmul(x2, w.T)
        elif x2.ndim == 2:
            out = linear_rows(x2, w, b)
        else:                   # (a 1-d input)
            out = xp.matmul(x2, w.T)
            out += b
        if x.ndim > 2:
            out = out.reshape(x.shape[:-1] + w.shape[:1])
        # bfloat16: ml_dtypes' matmul accumulates in float32 and returns that; PyTorch rounds
        return out if out.dtype == x.dtype else out.astype(x.dtype)

    def backward(self, g):
        x, w = self.saved_tensors
        needs = self.needs_input_grad
        grads = LinearBackward.apply(g, x, w, needs=needs)
        if len(grads) == len(needs):
            return grads
        out = []                                    # None for the inputs that need none
        k = 0
        for n in needs:
            if n:
                out.append(grads[k])
                k += 1
            else:
                out.append(None)
        return tuple(out)


class LinearBackward(Op):
    """``Linear``'s gradients ``(dx, dW, db)`` from ``g``, ``x`` and ``W``: the ones that
    ``needs`` (one flag each) asks for, as a tuple, computed on the arrays (two GEMMs and
    a sum over all rows at once).

    Its own derivatives are ``Linear`` and ``LinearBackward`` again: for cotangents
    ``(a, A, c)`` of ``(dx, dW, db)``, ``d/dg = a W^T + x A^T + c``, ``d/dx = g A`` (the dx
    of ``(g, x, A)``) and ``d/dW = g^T a`` (the dW of ``(g, a, W)``).
    """
    __slots__ = ('needs',)
    array_backward = True
    save = (0, 1, 2)

    def forward(self, xp, g, x, w, *, needs):
        # (x is None when no dW is asked for, w when no dx is: Linear keeps only those)
        self.needs = needs
        rows = math.prod(g.shape[:-1])             # (explicit: a size may be 0)
        g2 = g.reshape(rows, g.shape[-1])
        out = []
        if needs[0]:
            out.append(xp.matmul(g2, w).reshape(g.shape[:-1] + w.shape[1:]))
        if needs[1]:
            out.append(xp.matmul(g2.T, x.reshape(rows, x.shape[-1] if x.ndim else 1)))
        if len(needs) > 2 and needs[2]:
            if rows >= 64 and g.dtype.kind == 'f' and g.dtype.itemsize >= 4:
                # the column sums as a product with ones: BLAS's gemv takes a third of
                # NumPy's reduction's time ((512, 256) float32: 7 us against 20 us); below
                # 64 rows the reduction (its rounding kept) costs 1 to 2 us more at most
                out.append(xp.matmul(ones_vector(xp, rows, g.dtype), g2))
            else:
                out.append(g2.sum(0, dtype='float32') if g.dtype.kind == 'V' else
                           _add_reduce(g2, 0) if g2.__class__ is numpy.ndarray else g2.sum(0))
        if g.dtype.kind != 'V':
            return tuple(out)
        return tuple([o if o.dtype == g.dtype else o.astype(g.dtype) for o in out])  # bfloat16

    def backward(self, *cotangents):
        g, x, w = self.saved_tensors
        given = iter(cotangents)
        a, A, c = ([next(given) if n else None for n in self.needs] + [None])[:3]
        dg = dx = dw = None
        needs = self.needs_input_grad
        if needs[0]:
            for term in (None if a is None else Linear.apply(a, w),
                         None if A is None else Linear.apply(x, A), c):
                if term is not None:
                    dg = term if dg is None else dg + term
            if dg is not None and dg.shape != g.shape:      # c alone: broadcast it
                dg = broadcast_to(dg, g.shape)
        if needs[1] and A is not None:
            dx, = LinearBackward.apply(g, x, A, needs=(True, False))
        if needs[2] and a is not None:
            dw, = LinearBackward.apply(g, a, w, needs=(False, True))
        return dg, dx, dw


_LINEAR_NAMES = ({1: 'SqueezeBackward4', 2: 'MmBackward0'},       # no bias
                 {2: 'AddmmBackward0'})                             # bias: else ViewBackward0


def linear(input, weight, bias=None):
    """``input @ weight.T + bias``: input ``(*, in)``, weight ``(out, in)``, bias ``(out,)``."""
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias)


def bilinear(input1, input2, weight, bias=None):
    """``y_k = x1^T A_k x2 + b_k``: inputs ``(*, in1)``, ``(*, in2)``, weight
    ``(out, in1, in2)``, bias ``(out,)``; output ``(*, out)``."""
    if weight.ndim != 3:
        raise RuntimeError(f'bilinear(): weight must be three-dimensional, got {weight.ndim}D')
    out, in1, in2 = weight.shape
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f'bilinear(): input batch dimensions do not match: got '
                           f'{list(input1.shape[:-1])} and {list(input2.shape[:-1])}')
    if input1.shape[-1] != in1:
        raise RuntimeError(f'bilinear(): input1 size does not match weight size: got '
                           f'{input1.shape[-1]} but expected {in1}')
    if input2.shape[-1] != in2:
        raise RuntimeError(f'bilinear(): input2 size does not match weight size: got '
                           f'{input2.shape[-1]} but expected {in2}')
    # (x1 A)_{n,k,j} = sum_i x1_{n,i} A_{k,i,j}: one GEMM, then the contraction with x2
    a = weight.permute(1, 0, 2).reshape(in1, out * in2)
    t = input1.matmul(a).reshape(tuple(input1.shape[:-1]) + (out, in2))
    y = (t * input2.unsqueeze(-2)).sum(-1)
    return y if bias is None else y + bias
