"""The ``torch.linalg`` functions that PyTorch too composes of other ops: norms
(``vector_norm``, ``matrix_norm``, ``norm``, ``cond``), ``matrix_power``, ``cross``,
``multi_dot``, ``householder_product``, ``vander``, and the top-level ``trace``, ``kron``,
``cholesky_solve``, ``cholesky_inverse``.  Their gradients, first and second, are those of
their parts (``ops/decomposition.py``, ``ops/linalg.py`` and the elementwise, reduction
and shape ops), so nothing here has a backward of its own, except ``cholesky_inverse``,
whose gradient is PyTorch's formula (it is not the gradient of its parts).
"""
import math

from ..extend import wrap
from ._util import broadcast_shapes, quiet, scalar_name, wrap_dim
from ..op import Op
from .decomposition import (SVD, Inv, _check_float, _check_matrix, _check_same_device,
                            _check_same_dtype, _check_square, _col, _mH, _mm, _mT, _tensor_arg,
                            inv, solve, solve_triangular, svdvals)
from .elementwise import Abs
from .linalg import MatMul
from .reduction import Amax, Amin, Sum, VectorNorm
from .shape import Cat, Diagonal, Narrow, Permute, Stack, Tril, broadcast_to, clone, copy_


# ----------------------------------------------------------------------------- norms

def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """(sum |x|^ord)^(1/ord) over ``dim`` (an int, a tuple, or None: all elements); ord
    inf/-inf: max/min |x|; ord 0: the number of nonzeros."""
    _tensor_arg('linalg.vector_norm', x, 'x')
    if dtype is not None:
        x = x.to(dtype)
    if isinstance(dim, list):
        dim = tuple(dim)
    return VectorNorm.apply(x, p=float(ord), dim=dim, keepdim=keepdim)


def matrix_norm(A, ord='fro', dim=(-2, -1), keepdim=False, *, dtype=None):
    """The matrix norm over the two dims ``dim``: 'fro', 'nuc' (sum of singular values),
    2/-2 (largest/smallest singular value), inf/-inf (max/min absolute row sum), 1/-1
    (max/min absolute column sum)."""
    _tensor_arg('linalg.matrix_norm', A)
    nd = A._data.ndim
    if nd < 2:
        raise RuntimeError('linalg.matrix_norm: The input tensor A must have at least 2 '
                           'dimensions.')
    if dtype is not None:
        A = A.to(dtype)
    _check_float('linalg.matrix_norm', A)
    dim = tuple(dim)
    if len(dim) != 2:
        raise RuntimeError(f'linalg.matrix_norm: dim must be a 2-tuple. Got {dim}')
    d0, d1 = (wrap_dim(d, nd) for d in dim)
    if d0 == d1:
        raise RuntimeError(f'linalg.matrix_norm: dims must be different. Got ({dim[0]}, '
                           f'{dim[1]})')
    if ord == 'fro':
        return VectorNorm.apply(A, p=2.0, dim=(d0, d1), keepdim=keepdim)
    if ord == 'nuc' or ord in (2, -2):
        S = SVD.apply(Permute.apply(A, dims=_to_last(nd, d0, d1)), full_matrices=False)[1]
        out = Sum.apply(S, dim=-1) if ord == 'nuc' else \
            (Amax if ord == 2 else Amin).apply(S, dim=-1)
        if keepdim:
            for d in sorted((d0, d1)):
                out = _unsqueeze_at(out, d)
        return out
    if ord in (1, -1, math.inf, -math.inf):
        # 1: max over columns of the column sums (sum over d0); inf: max row sum
        sum_dim, max_dim = (d0, d1) if ord in (1, -1) else (d1, d0)
        sums = Sum.apply(Abs.apply(A), dim=sum_dim, keepdim=True)
        out = (Amax if ord > 0 else Amin).apply(sums, dim=max_dim, keepdim=True)
        return out if keepdim else out.reshape(_without(out.shape, (d0, d1)))
    if isinstance(ord, str):
        raise RuntimeError(f'linalg.matrix_norm: Order {ord} not supported.')
    raise RuntimeError(f'linalg.matrix_norm: Order {_fmt(ord)} not supported.')


def _fmt(x):
    return int(x) if float(x).is_integer() else x


