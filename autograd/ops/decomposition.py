"""Matrix functions and decompositions: ``torch.linalg`` (inverse, determinants, solves,
Cholesky, QR, SVD, symmetric eigensystems, matrix exponential ...) and the top-level
forms PyTorch also has (``det``, ``inverse``, ``svd`` ...).

Each op's forward calls the array module's ``linalg`` (NumPy, or CuPy through the names
CuPy offers: ``CUPY_LINALG``), batched over leading dims; each backward is PyTorch's
formula (``torch/csrc/autograd/FunctionsManual.cpp``) written with ops, so it runs on bare
arrays in a plain sweep and differentiates again under ``create_graph``.  Functions that
PyTorch composes of others (``matrix_norm``, ``pinv``, ``matrix_power``, ``cross``,
``householder_product`` ...) are composites here too, their gradients those of the parts.

The project has no complex dtypes: ``eig``/``eigvals`` (complex results in PyTorch) raise
``NotImplementedError`` saying so.
"""
import math
from collections import namedtuple

from ..extend import array_module, const_like, device_of_array, wrap, xp_of
from ..op import Op
from ..tensor import Tensor
from ._util import broadcast_shapes, scalar_name
from .elementwise import Log
from .linalg import MatMul, SwapLast
from .reduction import Sum, _exclusive_cumprods
from .shape import Diagonal, DiagonalScatter, Tril, Triu, broadcast_to

# What real CuPy's ``cupy.linalg`` offers (batched over leading dims), per its reference:
# the forwards below call only these, so they run on a GPU as on the stand-in.  Everything
# else (triangular solves, the matrix exponential, least squares, pseudo-inverses) is built
# from them.
CUPY_LINALG = frozenset(('inv', 'solve', 'det', 'slogdet', 'cholesky', 'qr', 'svd', 'eigh',
                         'eigvalsh'))


class LinAlgError(RuntimeError):
    """``torch.linalg.LinAlgError``: a matrix function failed on its input (a singular
    matrix to invert, one that is not positive-definite to factor)."""


# PyTorch's structured results (``torch.return_types.linalg_slogdet`` ...)
_slogdet_t = namedtuple('linalg_slogdet', ['sign', 'logabsdet'])
_slogdet_top_t = namedtuple('slogdet', ['sign', 'logabsdet'])
_inv_ex_t = namedtuple('linalg_inv_ex', ['inverse', 'info'])
_cholesky_ex_t = namedtuple('linalg_cholesky_ex', ['L', 'info'])


# ----------------------------------------------------------------------------- helpers
# (formula-safe: each takes arrays or tensors and answers in the same form)

def _mT(x):
    return SwapLast.apply(x)


def _mm(a, b):
    return MatMul.apply(a, b)


def _eye(n, like):
    """The identity (n, n) in ``like``'s dtype and form."""
    xp = xp_of(like)
    dt = like.dtype if not isinstance(like, Tensor) else like._data.dtype
    return const_like(xp.eye(n, dtype=dt), like)


def _diagonal(x):
    """The main diagonals of the last two dims, (..., n, n) -> (..., n)."""
    nd = len(x.shape)
    return Diagonal.apply(x, offset=0, dim1=nd - 2, dim2=nd - 1)


def _diag_embed(v):
    """(..., n) -> (..., n, n) with ``v`` on the diagonals."""
    nd = len(v.shape)
    return DiagonalScatter.apply(v, shape=tuple(v.shape) + (v.shape[-1],), offset=0,
                                 dim1=nd - 1, dim2=nd)


def _col(x):
    """(...,) -> (..., 1, 1)."""
    return x.reshape(tuple(x.shape) + (1, 1))


def _unsq(x, axis):
    """A unit axis at ``axis`` (-1: last, -2: before last)."""
    s = tuple(x.shape)
    return x.reshape(s + (1,) if axis == -1 else s[:-1] + (1,) + s[-1:])


