"""Matrix products: matmul and its named special cases, einsum, tensordot.

Forward calls the array module's ``matmul``/``einsum``; backward multiplies the incoming
gradient by the other operand (transposed), again with these ops, so every product
differentiates any number of times, and runs on bare arrays in a sweep that records no
graph (``array_backward``).  Batch dimensions that were broadcast in forward are summed
back with ``sum_to``.
"""
from itertools import zip_longest
from math import prod

from ..backend import opmath
from ..op import Op
from ..node import named
from ..tensor import Tensor
from ..extend import const_like, array_of, xp_of
from ._util import broadcast_shape, quiet, scalar_name
from .complex import conj_of
from .shape import broadcast_to, reshape, sum_to

# PyTorch's C type names, as its dtype-mismatch messages for mm spell them
_C_NAME = {'float16': 'c10::Half', 'float32': 'float', 'float64': 'double', 'int64': 'long int',
           'int32': 'int', 'int16': 'short int', 'int8': 'signed char', 'uint8': 'unsigned char',
           'bool': 'bool', 'complex64': 'c10::complex<float>',
           'complex128': 'c10::complex<double>'}


def _shape_str(shape):
    return 'x'.join(str(s) for s in shape)


# ----------------------------------------------------------------------------- ops

class SwapLast(Op):
    """The last two axes exchanged (a view); its own inverse, so its own backward."""
    __slots__ = ()
    array_backward = True
    view = True

    def forward(self, xp, a):
        return xp.swapaxes(a, -1, -2)

    def backward(self, g):
        return SwapLast.apply(g)


def _mT(x):
    return SwapLast.apply(x)


_MATMUL_NAMES = {0: 'DotBackward0', 1: 'MatMulBackward0', 2: 'MmBackward0'}


@quiet
class MatMul(Op):
    """``a @ b`` with NumPy/PyTorch rank rules: 1-D operands gain (then lose) a unit
    axis, leading (batch) axes broadcast.

    For C = A B:  dA = dC B^T,  dB = A^T dC  (batched), then summed to each input's shape.
    """
    __slots__ = ()
    array_backward = True
    save = (0, 1)

    def name(self):
        """PyTorch's node name for the output's rank (``mm``, ``dot``, batched: ``matmul``'s
        final view); a 1-d output (``mv``, or vector @ matrix) keeps ``MatMulBackward0``."""
        return self.torch_name or _MATMUL_NAMES.get(len(self._meta[0][0]), 'UnsafeViewBackward0')

    def forward(self, xp, a, b):
        if a.dtype.kind == 'b' or b.dtype.kind == 'b':
            # PyTorch's kernel for each rank case; dot refuses even empty vectors, the
            # others return empty results
            if a.ndim == 1 and b.ndim == 1:
                raise NotImplementedError('"dot" not implemented for \'Bool\'')
            if a.size and b.size:
                name = 'addmv_impl_cpu' if b.ndim == 1 else \
                    'bmm' if a.ndim == 3 and b.ndim == 3 else 'addmm_impl_cpu_'
                raise NotImplementedError(f'"{name}" not implemented for \'Bool\'')
        out = xp.matmul(a, b)
        # bfloat16: ml_dtypes accumulates in float32 and returns that; PyTorch rounds it
        return out if out.dtype == a.dtype or a.dtype != b.dtype else out.astype(a.dtype)

    def backward(self, g):
        a, b = self.saved_tensors
        sa, sb, sg = array_of(a).shape, array_of(b).shape, array_of(g).shape
        # lift 1-D operands to matrices so that one batched formula covers all rank cases
        sa2 = sa if len(sa) > 1 else (1,) + sa
        sb2 = sb if len(sb) > 1 else sb + (1,)
        a2 = a if len(sa) > 1 else a.reshape(sa2)
        b2 = b if len(sb) > 1 else b.reshape(sb2)
        if len(sa) == 1 or len(sb) == 1:
            batch = sg[:-1] if len(sa) > 1 or len(sb) > 1 else ()
            g = g.reshape(batch + (sa2[-2], sb2[-1]))
        ga = gb = None
        a2, b2 = conj_of(a2), conj_of(b2)      # complex: dA = dC B^H, dB = A^H dC
        if self._next[0] is not None:
            ga = sum_to(MatMul.apply(g, _mT(b2)), sa2).reshape(sa)
        if self._next[1] is not None:
            if len(sb) <= 2 < len(sa2):
                # the common (..., n, k) @ (k, m) case: fold the batch into one product
                n, k, m = prod(sa2[:-1]), sa2[-1], sb2[-1]     # (no -1: k or m may be 0)
                gb = MatMul.apply(_mT(a2.reshape((n, k))), g.reshape((n, m))).reshape(sb)
            else:
                gb = sum_to(MatMul.apply(_mT(a2), g), sb2).reshape(sb)
        return ga, gb