def _to_last(nd, d0, d1):
    """The permutation that moves dims d0, d1 to the end (in that order)."""
    return tuple(d for d in range(nd) if d not in (d0, d1)) + (d0, d1)


def _without(shape, dims):
    return tuple(s for i, s in enumerate(shape) if i not in dims)


def _unsqueeze_at(x, d):
    s = tuple(x.shape)
    return x.reshape(s[:d] + (1,) + s[d:])


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """``linalg.norm``: a vector norm over one dim (or over all elements when ``dim`` and
    ``ord`` are None), a matrix norm over two."""
    _tensor_arg('linalg.norm', A)
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) == 1:
            return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
        if len(dims) == 2:
            return matrix_norm(A, 'fro' if ord is None else ord, dims, keepdim, dtype=dtype)
        raise RuntimeError(f'linalg.norm: If dim is specified, it mut be of length 1 or 2. Got '
                           f'{list(dims)}')
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    nd = A._data.ndim
    if nd == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    if nd == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    raise RuntimeError(f'linalg.norm: If dim is not specified but ord is, the input must be 1D '
                       f'or 2D. Got {nd}D.')


def cond(A, p=None):
    """The condition number in norm ``p`` (None: 2, the ratio of extreme singular values)."""
    _check_matrix('linalg.cond', A)
    if p is None or p in (2, -2):
        S = svdvals(A)
        big, small = Amax.apply(S, dim=-1), Amin.apply(S, dim=-1)
        return big / small if p in (None, 2) else small / big
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


# ----------------------------------------------------------------------------- composites

def linalg_matrix_power(A, n):
    """A^n for integer n by repeated squaring; A^0 = I, A^-n = (A^-1)^n."""
    _tensor_arg('linalg.matrix_power', A)
    a = A._data
    if a.ndim < 2:
        raise RuntimeError('linalg.matrix_power: The input tensor A must have at least 2 '
                           'dimensions.')
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f'linalg.matrix_power: A must be batches of square matrices, but '
                           f'they are {a.shape[-2]} by {a.shape[-1]} matrices')
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"matrix_power(): argument 'n' must be int, not {type(n).__name__}")
    if n == 0:         # as PyTorch: identities copied into a clone of A (zero gradient)
        eye = A._device.xp.eye(a.shape[-1], dtype=a.dtype)
        return copy_(clone(A), wrap(A._device.xp.broadcast_to(eye, a.shape), A._device))
    if n < 0:
        _check_float('linalg.matrix_power', A)
        A, n = Inv.apply(A), -n
    result, power = None, A
    while True:
        if n & 1:
            result = power if result is None else MatMul.apply(result, power)
        n >>= 1
        if not n:
            return result
        power = MatMul.apply(power, power)


def matrix_power(input, n):
    """``torch.matrix_power``: ``linalg.matrix_power``."""
    return linalg_matrix_power(input, n)


def _cross3(input, other, d):
    """The cross product along dim ``d`` (of size 3) of broadcast ``input`` and ``other``."""
    def part(x, i):
        return Narrow.apply(x, dim=d, start=i, length=1)
    a = [part(input, i) for i in range(3)]
    b = [part(other, i) for i in range(3)]
    return Cat.apply(a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2],
                     a[0] * b[1] - a[1] * b[0], dim=d)


def _broadcast_pair(name, input, other):
    shape = tuple(broadcast_shapes(input._data.shape, other._data.shape))
    return broadcast_to(input, shape), broadcast_to(other, shape), shape


def linalg_cross(input, other, *, dim=-1):
    """The cross product of 3-vectors along ``dim`` (default the last), broadcasting."""
    _check_same_device('linalg.cross', input, other)
    if input._data.ndim != other._data.ndim:
        raise RuntimeError('linalg.cross: inputs must have the same number of dimensions.')
    na, nb = input._data.shape[dim], other._data.shape[dim]
    if na != 3 or nb != 3:
        raise RuntimeError(f'linalg.cross: inputs dimension {dim} must have length 3. Got {na} '
                           f'and {nb}')
    input, other, shape = _broadcast_pair('linalg.cross', input, other)
    return _cross3(input, other, wrap_dim(dim, len(shape)))