def _sym_lower(x):
    """0.5 (X + tril(X, -1)^T) of a lower-triangular X: the symmetric matrix with X's
    strict lower triangle mirrored and its diagonal halved (PyTorch's cholesky_backward)."""
    return (x + _mT(Tril.apply(x, diagonal=-1))) * 0.5


# ----------------------------------------------------------------------------- array helpers

def _lapack(fn, *args):
    """``fn(*args)``; None where the array library reports a singular or indefinite
    matrix by raising (NumPy's LinAlgError; CuPy returns NaN/inf instead)."""
    try:
        return fn(*args)
    except Exception as e:      # numpy.linalg.LinAlgError, without naming NumPy
        if type(e).__name__ == 'LinAlgError':
            return None
        raise


def _finite(xp, a):
    return bool(xp.isfinite(a).all())


def _host(a):
    """The host (NumPy) copy of array ``a`` and the host array module: for the error
    paths, which find the failing batch element and pivot as LAPACK reports it."""
    dev = device_of_array(a)
    h = dev.backend.to_host(a)
    return h, array_module(h)


def _zero_pivot(hxp, m):
    """LU with partial pivoting (LAPACK getrf) of one host matrix: the 1-based index of
    the first zero pivot, 0 if none."""
    m = m.astype(float).copy()
    n = m.shape[-1]
    for k in range(n):
        p = k + int(hxp.argmax(hxp.abs(m[k:, k])))
        if m[p, k] == 0:
            return k + 1
        m[[k, p]] = m[[p, k]]
        m[k + 1:, k:] -= hxp.outer(m[k + 1:, k] / m[k, k], m[k, k:])
    return 0


def _not_pd_order(hxp, a):
    """Cholesky of one host matrix (lower triangle read): the 1-based order of the first
    leading minor that is not positive-definite, 0 if none (LAPACK potrf's info)."""
    a = a.astype(float)
    n = a.shape[-1]
    L = hxp.zeros_like(a)
    for j in range(n):
        d = a[j, j] - L[j, :j] @ L[j, :j]
        if not d > 0:
            return j + 1
        L[j, j] = math.sqrt(d)
        L[j + 1:, j] = (a[j + 1:, j] - L[j + 1:, :j] @ L[j, :j]) / L[j, j]
    return 0


def _infos(a, one):
    """``one(hxp, matrix)`` for every matrix of the batch ``a``: host int32 infos."""
    h, hxp = _host(a)
    batch = h.shape[:-2]
    flat = h.reshape((-1,) + h.shape[-2:])
    return hxp.asarray([one(hxp, m) for m in flat], dtype='int32').reshape(batch)


def _batch_prefix(a, k):
    """PyTorch's '(Batch element k): ' for a batched input, '' for one matrix."""
    return f'(Batch element {k}): ' if a.ndim > 2 else ''


def _raise_first(name, a, infos, message):
    hxp = array_module(infos)
    bad = hxp.flatnonzero(infos.reshape(-1))
    if bad.size:
        k = int(bad[0])
        raise LinAlgError(f'{name}: {_batch_prefix(a, k)}' +
                          message(int(infos.reshape(-1)[k])))


def _inv_message(i):
    return (f'The diagonal element {i} is zero, the inversion could not be completed '
            'because the input matrix is singular.')


def _chol_message(i):
    return ('The factorization could not be completed because the input is not '
            f'positive-definite (the leading minor of order {i} is not positive-definite).')


# ----------------------------------------------------------------------------- checks

def _check_float(name, t):
    a = t._data
    if a.dtype.kind != 'f':
        raise RuntimeError(f'{name}: Expected a floating point or complex tensor as input. '
                           f'Got {scalar_name(a)}')


def _check_square(name, t, arg='A'):
    """PyTorch's checks of a batch of square matrices: at least 2-D, floating, square."""
    if not isinstance(t, Tensor):
        raise TypeError(f'{name}(): argument \'{arg}\' (position 1) must be Tensor, not '
                        f'{type(t).__name__}')
    a = t._data
    if a.ndim < 2:
        raise RuntimeError(f'{name}: The input tensor {arg} must have at least 2 dimensions.')
    _check_float(name, t)
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f'{name}: {arg} must be batches of square matrices, but they are '
                           f'{a.shape[-2]} by {a.shape[-1]} matrices')