class Einsum(Op):
    """``einsum`` on an explicit equation whose operands need no broadcasting (the public
    function arranges that).  The gradient for operand i is the einsum of the gradient
    with the other operands, producing operand i's subscripts: the equation permuted."""
    __slots__ = ('equation', 'save')     # save: every operand, however many there are
    array_backward = True

    @opmath                 # bfloat16 in float32, as PyTorch
    def forward(self, xp, *arrays, equation):
        self.equation = equation
        self.save = tuple(range(len(arrays)))
        return xp.einsum(equation, *arrays, optimize=len(arrays) > 1)

    def backward(self, g):
        ops = self.saved_tensors
        ins, out = self.equation.split('->')
        subs = ins.split(',')
        grads = []
        for i, s in enumerate(subs):
            if self._next[i] is None:
                grads.append(None)
                continue
            others = [x for j, x in enumerate(ops) if j != i]
            other_subs = [t for j, t in enumerate(subs) if j != i]
            grads.append(_einsum_grad(g, out, others, other_subs, s, array_of(ops[i]).shape))
        return tuple(grads)


def _einsum_grad(g, out, others, other_subs, s, shape):
    """The gradient for an operand with subscripts ``s`` and ``shape``: contract ``g``
    (subscripts ``out``) with the other operands onto ``s``.  Letters found only in ``s``
    (summed within the operand) broadcast back; repeated letters (a diagonal) are put
    back on the diagonal by multiplying with identity matrices."""
    size = dict(zip(s, shape))
    letters = ''.join(dict.fromkeys(s))               # unique, in order
    seen = set(out).union(*other_subs)
    keep = ''.join(c for c in letters if c in seen)
    eq = ','.join(other_subs + [out]) + '->' + keep
    grad = Einsum.apply(*others, g, equation=eq)
    if keep != letters:
        grad = grad.reshape(tuple(size[c] if c in keep else 1 for c in letters))
        grad = broadcast_to(grad, tuple(size[c] for c in letters))
    if len(letters) == len(s):
        return grad if letters == s else Einsum.apply(grad, equation=letters + '->' + s)
    # repeated letters: grad[i, j] -> result[i, i', j] = grad[i, j] * eye[i, i']
    free = iter(c for c in _LETTERS if c not in s)
    target, eyes, eye_subs, first = [], [], [], set()
    for c in s:
        if c in first:
            f = next(free)
            target.append(f)
            eyes.append(_eye(size[c], g))
            eye_subs.append(c + f)
        else:
            first.add(c)
            target.append(c)
    eq = ','.join([letters] + eye_subs) + '->' + ''.join(target)
    return Einsum.apply(grad, *eyes, equation=eq)


def _eye(n, like):
    """The identity (n, n) in ``like``'s dtype and form (tensor or array)."""
    return const_like(xp_of(like).eye(n, dtype=array_of(like).dtype), like)


_LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'


# ----------------------------------------------------------------------------- checks