def cross(input, other, dim=None):
    """``torch.cross``: as ``linalg.cross``, but ``dim=None`` means the first dim of size 3
    (PyTorch's deprecated default) rather than the last."""
    if dim is None:
        shape = tuple(broadcast_shapes(input._data.shape, other._data.shape))
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError('no dimension of size 3 in input')
    if input._data.ndim != other._data.ndim:
        raise RuntimeError('linalg.cross: inputs must have the same number of dimensions.')
    return linalg_cross(input, other, dim=dim)


def multi_dot(tensors):
    """The product of a chain of matrices, the first and last of which may be vectors
    (treated as a row and a column, then squeezed)."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f'multi_dot(): expected at least 2 tensors but got {len(tensors)}')
    first, last = tensors[0]._data.ndim, tensors[-1]._data.ndim
    if first not in (1, 2):
        raise RuntimeError(f'multi_dot(): the first tensor must be 1D or 2D but got {first}D')
    if last not in (1, 2):
        raise RuntimeError(f'multi_dot(): the last tensor must be 1D or 2D but got {last}D')
    for i, t in enumerate(tensors[1:-1], 1):
        if t._data.ndim != 2:
            raise RuntimeError(f'multi_dot(): tensor {i} must be 2D but got {t._data.ndim}D')
    dtype = tensors[0]._data.dtype
    for i, t in enumerate(tensors):
        if t._data.dtype != dtype:
            raise RuntimeError(f'multi_dot(): all tensors must have be the same dtype but tensor '
                               f'0 is {scalar_name(tensors[0]._data)} and tensor {i} '
                               f'{scalar_name(t._data)}')
    mats = list(tensors)
    if first == 1:
        mats[0] = mats[0].reshape((1,) + mats[0]._data.shape)
    if last == 1:
        mats[-1] = mats[-1].reshape(mats[-1]._data.shape + (1,))
    for i in range(len(mats) - 1):
        p, q = mats[i]._data.shape[1], mats[i + 1]._data.shape[0]
        if p != q:
            sa = 'x'.join(map(str, mats[i]._data.shape))
            sb = 'x'.join(map(str, mats[i + 1]._data.shape))
            raise RuntimeError(f'multi_dot(): tensors {i} and {i + 1} with shapes {sa} and {sb} '
                               'cannot be multiplied')
    result = mats[0]
    for m in mats[1:]:
        result = MatMul.apply(result, m)
    shape = result._data.shape
    if first == 1 and last == 1:
        return result.reshape(())
    if first == 1:
        return result.reshape(shape[1:])
    if last == 1:
        return result.reshape(shape[:1])
    return result


def householder_product(A, tau):
    """The first n columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^T, where v_i is column i
    of A (*, m, n) below the diagonal with a 1 on it (LAPACK orgqr): with ``geqrf``'s output
    this is the Q of a QR decomposition.  A composite of products, so its gradients are
    those of the formula."""
    name = 'torch.linalg.householder_product'
    a, t = A._data, tau._data
    if a.ndim < 2:
        raise RuntimeError(f'{name}: input must have at least 2 dimensions.')
    m, n = a.shape[-2:]
    if m < n:
        raise RuntimeError(f'{name}: input.shape[-2] must be greater than or equal to '
                           'input.shape[-1]')
    if n < t.shape[-1]:
        raise RuntimeError(f'{name}: input.shape[-1] must be greater than or equal to '
                           'tau.shape[-1]')
    if a.ndim - t.ndim != 1:
        raise RuntimeError(f'{name}: Expected tau to have one dimension less than input, but '
                           f'got tau.ndim equal to {t.ndim} and input.ndim is equal to {a.ndim}')
    _check_same_dtype(name, A, tau, ('input', 'tau'))
    k = t.shape[-1]
    xp = A._device.xp
    unit = wrap(xp.eye(m, k, dtype=a.dtype), A._device)
    V = Tril.apply(A[..., :k], diagonal=-1) + unit                 # (*, m, k)
    Q = wrap(xp.broadcast_to(xp.eye(m, n, dtype=a.dtype), a.shape[:-2] + (m, n)).copy(),
             A._device)
    for i in range(k - 1, -1, -1):          # Q <- H_i Q, from the last reflection back
        v = V[..., i:i + 1]                                          # (*, m, 1)
        Q = Q - (_col(tau[..., i]) * v) * MatMul.apply(_mT(v), Q)
    return Q


def linalg_vander(x, *, N=None):
    """(*, n) -> (*, n, N): the powers x^0, x^1, ..., x^(N-1) (increasing), N = n by
    default."""
    _tensor_arg('linalg.vander', x, 'x')
    N = x._data.shape[-1] if x._data.ndim and N is None else N
    if N is None or N < 2:
        raise RuntimeError('N must be greater than 1.')
    return _powers(x, N, increasing=True)


def _powers(x, N, increasing):
    xp = x._device.xp
    ones = wrap(xp.ones(x._data.shape, dtype=x._data.dtype), x._device)
    cols = [ones] if N else []
    for _ in range(1, N):
        cols.append(cols[-1] * x)
    if not increasing:
        cols = cols[::-1]
    if not cols:
        return wrap(xp.zeros(x._data.shape + (0,), dtype=x._data.dtype), x._device)
    return Stack.apply(*cols, dim=x._data.ndim)


def vander(x, N=None, increasing=False):
    """``torch.vander``: 1-D x (n,) -> (n, N) with columns x^(N-1), ..., x^0 (decreasing
    unless ``increasing``); N = n by default."""
    if x._data.ndim != 1:
        raise RuntimeError('x must be a one-dimensional tensor.')
    N = x._data.shape[0] if N is None else N
    if N < 0:
        raise RuntimeError('N must be non-negative.')
    if x._data.dtype.kind in 'biu':     # PyTorch computes integer powers in int64
        x = x.long()
    return _powers(x, N, increasing)


def trace(input):
    """The sum of the main diagonal of a matrix."""
    if input._data.dtype.kind == 'b':
        raise NotImplementedError('"trace" not implemented for \'Bool\'')
    if input._data.ndim != 2:
        raise RuntimeError('trace: expected a matrix, but got tensor with dim '
                           f'{input._data.ndim}')
    d = Diagonal.apply(input, offset=0, dim1=0, dim2=1)
    return Sum.apply(d)


def kron(input, other):
    """The Kronecker product: out[i * p + k, j * q + l] = a[i, j] * b[k, l] (any number of
    dims, the fewer padded with leading ones)."""
    a, b = input, other
    na, nb = a._data.ndim, b._data.ndim
    nd = max(na, nb)
    sa = (1,) * (nd - na) + tuple(a._data.shape)
    sb = (1,) * (nd - nb) + tuple(b._data.shape)
    inter_a = tuple(x for s in sa for x in (s, 1))
    inter_b = tuple(x for s in sb for x in (1, s))
    prod = a.reshape(inter_a) * b.reshape(inter_b)
    return prod.reshape(tuple(p * q for p, q in zip(sa, sb)))


def cholesky_solve(B, L, upper=False):
    """X with (L L^T) X = B for a Cholesky factor L (*, n, n) (``upper``: U with U^T U)
    and B (*, n, k): two triangular solves."""
    _check_square('cholesky_solve', L)
    _check_same_dtype(None, B, L, ('b', 'A'))
    if upper:
        Y = solve_triangular(_mT(L), B, upper=False)
        return solve_triangular(L, Y, upper=True)
    Y = solve_triangular(L, B, upper=False)
    return solve_triangular(_mT(L), Y, upper=True)


@quiet
class CholeskyInverse(Op):
    """(L L^H)^{-1} from the lower triangle of L (``upper``: (U^H U)^{-1} from the upper),
    as LAPACK's potri reads it: L^{-H} L^{-1} by one triangular inverse and a product.
    The gradient is PyTorch's cholesky_inverse_backward, -(Y (G + G^H) Y) L with Y the
    result (``upper``: -L (...)), on the whole of L: it is not masked to the triangle the
    forward reads, so an L with a nonzero other triangle gets PyTorch's gradient there and
    in its triangle too (a training program's steps stay PyTorch's)."""
    __slots__ = ('upper',)
    array_backward = True
    save = (0,)
    save_output = True

    def forward(self, xp, a, upper=False):
        self.upper = upper
        t = xp.triu(a) if upper else xp.tril(a)
        r = xp.linalg.inv(t)
        rh = xp.conj(xp.swapaxes(r, -1, -2))
        return xp.matmul(r, rh) if upper else xp.matmul(rh, r)

    def backward(self, g):
        L, Y = self.saved_tensors
        c = _mm(Y, _mm(g + _mH(g), Y))
        return -(_mm(L, c) if self.upper else _mm(c, L))


def cholesky_inverse(L, upper=False):
    """(L L^T)^{-1} for a Cholesky factor L (*, n, n) (``upper``: (U^T U)^{-1})."""
    _check_square('cholesky_inverse', L, kernel='cholesky_inverse_out_cpu')
    _check_factor_diagonal('cholesky_inverse', L)
    return CholeskyInverse.apply(L, upper=upper)





def _check_factor_diagonal(name, L):
    """PyTorch's error for a triangular factor with a zero on its diagonal (read on the
    host, as PyTorch's check does)."""
    from .decomposition import LinAlgError, _batch_prefix, _host
    a = L._data
    if not a.size or bool((a.diagonal(0, -2, -1) != 0).all()):
        return
    h, hxp = _host(a.diagonal(0, -2, -1) == 0)
    flat = h.reshape(-1, h.shape[-1])
    batch = int(flat.any(-1).argmax())
    raise LinAlgError(f'{name}: {_batch_prefix(a, batch)}The diagonal element '
                      f'{int(flat[batch].argmax()) + 1} is zero, the inversion could not be '
                      'completed because the input matrix is singular.')