def _check_same_dtype(name, a, b, what=('A', 'B')):
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f'{name}: Expected {what[1]} to have the same dtype as {what[0]}, '
                           f'but got {what[0]}.dtype = {scalar_name(a._data)} and '
                           f'{what[1]}.dtype = {scalar_name(b._data)}')


def _check_same_device(name, a, b):
    if a._device is not b._device:
        raise RuntimeError(f'Expected all tensors to be on the same device, but found at least '
                           f'two devices, {a._device} and {b._device}! (when checking '
                           f'arguments for {name})')


# ----------------------------------------------------------------------------- inverse

class Inv(Op):
    """A^{-1}, batched.  d(A^{-1}) = -A^{-1} dA A^{-1}, so gA = -X^T gX X^T (X = A^{-1})."""
    __slots__ = ()
    array_backward = True
    save_output = True

    def forward(self, xp, a):
        out = _lapack(xp.linalg.inv, a)
        if out is None or not _finite(xp, out):
            _raise_first('linalg.inv', a, _infos(a, _zero_pivot), _inv_message)
        return out

    def backward(self, g):
        x, = self.saved_tensors
        xt = _mT(x)
        return -_mm(xt, _mm(g, xt))


class InvEx(Op):
    """``inv_ex``'s forward where some matrix is singular: the inverses (NaN for the
    singular ones) and LAPACK's infos; records no graph."""
    __slots__ = ()
    differentiable = False

    def forward(self, xp, a):
        infos = _infos(a, _zero_pivot)
        out = xp.full(a.shape, math.nan, dtype=a.dtype)
        good = xp.asarray(infos == 0)
        if bool(good.any()):
            out[good] = xp.linalg.inv(a[good])
        return out, xp.asarray(infos)


# ----------------------------------------------------------------------------- solves

class Solve(Op):
    """X = A^{-1} B for (..., n, n) A and (..., n, k) B of the same batch shape.
    gB = A^{-T} gX (another solve), gA = -gB X^T."""
    __slots__ = ()
    array_backward = True
    save = (0,)
    save_output = True

    def forward(self, xp, a, b):
        out = _lapack(xp.linalg.solve, a, b)
        if out is None or not _finite(xp, out) and _finite(xp, a) and _finite(xp, b):
            raise LinAlgError('torch.linalg.solve: The solver failed because the input matrix '
                              'is singular.')
        return out

    def backward(self, g):
        a, x = self.saved_tensors
        gb = Solve.apply(_mT(a), g)
        ga = -_mm(gb, _mT(x)) if self._next[0] is not None else None
        return ga, gb


class SolveTriangular(Op):
    """X with A X = B (``left``) or X A = B, A triangular (``upper``; ``unitriangular``:
    its diagonal taken as ones; the other triangle is never read).  PyTorch's backward:
    gB = solve_triangular(A^T, gX, not upper), gA = -gB X^T (left) or -X^T gB, masked to
    A's triangle."""
    __slots__ = ('upper', 'left', 'unit')
    array_backward = True
    save = (0,)
    save_output = True

    def forward(self, xp, a, b, upper, left=True, unitriangular=False):
        self.upper, self.left, self.unit = upper, left, unitriangular
        t = xp.triu(a) if upper else xp.tril(a)
        if unitriangular:
            n = a.shape[-1]
            t = t * (1 - xp.eye(n, dtype=a.dtype)) + xp.eye(n, dtype=a.dtype)
        if left:
            out = _lapack(xp.linalg.solve, t, b)
        else:
            out = _lapack(xp.linalg.solve, xp.swapaxes(t, -1, -2), xp.swapaxes(b, -1, -2))
            out = None if out is None else xp.swapaxes(out, -1, -2)
        if out is None:     # a zero on the diagonal: PyTorch's substitution gives inf/NaN
            out = _substitute(xp, t, b if left else xp.swapaxes(b, -1, -2),
                              upper if left else not upper)
            out = out if left else xp.swapaxes(out, -1, -2)
        return out

    def backward(self, g):
        a, x = self.saved_tensors
        upper, left, unit = self.upper, self.left, self.unit
        gb = SolveTriangular.apply(_mT(a), g, upper=not upper, left=left, unitriangular=unit)
        ga = None
        if self._next[0] is not None:
            ga = -_mm(gb, _mT(x)) if left else -_mm(_mT(x), gb)
            ga = Triu.apply(ga, diagonal=int(unit)) if upper else \
                Tril.apply(ga, diagonal=-int(unit))
        return ga, gb