def _check_same_dtype(a, b, msg):
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(msg(a, b))


def _mm_dtype_msg(a, b):
    return (f'expected m1 and m2 to have the same dtype, but got: {_C_NAME[a.dtype.name]} != '
            f'{_C_NAME[b.dtype.name]}')


def _scalar_type_msg(a, b):
    return f'expected scalar type {scalar_name(a)} but found {scalar_name(b)}'


def _dot_dtype_msg(a, b):
    return (f'dot : expected both vectors to have same dtype, but found '
            f'{scalar_name(a)} and {scalar_name(b)}')


def _check_mm(a, b):
    sa, sb = a._data.shape, b._data.shape
    if sa[1] != sb[0]:
        raise RuntimeError(f'mat1 and mat2 shapes cannot be multiplied ({_shape_str(sa)} and '
                           f'{_shape_str(sb)})')


def _check_dot(a, b):
    na, nb = a._data.shape[0], b._data.shape[0]
    if na != nb:
        raise RuntimeError(f'inconsistent tensor size, expected tensor [{na}] and src [{nb}] to '
                           f'have the same number of elements, but got {na} and {nb} elements '
                           'respectively')


def _check_mv(a, b):
    sa, n = a._data.shape, b._data.shape[0]
    if sa[1] != n:
        raise RuntimeError(f'size mismatch, got input ({sa[0]}), mat ({_shape_str(sa)}), '
                           f'vec ({n})')


def _check_batched(sa, sb):
    """PyTorch's check for N-D products: inner sizes, then broadcastable batch shapes."""
    ba, bb = sa[:-2], sb[:-2]
    if sa[-1] != sb[-2]:
        # the message counts the batch as the larger size of each dim, broadcastable or not
        n = prod(max(p, q) for p, q in zip_longest(ba[::-1], bb[::-1], fillvalue=1))
        raise RuntimeError(f'Expected size for first two dimensions of batch2 tensor to be: '
                           f'[{n}, {sa[-1]}] but got: [{n}, {sb[-2]}].')
    broadcast_shape('matmul', ba, bb)


# ----------------------------------------------------------------------------- functions

def matmul(input, other):
    """Matrix product with PyTorch's rank rules:
    (n,)@(n,) -> (); (m,n)@(n,) -> (m,); (n,)@(n,p) -> (p,); (m,n)@(n,p) -> (m,p);
    (*b1,m,n)@(*b2,n,p) -> (*broadcast(b1,b2),m,p), a 1-D side gaining a unit axis."""
    da, db = input._data.ndim, other._data.ndim
    if da == 0 or db == 0:
        raise RuntimeError(f'both arguments to matmul need to be at least 1D, but they are '
                           f'{da}D and {db}D')
    if da == 1 and db == 1:
        return dot(input, other)
    if da == 2 and db == 1:
        return mv(input, other)
    if da == 2 and db == 2:
        return mm(input, other)
    sa, sb = input._data.shape, other._data.shape
    if da == 1 and db == 2:
        if sa[0] != sb[0]:
            raise RuntimeError(f'mat1 and mat2 shapes cannot be multiplied (1x{sa[0]} and '
                               f'{_shape_str(sb)})')
    elif da == 1:
        if sa[0] != sb[-2]:
            raise RuntimeError(f'Expected size for first two dimensions of batch2 tensor to be: '
                               f'[{prod(sb[:-2])}, {sa[0]}] but got: [{prod(sb[:-2])}, '
                               f'{sb[-2]}].')
    elif db == 1:
        if sa[-1] != sb[0]:
            n = prod(sa[:-1])
            raise RuntimeError(f'size mismatch, got input ({n}), mat ({n}x{sa[-1]}), '
                               f'vec ({sb[0]})')
    elif db == 2:
        if sa[-1] != sb[0]:
            raise RuntimeError(f'mat1 and mat2 shapes cannot be multiplied '
                               f'({prod(sa[:-1])}x{sa[-1]} and {_shape_str(sb)})')
    else:
        _check_batched(sa, sb)
    _check_same_dtype(input, other, _mm_dtype_msg if db == 2 else _scalar_type_msg)
    return MatMul.apply(input, other)