def vecdot(x, y, *, dim=-1):
    """The dot product of vectors along ``dim``, broadcasting: sum(x * y, dim)."""
    return Sum.apply(x * y, dim=dim)


def linalg_diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """``linalg.diagonal``: ``torch.diagonal`` with the last two dims as default."""
    n = A._data.ndim
    d1, d2 = wrap_dim(dim1, n), wrap_dim(dim2, n)
    if d1 == d2:
        raise RuntimeError(f'diagonal dimensions cannot be identical {dim1}, {dim2}')
    return Diagonal.apply(A, offset=int(offset), dim1=d1, dim2=d2)


def tensorinv(A, ind=2):
    """The inverse of A as a tensor: tensordot(tensorinv(A), A, ind) is the identity on the
    dims ``A.shape[:ind]``; shape ``A.shape[ind:] + A.shape[:ind]``."""
    if ind <= 0:
        raise RuntimeError(f'Expected a strictly positive integer for \'ind\', but got {ind}')
    shape = tuple(A._data.shape)
    rows, cols = math.prod(shape[:ind]), math.prod(shape[ind:])
    if rows != cols:
        raise RuntimeError(f'Expected self to satisfy the requirement prod(self.shape[ind:]) == '
                           f'prod(self.shape[:ind]), but got {cols} != {rows}')
    return inv(A.reshape((rows, cols))).reshape(shape[ind:] + shape[:ind])