def _substitute(xp, t, b, upper):
    """Forward/back substitution of triangular ``t`` against ``b`` (both batched), row by
    row: what LAPACK's trtrs computes, inf/NaN included, where a pivot is zero."""
    n = t.shape[-1]
    x = xp.zeros(broadcast_shapes(t.shape[:-2], b.shape[:-2]) + b.shape[-2:], dtype=b.dtype)
    rows = range(n - 1, -1, -1) if upper else range(n)
    with_errors_ignored = getattr(xp, 'errstate', None)
    ctx = with_errors_ignored(all='ignore') if with_errors_ignored else _nothing()
    with ctx:
        for i in rows:
            acc = b[..., i, :] - (t[..., i, :, None] * x).sum(axis=-2)
            x[..., i, :] = acc / t[..., i, i, None]
    return x


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


# ----------------------------------------------------------------------------- Cholesky

class Cholesky(Op):
    """L lower-triangular with A = L L^T (A's lower triangle is read).  PyTorch's
    cholesky_backward: Phi = sym(tril(L^T gL)) (diagonal halved),
    gA = L^{-T} Phi L^{-1} by two triangular solves."""
    __slots__ = ()
    array_backward = True
    save_output = True

    def forward(self, xp, a):
        out = _lapack(xp.linalg.cholesky, a)
        if out is None or not _finite(xp, out):
            _raise_first('linalg.cholesky', a, _infos(a, _not_pd_order), _chol_message)
        return out

    def backward(self, g):
        L, = self.saved_tensors
        phi = _sym_lower(Tril.apply(_mm(_mT(L), g)))
        ga = SolveTriangular.apply(_mT(L), phi, upper=True, left=True)
        return SolveTriangular.apply(L, ga, upper=False, left=False)


class CholeskyEx(Op):
    """``cholesky_ex``'s forward: L (NaN where the factorization failed) and the infos;
    records no graph (the public function differentiates through ``Cholesky``)."""
    __slots__ = ()
    differentiable = False

    def forward(self, xp, a):
        infos = _infos(a, _not_pd_order)
        good = xp.asarray(infos == 0)
        full = xp.full(a.shape, math.nan, dtype=a.dtype)
        if bool(good.any()):
            full[good] = xp.linalg.cholesky(a[good])
        return full, xp.asarray(infos)


# ----------------------------------------------------------------------------- determinants

class Det(Op):
    """det(A), batched.  d det = <cof(A), dA>: gA = g cof(A), the cofactor matrix, which
    ``Cofactor`` computes for singular A too (PyTorch's det backward does the same)."""
    __slots__ = ()
    array_backward = True
    save = (0,)

    def forward(self, xp, a):
        return xp.linalg.det(a)

    def backward(self, g):
        a, = self.saved_tensors
        return _col(g) * Cofactor.apply(a)