def mm(input, mat2):
    """(n, k) @ (k, m) -> (n, m)."""
    if input._data.ndim != 2:
        raise RuntimeError('self must be a matrix')
    if mat2._data.ndim != 2:
        raise RuntimeError('mat2 must be a matrix')
    _check_mm(input, mat2)
    _check_same_dtype(input, mat2, _mm_dtype_msg)
    return MatMul.apply(input, mat2)


_BMM = named(MatMul, 'BmmBackward0')      # PyTorch's node names
_MV = named(MatMul, 'MvBackward0')


def bmm(input, mat2):
    """(b, n, k) @ (b, k, m) -> (b, n, m); no broadcasting."""
    if input._data.ndim != 3:
        raise RuntimeError('batch1 must be a 3D tensor')
    if mat2._data.ndim != 3:
        raise RuntimeError('batch2 must be a 3D tensor')
    sa, sb = input._data.shape, mat2._data.shape
    if sb[0] != sa[0] or sb[1] != sa[2]:
        raise RuntimeError(f'Expected size for first two dimensions of batch2 tensor to be: '
                           f'[{sa[0]}, {sa[2]}] but got: [{sb[0]}, {sb[1]}].')
    _check_same_dtype(input, mat2, _scalar_type_msg)
    return _BMM.apply(input, mat2)


def mv(input, vec):
    """(n, k) @ (k,) -> (n,)."""
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f'vector + matrix @ vector expected, got 1, {input._data.ndim}, '
                           f'{vec._data.ndim}')
    _check_mv(input, vec)
    if input._data.dtype != vec._data.dtype:
        raise RuntimeError(f'addmv input tensors must have the same dtype, but got '
                           f'{scalar_name(vec)}, {scalar_name(input)}, and '
                           f'{scalar_name(vec)}')
    return _MV.apply(input, vec)


def dot(input, tensor):
    """(n,) . (n,) -> ()."""
    if input._data.ndim != 1 or tensor._data.ndim != 1:
        raise RuntimeError(f'1D tensors expected, but got {input._data.ndim}D and '
                           f'{tensor._data.ndim}D tensors')
    _check_dot(input, tensor)
    _check_same_dtype(input, tensor, _dot_dtype_msg)
    return MatMul.apply(input, tensor)


def inner(input, other):
    """Sum over the last axes of both (a scalar times a tensor when either is 0-d)."""
    if input._data.ndim == 0 or other._data.ndim == 0:
        return input * other
    return tensordot(input, other, dims=([-1], [-1]))


def outer(input, vec2):
    """(n,) x (m,) -> (n, m), promoting dtypes as multiplication does."""
    for name, t in (('self', input), ('vec2', vec2)):
        if t._data.ndim != 1:
            raise RuntimeError(f'outer: Expected 1-D argument {name}, but got {t._data.ndim}-D')
    return reshape(input, -1, 1) * vec2


ger = outer


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)``, ``input`` broadcast to (n, m)."""
    return _scaled_sum(input, mm(mat1, mat2), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * (batch1 @ batch2)`` per batch."""
    return _scaled_sum(input, bmm(batch1, batch2), beta, alpha)


def _scaled_sum(input, prod, beta, alpha):
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:       # PyTorch ignores input (even NaN/inf) when beta is 0
        return broadcast_to(prod, prod._data.shape)
    return (input if beta == 1 else input * beta) + prod


# ----------------------------------------------------------------------------- einsum