def tensorsolve(A, B, dims=None):
    """X with tensordot(A, X, X.ndim) = B: A's dims ``dims`` (if given) move to the end,
    its leading dims must match B's shape, and X takes the shape of the rest."""
    nd = A._data.ndim
    if dims is not None:
        dims = [wrap_dim(d, nd) for d in dims]
        A = Permute.apply(A, dims=tuple(d for d in range(nd) if d not in dims) + tuple(dims))
    shape = tuple(A._data.shape)
    lead = tuple(B._data.shape)
    rest = shape[len(lead):]
    rows, cols = math.prod(lead), math.prod(rest)
    if shape[:len(lead)] != lead or rows != cols:
        raise RuntimeError(f'Expected self to satisfy the requirement prod(self.shape[other.ndim:]) '
                           f'== prod(self.shape[:other.ndim]), but got {cols} != {rows}')
    x = solve(A.reshape((rows, cols)), B.reshape((rows,)))
    return x.reshape(rest)


FUNCTIONS = ['cholesky_solve', 'cholesky_inverse', 'matrix_power', 'cross', 'vander', 'trace',
             'kron']
METHODS = ['cholesky_solve', 'cholesky_inverse', 'matrix_power', 'cross', 'trace', 'kron']
INPLACE = {}
OPERATORS = {}