class Cofactor(Op):
    """The cofactor matrix cof(A) = adj(A)^T (= det(A) A^{-T} when A is invertible), from
    the SVD A = U S V^T: cof(A) = det(U) det(V^T) U diag(prod_{j != i} s_j) V^T, which is
    exact for singular A (rank n-1: a rank-one matrix; lower rank: zero).

    Its own derivative (for the second derivatives of det) is the invertible case's:
    with M = A^{-T}, d cof = <M, dA> cof - det M dA^T M, so gA = <G, M> cof - M G^T cof.
    """
    __slots__ = ()
    array_backward = True
    save = (0,)
    save_output = True

    def forward(self, xp, a):
        if a.shape[-1] == 0:
            return xp.zeros_like(a)
        u, s, vh = xp.linalg.svd(a)
        others = _others_product(xp, s)
        sign = xp.linalg.det(u) * xp.linalg.det(vh)
        return sign[..., None, None] * xp.matmul(u * others[..., None, :], vh)

    def backward(self, g):
        a, cof = self.saved_tensors
        m = _mT(Inv.apply(a))
        inner = Sum.apply(g * m, dim=(-2, -1), keepdim=True)
        return inner * cof - _mm(_mm(m, _mT(g)), cof)


def _others_product(xp, s):
    """prod_{j != i} s_j along the last axis (no division: exact at zeros)."""
    left, right = _exclusive_cumprods(xp, s, s.ndim - 1)
    return left * right


class Slogdet(Op):
    """(sign(det A), log|det A|).  The sign is piecewise constant: its gradient is zero;
    g_logabsdet reaches A as g A^{-T} (PyTorch's slogdet_backward for real input)."""
    __slots__ = ()
    array_backward = True
    save = (0,)

    def forward(self, xp, a):
        sign, logabs = xp.linalg.slogdet(a)
        return xp.asarray(sign), xp.asarray(logabs)

    def backward(self, g_sign, g_logabs):
        if g_logabs is None:
            return None
        a, = self.saved_tensors
        return _col(g_logabs) * _mT(Inv.apply(a))


# ----------------------------------------------------------------------------- public functions

def _tensor_arg(name, x, arg='A'):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position 1) must be Tensor, not "
                        f'{type(x).__name__}')


def inv(A, *, out=None):
    """A^{-1} for (*, n, n) A; ``LinAlgError`` where a matrix is singular."""
    _check_square('linalg.inv', A)
    return Inv.apply(A)


def inv_ex(A, *, check_errors=False, out=None):
    """``(inverse, info)``: info (*,) int32 is 0, or the 1-based index of the first zero
    pivot of the LU factorization of a singular matrix (whose inverse is then NaN, and no
    gradient flows)."""
    _check_square('linalg.inv_ex', A)
    try:
        inverse = Inv.apply(A)
    except LinAlgError as e:
        if check_errors:
            raise LinAlgError(str(e).replace('linalg.inv:', 'linalg.inv_ex:')) from None
        return _inv_ex_t(*InvEx.apply(A))
    return _inv_ex_t(inverse, _zero_infos(A))


def _zero_infos(A):
    """The all-zero infos of a batch that factored: int32, of A's batch shape."""
    return wrap(A._device.xp.zeros(A._data.shape[:-2], dtype='int32'), A._device)


def inverse(input):
    """``torch.inverse``: ``linalg.inv``."""
    _check_square('inverse', input)
    return Inv.apply(input)


def det(A):
    """det(A) for (*, n, n) A: shape (*)."""
    _check_square('linalg.det', A)
    return Det.apply(A)


def linalg_slogdet(A):
    """``(sign, logabsdet)`` of det(A), each (*): the log of |det| without overflow."""
    _check_square('linalg.slogdet', A)
    return _slogdet_t(*Slogdet.apply(A))


def slogdet(input):
    """``torch.slogdet``: ``(sign, logabsdet)`` as ``linalg.slogdet``."""
    _check_square('linalg.slogdet', input)
    return _slogdet_top_t(*Slogdet.apply(input))


def logdet(input):
    """log(det A): NaN where det < 0, -inf where det = 0."""
    _check_square('logdet', input)
    sign, logabs = Slogdet.apply(input)
    return logabs + Log.apply(sign)