def einsum(equation, *operands):
    """Einstein summation, e.g. ``einsum('bij,bjk->bik', a, b)``.

    Accepts ``...`` (broadcast batch axes) and the implicit form without ``->`` (output:
    the letters used once, sorted).  Size-1 axes broadcast against other operands'.
    """
    if not operands and not isinstance(equation, str):
        raise ValueError('einsum(): must specify the equation string and at least one operand, '
                         'or at least one operand and its subscripts list')
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    eq, shapes = _explicit(equation.replace(' ', ''), operands)
    ops = [broadcast_to(x, s) for x, s in zip(operands, shapes)]
    dtypes = {x._data.dtype for x in ops}
    if len(dtypes) > 1:
        first = ops[0]
        other = next(x for x in ops if x._data.dtype != first._data.dtype)
        raise RuntimeError(_scalar_type_msg(first, other))
    return Einsum.apply(*ops, equation=eq)


def _explicit(equation, operands):
    """``equation`` with ellipses written as letters and the output made explicit, and
    the shape each operand must broadcast to (so that the einsum op never broadcasts)."""
    if '->' in equation:
        ins, out = equation.split('->')
    else:
        ins, out = equation, None
    subs = ins.split(',')
    if len(subs) > len(operands):
        raise RuntimeError('einsum(): fewer operands were provided than specified in the '
                           'equation')
    if len(subs) < len(operands):
        raise RuntimeError('einsum(): more operands were provided than specified in the '
                           'equation')
    for s in subs + ([out] if out is not None else []):
        for c in s.replace('...', ''):
            if c not in _LETTERS:
                raise RuntimeError(f'einsum(): invalid subscript given at index '
                                   f'{equation.index(c)} in the equation string, subscripts '
                                   'must be in [a-zA-Z]')
    used = set(equation)
    spare = [c for c in _LETTERS if c not in used]
    n_ell = 0
    for s, x in zip(subs, operands):
        if '...' in s:
            n_ell = max(n_ell, x._data.ndim - (len(s) - 3))
    ell = ''.join(spare[:n_ell])
    full = []
    for i, (s, x) in enumerate(zip(subs, operands)):
        nd = x._data.ndim
        if '...' in s:
            k = nd - (len(s) - 3)
            s = s.replace('...', ell[n_ell - k:] if k else '')
        if len(s) != nd:
            raise RuntimeError(f'einsum(): the number of subscripts in the equation ({len(s)}) '
                               f'does not match the number of dimensions ({nd}) for operand {i}'
                               + ('' if '...' in subs[i] else ' and no ellipsis was given'))
        full.append(s)
    if out is None:
        counts = {}
        for s in full:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + ''.join(sorted(c for c, k in counts.items() if k == 1 and c not in ell))
    else:
        out = out.replace('...', ell)
    size = {}
    for i, (s, x) in enumerate(zip(full, operands)):
        seen = {}
        for c, n in zip(s, x._data.shape):
            if c in seen and seen[c] != n:
                raise RuntimeError(f'einsum(): subscript {c} is repeated for operand {i} but the '
                                   f"sizes don't match, {seen[c]} != {n}")
            seen[c] = n
            m = size.get(c, 1)
            if m == 1:                  # (not max(m, n): a size-0 dim is no size 1)
                size[c] = n
            elif n != m and n != 1:
                raise RuntimeError(f'einsum(): subscript {c} has size {n} for operand {i} which '
                                   f'does not broadcast with previously seen size {m}')
    for c in out:
        if c not in size:
            raise RuntimeError(f'einsum(): output subscript {c} does not appear in the equation '
                               'for any input operand')
    shapes = [tuple(size[c] for c in s) for s in full]
    return ','.join(full) + '->' + out, shapes


def tensordot(a, b, dims=2):
    """Contract the last ``dims`` axes of ``a`` with the first ``dims`` of ``b``, or the
    axes listed in ``dims = (dims_a, dims_b)``."""
    na, nb = a._data.ndim, b._data.ndim
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f'tensordot expects dims >= 0, but got dims={dims}')
        da, db = list(range(na - dims, na)), list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
    if len(da) != len(db):
        raise RuntimeError('both dimension lists should have same length')
    da = [d + na if d < 0 else d for d in da]
    db = [d + nb if d < 0 else d for d in db]
    la, lb = list(_LETTERS[:na]), list(_LETTERS[na:na + nb])
    for i, j in zip(da, db):
        sa, sb = a._data.shape[i], b._data.shape[j]
        if sa != sb:
            raise RuntimeError(f'contracted dimensions need to match, but first has size {sa} in '
                               f'dim {i - na} and second has size {sb} in dim {j}')
        lb[j] = la[i]
    out = [c for i, c in enumerate(la) if i not in da] + \
        [c for j, c in enumerate(lb) if j not in db]
    _check_same_dtype(a, b, _scalar_type_msg)
    return Einsum.apply(a, b, equation=''.join(la) + ',' + ''.join(lb) + '->' + ''.join(out))


def _rmatmul(self, other):
    if not isinstance(other, Tensor):
        return NotImplemented
    return matmul(other, self)


def _matmul_op(self, other):
    if not isinstance(other, Tensor):
        return NotImplemented
    return matmul(self, other)


FUNCTIONS = ['matmul', 'mm', 'bmm', 'mv', 'dot', 'inner', 'outer', 'ger', 'einsum',
             'tensordot', 'addmm', 'baddbmm']
METHODS = ['matmul', 'mm', 'bmm', 'mv', 'dot', 'inner', 'outer', 'ger', 'addmm', 'baddbmm']
INPLACE = {}
OPERATORS = {'__matmul__': _matmul_op, '__rmatmul__': _rmatmul}


# ----------------------------------------------------------------------------- tensor functions
# (issue 14): the remaining "add" products, composed like addmm of the products above.

from ._util import wrap_dim  # noqa: E402

def addmv(input, mat, vec, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat @ vec)``, ``input`` broadcast to (n,)."""
    return _scaled_sum(input, mv(mat, vec), beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """``beta * input + alpha * outer(vec1, vec2)``, ``input`` broadcast to (n, m)."""
    return _scaled_sum(input, outer(vec1, vec2), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * sum_b batch1[b] @ batch2[b]`` (the batch reduced)."""
    for name, t in (('batch1', batch1), ('batch2', batch2)):
        wrap_dim(2, t._data.ndim)       # (PyTorch reads size(2) first: an IndexError)
        if t._data.ndim != 3:
            raise RuntimeError(f'{name} must be a 3D tensor')
    b1, b2 = batch1._data.shape[0], batch2._data.shape[0]
    if b1 != b2:
        raise RuntimeError(f'batch1 and batch2 must have same number of batches, got {b1} and '
                           f'{b2}')
    return _scaled_sum(input, bmm(batch1, batch2).sum(0), beta, alpha)


FUNCTIONS += ['addmv', 'addr', 'addbmm']
METHODS += ['addmv', 'addr', 'addbmm']


def vdot(input, other):
    """The dot product of two 1-d tensors (conjugating ``input``: for real tensors, dot)."""
    return dot(input, other)


def chain_matmul(*matrices):
    """The product of 2-d matrices, left to right (deprecated by PyTorch for
    ``linalg.multi_dot``)."""
    import warnings
    warnings.warn('torch.chain_matmul is deprecated and will be removed in a future PyTorch '
                  'release. Use torch.linalg.multi_dot instead, which accepts a list of two or '
                  'more tensors rather than multiple parameters.', UserWarning, stacklevel=2)
    if not matrices:
        raise RuntimeError('chain_matmul(): Expected one or more matrices')
    for m in matrices:
        if m.ndim != 2:
            raise RuntimeError(f'Tensor dimension is {m.ndim}, expected 2 instead.')
    out = matrices[0]
    if len(matrices) == 1:
        return out.clone()
    for m in matrices[1:]:
        out = mm(out, m)
    return out


FUNCTIONS += ['vdot', 'chain_matmul']
METHODS += ['vdot']