def linalg_cholesky(A, *, upper=False, out=None):
    """L (*, n, n) lower-triangular with A = L L^T, for symmetric positive-definite A (its
    lower triangle is read); ``upper=True``: U = L^T with A = U^T U."""
    _check_square('linalg.cholesky', A)
    L = Cholesky.apply(A)
    return _mT(L) if upper else L


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    """``(L, info)``: info (*,) int32 is 0, or the order of the first leading minor that
    is not positive-definite (L is then NaN for that matrix, and no gradient flows)."""
    _check_square('linalg.cholesky_ex', A)
    try:
        L = Cholesky.apply(A)
    except LinAlgError as e:
        if check_errors:
            raise LinAlgError(str(e).replace('linalg.cholesky:', 'linalg.cholesky_ex:')) \
                from None
        L, info = CholeskyEx.apply(A)
    else:
        info = _zero_infos(A)
    return _cholesky_ex_t(_mT(L) if upper else L, info)


def cholesky(input, upper=False, *, out=None):
    """``torch.cholesky`` (deprecated in PyTorch for ``linalg.cholesky``): lower L, or U
    with ``upper=True``."""
    _check_square('cholesky', input)
    L = Cholesky.apply(input)
    return _mT(L) if upper else L


def _matrix_rhs(name, A, B, left=True):
    """Broadcast the batch dims of A (*, n, n) and B (*, n, k) (or (*, k, n) for
    ``left=False``) with PyTorch's shape check."""
    a, b = A._data, B._data
    if b.ndim < 2:
        raise RuntimeError(f'{name}: The input tensor B must have at least 2 dimensions.')
    n = a.shape[-1]
    if (b.shape[-2] if left else b.shape[-1]) != n:
        eq = 'AX = B' if left else 'XA = B'
        sa = f'{a.shape[-2]}x{a.shape[-1]}'
        sb = f'{b.shape[-2]}x{b.shape[-1]}'
        raise RuntimeError(f'{name}: Incompatible shapes of A and B for the equation {eq} '
                           f'({sa} and {sb})')
    batch = tuple(broadcast_shapes(a.shape[:-2], b.shape[:-2]))
    return broadcast_to(A, batch + a.shape[-2:]), broadcast_to(B, batch + b.shape[-2:])


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """X with A X = B (``left``) or X A = B, for triangular A (*, n, n) (``upper`` says
    which triangle is read; ``unitriangular``: the diagonal is taken as ones) and B
    (*, n, k) (``left=False``: (*, k, n)); batch dims broadcast."""
    _check_square('linalg.solve_triangular', A)
    _check_float('linalg.solve_triangular', B)
    _check_same_device('linalg.solve_triangular', A, B)
    _check_same_dtype('linalg.solve_triangular', A, B)
    A, B = _matrix_rhs('linalg.solve_triangular', A, B, left)
    return SolveTriangular.apply(A, B, upper=bool(upper), left=bool(left),
                                 unitriangular=bool(unitriangular))


def solve(A, B, *, left=True, out=None):
    """X with A X = B (``left``) or X A = B, for A (*, n, n); B (*, n, k), or a vector
    (*, n) when B is 1-D or has one dim less than A with A's batch shape."""
    _check_square('linalg.solve', A)
    _check_float('linalg.solve', B)
    _check_same_device('linalg.solve', A, B)
    _check_same_dtype('linalg.solve', A, B)
    a, b = A._data, B._data
    vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    if vector:
        B = B.reshape(b.shape + (1,))
    if not left:
        A, B = _mT(A), _mT(B) if not vector else B
    A2, B2 = _matrix_rhs('linalg.solve', A, B, True)
    X = Solve.apply(A2, B2)
    if vector:
        return X.reshape(X.shape[:-1])
    return X if left else _mT(X)


FUNCTIONS = ['det', 'logdet', 'slogdet', 'inverse', 'cholesky']
METHODS = ['det', 'logdet', 'slogdet', 'inverse', 'cholesky']
INPLACE = {}
OPERATORS = {}
