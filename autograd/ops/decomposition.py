"""Matrix decompositions and the matrix functions built on them: ``torch.linalg``'s
inverse, determinants, solves, least squares, Cholesky, QR, SVD, symmetric eigensystems,
pseudo-inverse and matrix exponential, and the top-level forms PyTorch also has (``det``,
``inverse``, ``svd`` ...).

Each op's forward calls the array module's ``linalg`` (NumPy, or CuPy through the names
CuPy offers: ``CUPY_LINALG``), batched over leading dims; each backward is PyTorch's
formula (``torch/csrc/autograd/FunctionsManual.cpp``) written with ops, so it runs on bare
arrays in a plain sweep and differentiates again under ``create_graph``.  A decomposition
with several outputs (SVD, eigh, QR) recomputes them from its saved input in backward, so
that under ``create_graph`` they are tensors that differentiate again.  Functions that
PyTorch composes of others (norms, ``matrix_power``, ``cross``, ``householder_product``
...) are composites in ``ops/linalg_composites.py``.

``eig``/``eigvals`` return complex tensors (``ops/complex.py``), from real or complex input.

Errors: ``inv``, ``cholesky`` and ``solve`` raise ``LinAlgError`` for a singular (not
positive-definite) matrix, as PyTorch does, which means a check of the result on the device
(NumPy raises by itself; CuPy returns NaN): like PyTorch's, these functions synchronize.
The batch element and pivot the message names are found on the host, on the error path
only (``_infos``).
"""
import math
from collections import namedtuple

import numpy

from ..extend import (array_module, array_of, const_like, device_of_array, needs_grad, wrap,
                      xp_of, zeros_like_shape)
from ..op import Op
from ..tensor import Tensor, _make
from ._util import broadcast_shapes, quiet, scalar_name
from .complex import Real, conj_of
from .elementwise import Log, Where
from .linalg import MatMul, SwapLast
from .reduction import Sum
from .shape import Cat, Diagonal, DiagonalScatter, Tril, Triu, broadcast_to

# What real CuPy's ``cupy.linalg`` offers (batched over leading dims), per its reference:
# the forwards below call only these, so they run on a GPU as on the stand-in.  Everything
# else (triangular solves, the matrix exponential, least squares, pseudo-inverses) is built
# from them.
CUPY_LINALG = frozenset(('inv', 'solve', 'det', 'slogdet', 'cholesky', 'qr', 'svd', 'eigh',
                         'eigvalsh'))
# CuPy 14 added ``eig``/``eigvals`` (cuSOLVER's Xgeev): ``_geev`` looks them up and says so
# where an older CuPy lacks them


class LinAlgError(RuntimeError):
    """``torch.linalg.LinAlgError``: a matrix function failed on its input (a singular
    matrix to invert, one that is not positive-definite to factor)."""


# PyTorch's structured results (``torch.return_types.linalg_slogdet`` ...)
_slogdet_t = namedtuple('linalg_slogdet', ['sign', 'logabsdet'])
_slogdet_top_t = namedtuple('slogdet', ['sign', 'logabsdet'])
_inv_ex_t = namedtuple('linalg_inv_ex', ['inverse', 'info'])
_cholesky_ex_t = namedtuple('linalg_cholesky_ex', ['L', 'info'])
_solve_ex_t = namedtuple('linalg_solve_ex', ['result', 'info'])


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
    with hxp.errstate(all='ignore'):        # inf - inf in a matrix holding inf: NaN, no pivot
        infos = [one(hxp, m) for m in flat]
    return hxp.asarray(infos, dtype='int32').reshape(batch)


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
    if a.dtype.kind not in 'fV':
        if a.dtype.kind == 'c':     # PyTorch takes complex here; the library does not yet
            raise RuntimeError(f'{name}: complex input ({scalar_name(a)}) is not supported '
                               'here: only linalg.eig and linalg.eigvals take complex tensors')
        raise RuntimeError(f'{name}: Expected a floating point or complex tensor as input. '
                           f'Got {scalar_name(a)}')


def _check_square(name, t, arg='A', kernel=None):
    """PyTorch's checks of a batch of square matrices: at least 2-D, floating, square.
    With ``kernel`` (the old API's functions), the dtype is checked last, by the kernel's
    dispatch: ``NotImplementedError``."""
    if not isinstance(t, Tensor):
        raise TypeError(f'{name}(): argument \'{arg}\' (position 1) must be Tensor, not '
                        f'{type(t).__name__}')
    a = t._data
    if a.ndim < 2:
        raise RuntimeError(f'{name}: The input tensor {arg} must have at least 2 dimensions.')
    if kernel is None:
        _check_float(name, t)
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f'{name}: {arg} must be batches of square matrices, but they are '
                           f'{a.shape[-2]} by {a.shape[-1]} matrices')
    if kernel is not None and a.dtype.kind != 'f':
        raise NotImplementedError(f'"{kernel}" not implemented for \'{scalar_name(a)}\'')


def _check_same_dtype(name, a, b, what=('A', 'B')):
    """PyTorch's dtype-mismatch message of linalg.solve (``name`` None: without a name)."""
    if a._data.dtype != b._data.dtype:
        prefix = f'{name}: ' if name else ''
        raise RuntimeError(f'{prefix}Expected {what[0]} and {what[1]} to have the same dtype, '
                           f'but found {what[0]} of type {scalar_name(a._data)} and {what[1]} '
                           f'of type {scalar_name(b._data)} instead' + ('' if name else '.'))


def _check_same_device(name, a, b):
    if a._device is not b._device:
        raise RuntimeError(f'Expected all tensors to be on the same device, but found at least '
                           f'two devices, {a._device} and {b._device}! (when checking '
                           f'arguments for {name})')


# ----------------------------------------------------------------------------- inverse

@quiet
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


@quiet
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

@quiet
class Solve(Op):
    """X = A^{-1} B for (..., n, n) A and (..., n, k) B of the same batch shape.
    gB = A^{-H} gX (another solve), gA = -gB X^H (A^T, X^T for real values)."""
    __slots__ = ()
    array_backward = True
    complex_grad = True
    save = (0,)
    save_output = True

    def forward(self, xp, a, b):
        out = _lapack(xp.linalg.solve, a, b)
        # CuPy returns NaN/inf for a singular matrix where NumPy raises: a non-finite X of
        # finite input is singular only with a zero pivot (A = [[1e-40]] in float32 is not:
        # X overflows to inf, as PyTorch's)
        if out is None or not _finite(xp, out) and _finite(xp, a) and _finite(xp, b) and \
                bool(_infos(a, _zero_pivot).any()):
            raise LinAlgError('torch.linalg.solve: The solver failed because the input matrix '
                              'is singular.')
        return out

    def backward(self, g):
        a, x = self.saved_tensors
        gb = Solve.apply(_mH(a), g)
        ga = -_mm(gb, _mH(x)) if self._next[0] is not None else None
        return ga, gb


@quiet
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
            out = _substitute(xp, t, b, upper) if left else \
                _substitute(xp, xp.swapaxes(t, -1, -2), xp.swapaxes(b, -1, -2), not upper)
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

def _lost_to_nonfinite(xp, a, singular, nan=None):
    """Where PyTorch's det/slogdet is NaN and LAPACK's early answer is not: a matrix with a
    NaN, or a singular one with an infinity (PyTorch multiplies the whole diagonal of U, so
    0 * inf and log 0 + log inf are NaN; NumPy returns 0 at the first zero pivot).  None for
    a batch of finite matrices (one pass to know it)."""
    finite = xp.isfinite(a).all(axis=(-2, -1))
    if xp is numpy and finite.all():
        return None
    bad = xp.isnan(a).any(axis=(-2, -1)) | (singular & ~finite)
    return bad if nan is None else bad | nan


@quiet
class Det(Op):
    """det(A), batched.  d det = <cof(A), dA>, so gA = g cof(A), the cofactor matrix, as
    PyTorch's linalg_det_backward computes it (``_cofactor``): det(A) A^{-T} for the
    invertible matrices of the batch, and for the (numerically) singular ones from the SVD
    A = U S V^T,
    cof(A) = det(U) det(V^T) U diag(prod_{j != i} s_j) V^T, which holds for singular A
    too (rank n-1: a rank-one matrix; lower rank: zero).  Both are written with ops, so
    second derivatives follow (through ``SVD`` at a singular matrix, whose singular values
    must then be distinct, as in PyTorch)."""
    __slots__ = ()
    array_backward = True
    save = (0,)
    save_output = True

    def forward(self, xp, a):
        d = xp.linalg.det(a)
        bad = _lost_to_nonfinite(xp, a, d == 0)
        return xp.where(bad, xp.nan, d) if bad is not None else d

    def backward(self, g):
        a, d = self.saved_tensors
        if array_of(a).size == 0:       # an empty batch: a constant, as PyTorch's
            return zeros_like_shape(a, a.shape)
        return _col(g) * _cofactor(a, d)


def _cofactor(a, d):
    """cof(A) (formula-safe) given d = det(A): det(A) A^{-T} for the invertible matrices of
    the batch, the SVD form for the (numerically) singular ones.  Each form sees only its
    own matrices (the others replaced by I, or by diag(1..n) whose singular values are
    distinct), so neither form's derivatives produce NaN for matrices it does not serve."""
    xp = xp_of(a)
    arr = array_of(a)
    n = arr.shape[-1]
    singular = _singular_mask(arr)
    if not bool(singular.any()):
        return _col(d) * _mT(Inv.apply(a))
    if bool(singular.all()):
        return _svd_cofactor(a)
    mask = const_like(singular[..., None, None], a)
    eye = _eye(n, a)
    spread = const_like(xp.diag(xp.arange(1, n + 1, dtype=arr.dtype)), a)
    regular = _col(d) * _mT(Inv.apply(Where.apply(mask, eye, a)))
    return Where.apply(mask, _svd_cofactor(Where.apply(mask, a, spread)), regular)


def _svd_cofactor(a):
    """cof(A) = det(U) det(V^T) U diag(prod_{j != i} s_j) V^T from A = U S V^T."""
    xp = xp_of(a)
    U, S, Vh = SVD.apply(a, full_matrices=False)
    # det(U) det(V^T) = +-1 is piecewise constant: a constant of the formula
    sign = const_like(xp.linalg.det(array_of(U)) * xp.linalg.det(array_of(Vh)), a)
    return _col(sign) * _mm(U * _unsq(_others_product(S), -2), Vh)


def _others_product(s):
    """prod_{j != i} s_j along the last axis, as products of the cyclic shifts of ``s``:
    no division, so exact (and differentiable) next to zeros, where out / s_i is not."""
    n = s.shape[-1]
    out = None
    for k in range(1, n):
        shifted = s[..., [(i + k) % n for i in range(n)]]
        out = shifted if out is None else out * shifted
    return out if out is not None else s * 0 + 1


def _singular_mask(a):
    """Per matrix of batch ``a``: whether its rank is below n in floating point (smallest
    singular value within n eps of the largest), where A^{-1} is useless or inaccurate (a
    det that LU found to be 1e-16 is rounding)."""
    xp = xp_of(a)
    n = a.shape[-1]
    if n == 0:
        return xp.zeros(a.shape[:-2], dtype=bool)
    # a matrix holding inf or NaN (made by an earlier step) goes the A^{-1} way, whose NaN
    # and inf are PyTorch's: its singular values are NaN, never within n eps
    s = _svd_of(xp, a, nan_raises=False, compute_uv=False)
    return s[..., -1] <= n * float(xp.finfo(a.dtype).eps) * s[..., 0]


@quiet
class Slogdet(Op):
    """(sign(det A), log|det A|).  The sign is piecewise constant: its gradient is zero;
    g_logabsdet reaches A as g A^{-T} = g cof(A) / det(A) (PyTorch's slogdet_backward for
    real input; +-inf/NaN at a singular matrix, as there)."""
    __slots__ = ()
    array_backward = True
    save = (0,)

    def forward(self, xp, a):
        sign, logabs = xp.linalg.slogdet(a)
        bad = _lost_to_nonfinite(xp, a, sign == 0, xp.isnan(logabs))
        if bad is not None:
            sign, logabs = xp.where(bad, 0, sign), xp.where(bad, xp.nan, logabs)
        return xp.asarray(sign), xp.asarray(logabs)

    def backward(self, g_sign, g_logabs):
        if g_logabs is None:
            return None
        a, = self.saved_tensors
        if not bool(_singular_mask(array_of(a)).any()):
            return _col(g_logabs) * _mT(Inv.apply(a))
        # a singular matrix: cof(A) / det(A), infinite as PyTorch's gradient is there
        d = Det.apply(a)
        return _col(g_logabs / d) * _cofactor(a, d)


# ----------------------------------------------------------------------------- public functions

def _tensor_arg(name, x, arg='A'):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position 1) must be Tensor, not "
                        f'{type(x).__name__}')


def inv(A):
    """A^{-1} for (*, n, n) A; ``LinAlgError`` where a matrix is singular."""
    _check_square('linalg.inv', A)
    return Inv.apply(A)


def inv_ex(A, *, check_errors=False):
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
    if input.dtype.is_complex:
        return logabs + Log.apply(sign)
    # PyTorch's where(sign == -1, nan, logabsdet): no gradient where det < 0
    return Where.apply(sign < 0, math.nan, logabs)


def linalg_cholesky(A, *, upper=False):
    """L (*, n, n) lower-triangular with A = L L^T, for symmetric positive-definite A (its
    lower triangle is read); ``upper=True``: U with A = U^T U (its upper triangle read)."""
    _check_square('linalg.cholesky', A)
    return _cholesky(A, upper)


def cholesky_ex(A, *, upper=False, check_errors=False):
    """``(L, info)``: info (*,) int32 is 0, or the order of the first leading minor that
    is not positive-definite (L is then NaN for that matrix, and no gradient flows)."""
    _check_square('linalg.cholesky_ex', A)
    try:
        L = _cholesky(A, upper)
    except LinAlgError as e:
        if check_errors:
            raise LinAlgError(str(e).replace('linalg.cholesky:', 'linalg.cholesky_ex:')) \
                from None
        L, info = CholeskyEx.apply(_mT(A) if upper else A)
        L = _mT(L) if upper else L
    else:
        info = _zero_infos(A)
    return _cholesky_ex_t(L, info)


def _cholesky(A, upper):
    """L, or with ``upper`` U = chol(A^T)^T (U^T U = A, read from A's upper triangle)."""
    return _mT(Cholesky.apply(_mT(A))) if upper else Cholesky.apply(A)


def cholesky(input, upper=False):
    """``torch.cholesky`` (deprecated in PyTorch for ``linalg.cholesky``): lower L, or U
    with ``upper=True``.  Like PyTorch's, an empty input skips the square check: it is
    returned as it is (non-float dtypes), with a backward that raises (not a batch of
    square matrices), or factorized (an empty batch of float matrices)."""
    if isinstance(input, Tensor) and input.numel() == 0:
        a = input._data
        if a.ndim < 2:
            return EmptyCholesky.apply(input, message='tensor.mH is only supported on matrices '
                                       f'or batches of matrices. Got {a.ndim}-D tensor.')
        if a.shape[-1] != a.shape[-2]:
            return EmptyCholesky.apply(input, message='linalg.solve_triangular: A must be '
                                       'batches of square matrices, but they are '
                                       f'{a.shape[-1]} by {a.shape[-2]} matrices')
        if a.dtype.kind not in 'fc':
            return input.clone()
        # an empty batch of float matrices goes the factorization's way, as PyTorch's,
        # so that its gradient has the factorization's graph (second derivatives)
    _check_square('cholesky', input, kernel='cholesky_cpu')
    try:
        return _cholesky(input, upper)
    except LinAlgError as e:        # PyTorch names the deprecated function 'cholesky'
        raise LinAlgError(str(e).replace('linalg.cholesky:', 'cholesky:', 1)) from None


class EmptyCholesky(Op):
    """``torch.cholesky`` of an empty input that is no batch of square matrices: PyTorch
    returns it as it is, and its backward raises (``message``)."""
    __slots__ = ('message',)
    array_backward = True

    def forward(self, xp, a, message):
        self.message = message
        return a.copy()

    def backward(self, g):
        raise RuntimeError(self.message)


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


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with A X = B (``left``) or X A = B, for triangular A (*, n, n) (``upper`` says
    which triangle is read; ``unitriangular``: the diagonal is taken as ones) and B
    (*, n, k) (``left=False``: (*, k, n)); batch dims broadcast."""
    _check_square('linalg.solve_triangular', A)
    _check_float('linalg.solve_triangular', B)
    _check_same_device('linalg.solve_triangular', A, B)
    if B._data.dtype != A._data.dtype:     # PyTorch computes in A's dtype
        B = B.to(A.dtype)
    A, B = _matrix_rhs('linalg.solve_triangular', A, B, left)
    return SolveTriangular.apply(A, B, upper=bool(upper), left=bool(left),
                                 unitriangular=bool(unitriangular))


def solve_ex(A, B, *, left=True, check_errors=False):
    """``(result, info)``: ``solve`` that reports a singular matrix in ``info`` (int32, the
    first zero pivot of its LU factorization, 1-based; the result is then NaN, and no
    gradient flows) rather than raising, unless ``check_errors``."""
    try:
        return _solve_ex_t(solve(A, B, left=left), _zero_infos(A))
    except LinAlgError:
        if check_errors:
            raise LinAlgError('torch.linalg.solve_ex: The solver failed because the input '
                              'matrix is singular.') from None
    _, info = InvEx.apply(A)
    xp = A._device.xp
    a, b = A._data, B._data
    if b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1]):     # a vector
        shape = tuple(broadcast_shapes(a.shape[:-2], b.shape[:-1])) + b.shape[-1:]
    else:
        shape = tuple(broadcast_shapes(a.shape[:-2], b.shape[:-2])) + b.shape[-2:]
    return _solve_ex_t(wrap(xp.full(shape, math.nan, dtype=a.dtype), A._device), info)


def solve(A, B, *, left=True):
    """X with A X = B (``left``) or X A = B, for A (*, n, n); B (*, n, k), or a vector
    (*, n) when B is 1-D or has one dim less than A with A's batch shape."""
    _check_square('linalg.solve', A)
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


# ============================================================================= spectral

_svd_t = namedtuple('linalg_svd', ['U', 'S', 'Vh'])
_svd_top_t = namedtuple('svd', ['U', 'S', 'V'])
_eigh_t = namedtuple('linalg_eigh', ['eigenvalues', 'eigenvectors'])
_qr_t = namedtuple('linalg_qr', ['Q', 'R'])
_qr_top_t = namedtuple('qr', ['Q', 'R'])
_lstsq_t = namedtuple('linalg_lstsq', ['solution', 'residuals', 'rank', 'singular_values'])


def _skew(x):
    return x - _mT(x)


def _svd_of(xp, a, name='linalg.svd', nan_raises=True, **kw):
    """``xp.linalg.svd(a, **kw)`` that neither hangs nor leaks NumPy's error on non-finite
    matrices: OpenBLAS's gesdd never returns on a matrix holding inf, so such matrices are
    factored as the identity and their results set to NaN (PyTorch's U and S there); NaN
    raises PyTorch's LinAlgError (unless ``nan_raises`` is false: NaN results then too)."""
    finite = xp.isfinite(a).all(axis=(-2, -1)) if a.size else None
    if finite is None or bool(finite.all()):
        return xp.linalg.svd(a, **kw)
    if nan_raises and bool(xp.isnan(a).any()):
        k = int(xp.flatnonzero(~finite.ravel())[0]) if a.ndim > 2 else None
        where = '' if k is None else f'(Batch element {k}): '
        raise LinAlgError(f'{name}: {where}The algorithm failed to converge because the '
                          'input matrix contained non-finite values.')
    m, n = a.shape[-2:]
    eye = xp.eye(m, n, dtype=a.dtype)
    out = xp.linalg.svd(xp.where(finite[..., None, None], a, eye), **kw)
    nan = xp.asarray(float('nan'), dtype=a.dtype)
    if not kw.get('compute_uv', True):
        return xp.where(finite[..., None], out, nan)
    u, s, vh = out
    return (xp.where(finite[..., None, None], u, nan), xp.where(finite[..., None], s, nan),
            xp.where(finite[..., None, None], vh, nan))


class SVD(Op):
    """A = U diag(S) V^T (S descending).  Backward is PyTorch's svd_backward for real input,
    which assumes distinct singular values (repeated ones give inf/NaN, as in PyTorch):
    with E_ij = s_j^2 - s_i^2 (1 on the diagonal),
    gA = U [(skew(U^T gU) S + S skew(V^T gV)) / E + diag(gS)] V^T, plus the terms of the
    complement of U (m > n) or V (m < n).  The formula reads U, S, V^T of a fresh reduced
    SVD of the saved input: in a ``create_graph`` sweep, tensors that differentiate again
    (through this op)."""
    __slots__ = ('full',)
    array_backward = True
    save = (0,)

    def forward(self, xp, a, full_matrices=False):
        self.full = full_matrices
        u, s, vh = _svd_of(xp, a, full_matrices=full_matrices)
        return u, s, vh

    def backward(self, gU, gS, gVh):
        a, = self.saved_tensors
        U, S, Vh = SVD.apply(a, full_matrices=False)
        if self.full:       # only the first k = min(m, n) singular vectors reach S
            k = S.shape[-1]
            gU = None if gU is None else gU[..., :k]
            gVh = None if gVh is None else gVh[..., :k, :]
        return _svd_backward(gU, gS, gVh, U, S, Vh)


def _svd_backward(gU, gS, gVh, U, S, Vh):
    m, n = U.shape[-2], Vh.shape[-1]
    if gU is None and gVh is None:
        if gS is None:
            return None
        return _mm(U, _unsq(gS, -1) * Vh) if m >= n else _mm(U * _unsq(gS, -2), Vh)
    V = _mT(Vh)
    gV = None if gVh is None else _mT(gVh)
    S2 = S * S
    E = _unsq(S2, -2) - _unsq(S2, -1) + _eye(S.shape[-1], S)
    if gU is not None and gV is not None:
        gA = (_skew(_mm(_mT(U), gU)) * _unsq(S, -2) + _unsq(S, -1) * _skew(_mm(Vh, gV))) / E
    elif gU is not None:
        gA = _skew(_mm(_mT(U), gU)) / E * _unsq(S, -2)
    else:
        gA = _unsq(S, -1) * (_skew(_mm(Vh, gV)) / E)
    if gS is not None:
        gA = gA + _diag_embed(gS)
    if m > n and gU is not None:
        gA = _mm(U, gA)
        gUSinv = gU / _unsq(S, -2)
        gA = _mm(gA + gUSinv - _mm(U, _mm(_mT(U), gUSinv)), Vh)
    elif m < n and gV is not None:
        gA = _mm(gA, Vh)
        gVSinv = gV / _unsq(S, -2)
        gA = _mm(U, gA + _mT(gVSinv) - _mm(_mm(_mT(gVSinv), V), Vh))
    else:
        gA = _mm(U, _mm(gA, Vh)) if m >= n else _mm(_mm(U, gA), Vh)
    return gA


class Eigh(Op):
    """A = V diag(L) V^T for symmetric A (the ``UPLO`` triangle is read), L ascending.
    PyTorch's linalg_eig_backward (hermitian): gA = V (skew(V^T gV)/2 / E + diag(gL)) V^T
    with E_ij = L_j - L_i (1 on the diagonal): repeated eigenvalues give inf/NaN where
    the loss depends on the eigenvectors, as in PyTorch."""
    __slots__ = ('uplo',)
    array_backward = True
    save = (0,)

    def forward(self, xp, a, UPLO='L'):
        self.uplo = UPLO
        w, v = xp.linalg.eigh(a, UPLO=UPLO)
        return w, v

    def backward(self, gL, gV):
        a, = self.saved_tensors
        L, V = Eigh.apply(a, UPLO=self.uplo)
        if gV is None:
            if gL is None:
                return None
            return _mm(V * _unsq(gL, -2), _mT(V))
        VhgV = _mm(_mT(V), gV)
        E = _unsq(L, -2) - _unsq(L, -1) + _eye(L.shape[-1], L)
        inner = (VhgV - _mT(VhgV)) * 0.5 / E
        if gL is not None:
            inner = inner + _diag_embed(gL)
        return _mm(V, _mm(inner, _mT(V)))


class QR(Op):
    """A = Q R by Householder reflections (LAPACK geqrf), for m >= n or a square A in
    ``mode='complete'`` (the public function reduces m < n to a square QR).  Backward
    (Liao, Liu, Wang & Xiang 2019, "Differentiable programming tensor networks", eq. 4; the
    same as PyTorch's linalg_qr_backward): M = R gR^T - gQ^T Q,
    gA = (gQ + Q copyltu(M)) R^{-T}, copyltu(M) = tril(M) + tril(M, -1)^T."""
    __slots__ = ('mode',)
    array_backward = True
    save = (0,)

    def forward(self, xp, a, mode='reduced'):
        self.mode = mode
        # + 0: -0.0 becomes 0.0.  A reflector's sign follows its column's leading entry,
        # and LAPACK builds differ on the sign of -0.0 (NumPy's reads it as negative,
        # PyTorch's as positive): Q's columns and R's rows would come out negated
        q, r = xp.linalg.qr(a + 0, mode='complete' if mode == 'complete' else 'reduced')
        if mode == 'r':
            q = xp.zeros((0,), dtype=a.dtype)
        return q, r

    def backward(self, gQ, gR):
        a, = self.saved_tensors
        m, n = a.shape[-2], a.shape[-1]
        if self.mode == 'r':
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed "
                               "when mode='r'. Please use linalg.qr(A, mode='reduced') if you "
                               'are going to differentiate through linalg.qr.')
        if self.mode == 'complete' and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                               'and nrows > ncols.')
        Q, R = QR.apply(a, mode='reduced')
        if gQ is None and gR is None:
            return None
        if gQ is None:
            M = _mm(R, _mT(gR))
        elif gR is None:
            M = -_mm(_mT(gQ), Q)
        else:
            M = _mm(R, _mT(gR)) - _mm(_mT(gQ), Q)
        gA = _mm(Q, Tril.apply(M) + _mT(Tril.apply(M, diagonal=-1)))
        if gQ is not None:
            gA = gA + gQ
        return SolveTriangular.apply(_mT(R), gA, upper=False, left=False)


@quiet
class MatrixExp(Op):
    """exp(A) = sum_k A^k / k!, by scaling and squaring with the [13/13] Padé approximant
    (Higham 2005, "The scaling and squaring method for the matrix exponential revisited",
    Algorithm 2.3), each matrix of the batch scaled by its own power of two.  Backward (as
    PyTorch's, Higham's "Functions of Matrices" Thm 3.6): the Fréchet derivative's
    adjoint is the top-right block of exp([[A^T, G], [0, A^T]])."""
    __slots__ = ()
    array_backward = True
    save = (0,)

    def forward(self, xp, a):
        return _expm(xp, a)

    def backward(self, g):
        a, = self.saved_tensors
        n = a.shape[-1]
        at = _mT(a)
        zero = const_like(xp_of(a).zeros(tuple(a.shape), dtype=_dtype(a)), a)
        block = Cat.apply(Cat.apply(at, g, dim=-1), Cat.apply(zero, at, dim=-1), dim=-2)
        return MatrixExp.apply(block)[..., :n, n:]


def _dtype(x):
    return x._data.dtype if isinstance(x, Tensor) else x.dtype


_PADE13 = (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800.,
           129060195264000., 10559470521600., 670442572800., 33522128640., 1323241920.,
           40840800., 960960., 16380., 182., 1.)
_THETA13 = 5.371920351148152


def _norm1(xp, a):
    return xp.abs(a).sum(axis=-2).max(axis=-1)


def _expm(xp, a):
    if a.size == 0:
        return a.copy()
    if a.shape[-1] == 1:            # as PyTorch's: exp itself (exp(-inf) = 0, not NaN)
        return xp.exp(a)
    r, far = _scaled_squared(xp, a)
    if bool(far.any()):
        # Far from normal (the 1-norm overstates the growth by 2^8 or more: [[0.5, -2],
        # [-1e300, 1]]): scaled by the norm, the approximant rounds its tiny entries away
        # against 1 and the squarings never see the growth (NaN instead of inf).  Balanced,
        # D^-1 A D with D diagonal powers of two (exact), the norm is the growth's, and
        # exp(A) = D exp(D^-1 A D) D^-1 (Ward 1977; Higham 2005, sec. 6)
        b, d = _balance(xp, a)
        rb = _scaled_squared(xp, b)[0] * d[..., :, None] / d[..., None, :]
        r = xp.where(far[..., None, None], rb, r)
    return r


def _balance(xp, a, sweeps=64):
    """(D^-1 A D, diag D): Osborne's iteration (Parlett & Reinsch 1969, LAPACK's gebal
    without permutations) on every matrix of the batch, D's entries powers of two."""
    n = a.shape[-1]
    b, d = a.copy(), xp.ones(a.shape[:-1], dtype=a.dtype)
    off = 1 - xp.eye(n, dtype=a.dtype)
    errstate = getattr(xp, 'errstate', None)
    with errstate(all='ignore') if errstate else _nothing():
        for _ in range(sweeps):
            moved = False
            for i in range(n):
                c = (xp.abs(b[..., :, i]) * off[i]).sum(axis=-1)
                r = (xp.abs(b[..., i, :]) * off[i]).sum(axis=-1)
                ok = (c > 0) & (r > 0) & xp.isfinite(c * r)
                f = 2.0 ** xp.where(ok, xp.round(0.5 * xp.log2(xp.where(ok, r, 1) /
                                                               xp.where(ok, c, 1))), 0)
                b[..., :, i] *= f[..., None]
                b[..., i, :] /= f[..., None]
                d[..., i] *= f
                moved = moved or bool((f != 1).any())
            if not moved:
                break
    return b, d


def _scaled_squared(xp, a):
    """exp(A) by scaling and squaring, and whether the Pade bound needed 8 or more
    squarings fewer than the norm's (A far from normal)."""
    n = a.shape[-1]
    errstate = getattr(xp, 'errstate', None)
    with errstate(all='ignore') if errstate else _nothing():
        s = xp.maximum(xp.ceil(xp.log2(_norm1(xp, a) / _THETA13)), 0)
        s = xp.where(xp.isfinite(s), s, 0).astype(a.dtype)
        a = a / (2.0 ** s)[..., None, None]
        a2 = a @ a
        a4 = a2 @ a2
        # Al-Mohy & Higham (2009): the Pade error is bounded through max(||A^4||^(1/4),
        # ||A^5||^(1/5)) <= ||A||, so a non-normal matrix needs fewer squarings than its
        # norm says (overscaled, the approximant's rounding is raised to the power 2^s:
        # [[1, -1e38], [-1, -1]] came out 0 instead of overflowing)
        alpha = xp.maximum(_norm1(xp, a4) ** 0.25, _norm1(xp, a4 @ a) ** 0.2)
        less = xp.minimum(xp.ceil(xp.log2(alpha / _THETA13)), 0)
        far = xp.maximum(less, -s) <= -8        # alpha = 0 (A^4 underflowed) included
        less = xp.maximum(xp.where(xp.isfinite(less), less, 0).astype(a.dtype), -s)
    t = (2.0 ** -less)[..., None, None]     # exactly 1 where nothing changes: no host sync
    s, a, a2, a4 = s + less, a * t, a2 * t ** 2, a4 * t ** 4
    b = _PADE13
    eye = xp.eye(n, dtype=a.dtype)
    a6 = a4 @ a2
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2 +
             b[1] * eye)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + \
        b[0] * eye
    r = xp.linalg.solve(v - u, v + u)
    steps = int(s.max()) if s.ndim else int(s)
    for j in range(steps):          # square each matrix s_i times
        r = xp.where((j < s)[..., None, None], r @ r, r)
    return r, far


@quiet
class Pinv(Op):
    """The Moore-Penrose pseudo-inverse, from the SVD (or, ``hermitian``, the symmetric
    eigendecomposition), singular values at or below max(atol, rtol * s_max) dropped.
    Backward is PyTorch's pinv_backward (Golub & Pereyra 1973, the derivative of a
    pseudo-inverse of constant rank), written with products of A and A^+ alone."""
    __slots__ = ()
    array_backward = True
    save = (0,)
    save_output = True

    def forward(self, xp, a, atol=None, rtol=None, hermitian=False):
        m, n = a.shape[-2], a.shape[-1]
        if rtol is None:
            rtol = 0.0 if atol is not None and atol > 0 else \
                float(xp.finfo(a.dtype).eps) * max(m, n)
        atol = 0.0 if atol is None else atol
        if m == 0 or n == 0:
            return xp.zeros(a.shape[:-2] + (n, m), dtype=a.dtype)
        if hermitian:
            w, v = xp.linalg.eigh(a)
            ab = xp.abs(w)
            tol = xp.maximum(atol, rtol * ab.max(axis=-1, keepdims=True))
            inv_w = xp.where(ab > tol, 1 / xp.where(ab > tol, w, 1), 0)
            return (v * inv_w[..., None, :]) @ xp.swapaxes(v, -1, -2)
        u, s, vh = _svd_of(xp, a, 'linalg.pinv', full_matrices=False)
        tol = xp.maximum(atol, rtol * s[..., :1])
        inv_s = xp.where(s > tol, 1 / xp.where(s > tol, s, 1), 0)
        return (xp.swapaxes(vh, -1, -2) * inv_s[..., None, :]) @ xp.swapaxes(u, -1, -2)

    def backward(self, g):
        A, P = self.saved_tensors
        m, n = A.shape[-2], A.shape[-1]
        Pt, gt = _mT(P), _mT(g)
        if m <= n:
            K = _mm(gt, P)
            KPt = _mm(K, Pt)
            return -_mT(_mm(P, K)) + KPt - _mm(_mm(A, P), KPt) + \
                _mm(_mm(Pt, P), gt - _mm(K, A))
        K = _mm(P, gt)
        PtK = _mm(Pt, K)
        return -_mT(_mm(K, P)) + _mm(_mm(gt - _mm(A, K), P), Pt) + PtK - \
            _mm(_mm(PtK, P), A)


# ----------------------------------------------------------------------------- public: spectral

def linalg_svd(A, full_matrices=True, *, driver=None):
    """``(U, S, Vh)`` with A = U diag(S) Vh, S (*, k) descending, k = min(m, n); U (*, m, m)
    and Vh (*, n, n) when ``full_matrices``, else (*, m, k) and (*, k, n)."""
    _check_matrix('linalg.svd', A)
    return _svd_t(*SVD.apply(A, full_matrices=bool(full_matrices)))


def svdvals(A, *, driver=None):
    """The singular values (*, k), descending; gradient U diag(gS) Vh."""
    _check_matrix('linalg.svdvals', A)
    return SVD.apply(A, full_matrices=False)[1]


def svd(input, some=True, compute_uv=True):
    """``torch.svd`` (the old API): ``(U, S, V)`` with A = U diag(S) V^T, V not V^T;
    ``some=False``: full U and V; ``compute_uv=False``: U and V zero-filled (m, m), (n, n)."""
    _check_matrix('svd', input)
    if not compute_uv:
        S = SVD.apply(input, full_matrices=False)[1]
        m, n = input._data.shape[-2:]
        xp, batch = input._device.xp, input._data.shape[:-2]
        zeros = [wrap(xp.zeros(batch + (k, k), dtype=input._data.dtype), input._device)
                 for k in (m, n)]
        return _svd_top_t(zeros[0], S, zeros[1])
    U, S, Vh = SVD.apply(input, full_matrices=not some)
    return _svd_top_t(U, S, _mT(Vh))


def eigh(A, UPLO='L'):
    """``(eigenvalues, eigenvectors)`` of symmetric A (its ``UPLO`` triangle read):
    eigenvalues (*, n) ascending, eigenvectors (*, n, n) as columns."""
    _check_square('linalg.eigh', A)
    _check_uplo('linalg.eigh', UPLO)
    return _eigh_t(*Eigh.apply(A, UPLO=UPLO))


def eigvalsh(A, UPLO='L'):
    """The eigenvalues (*, n) of symmetric A, ascending; gradient V diag(gL) V^T."""
    _check_square('linalg.eigh', A)
    _check_uplo('linalg.eigvalsh', UPLO)
    return Eigh.apply(A, UPLO=UPLO)[0]


def _check_uplo(name, uplo):
    if uplo not in ('L', 'U', 'l', 'u'):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {uplo}")


_eig_t = namedtuple('linalg_eig', ['eigenvalues', 'eigenvectors'])


def _mH(x):
    """The conjugate transpose of the last two dims (the transpose of a real matrix)."""
    return conj_of(SwapLast.apply(x))


class Eig(Op):
    """A V = V diag(L) for a general square A (real or complex): L and V complex (complex64
    for float32/complex64 input, else complex128), each eigenvector of norm 1 (LAPACK
    geev's normalisation, as PyTorch's), in LAPACK's order.  Backward is PyTorch's
    linalg_eig_backward: with VhgV = V^H gV, it raises if Im diag(VhgV) is not ~0 (the loss
    then depends on the eigenvectors' phases, which are arbitrary), else
    gA = V^{-H} ((VhgV - V^H V Re diag(VhgV)) / E^* with diag gL) V^H,
    E_ij = L_j - L_i (1 on the diagonal); distinct eigenvalues are assumed (repeated ones
    give inf/NaN where the loss depends on the eigenvectors).  A real A gets the real part
    (the engine's cast).

    The formula reads this node's own outputs (kept as arrays; under ``create_graph`` as
    tensors of this node), not a recomputed decomposition: the phase check is only right
    on the whole gradient that reaches V, which a second node would split in two."""
    __slots__ = ('w', 'v')
    array_backward = True
    complex_grad = True

    def forward(self, xp, a):
        self.w, self.v = _geev(xp, a, 'eig')
        return self.w, self.v

    def backward(self, gL, gV):
        L, V = self.w, self.v
        g = gL if gL is not None else gV
        if isinstance(g, Tensor):       # create_graph: the outputs, differentiable again
            L, V = _make(L, g._device, True, self, 0), _make(V, g._device, True, self, 1)
        return _eig_backward(gL, gV, L, V)


class Eigvals(Op):
    """The eigenvalues alone (no gradient: ``eigvals`` of a tensor that requires grad is
    ``eig``'s first output, as in PyTorch)."""
    __slots__ = ()
    differentiable = False

    def forward(self, xp, a):
        return _geev(xp, a, 'eigvals')


def _geev(xp, a, name):
    """LAPACK geev through the array module (NumPy; CuPy 14+ has ``linalg.eig``/``eigvals``
    on cuSOLVER's Xgeev), always complex, as PyTorch returns."""
    fn = getattr(xp.linalg, name, None)
    if fn is None:
        raise NotImplementedError(f'linalg.{name}: the array module {xp.__name__} has no '
                                  f'linalg.{name} (CuPy has it from version 14)')
    ctype = xp.complex128 if a.dtype in (xp.float64, xp.complex128) else xp.complex64
    if name == 'eig':
        w, v = fn(a)
        return w.astype(ctype, copy=False), v.astype(ctype, copy=False)
    return fn(a).astype(ctype, copy=False)


def _eig_backward(gL, gV, L, V):
    Vh = _mH(V)
    if gV is None:
        if gL is None:
            return None
        return Solve.apply(Vh, _unsq(gL, -1) * Vh)
    VhgV = _mm(Vh, gV)
    diag = _diagonal(VhgV)
    d = array_of(diag)
    if bool((abs(d.imag) > 1e-2).any()):     # PyTorch's allclose(imag, 0, 1e-2, 1e-2)
        raise RuntimeError('linalg_eig_backward: The eigenvectors in the complex case are '
                           'specified up to multiplication by e^{i phi}. The specified loss '
                           'function depends on this quantity, so it is ill-defined.')
    inner = VhgV - _mm(Vh, V * _unsq(Real.apply(diag), -2))
    Lc = conj_of(L)
    E = _unsq(Lc, -2) - _unsq(Lc, -1) + _eye(L.shape[-1], L)
    inner = inner / E
    if gL is not None:
        inner = inner - _diag_embed(_diagonal(inner)) + _diag_embed(gL)
    return Solve.apply(Vh, _mm(inner, Vh))


def _check_eig_input(name, A):
    if not isinstance(A, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f'{type(A).__name__}')
    a = A._data
    if a.ndim < 2:
        raise RuntimeError(f'{name}: The input tensor A must have at least 2 dimensions.')
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f'{name}: A must be batches of square matrices, but they are '
                           f'{a.shape[-2]} by {a.shape[-1]} matrices')
    if a.dtype.kind not in 'fc':
        raise RuntimeError(f'Unknown Complex ScalarType for {scalar_name(a)}')
    if a.dtype.itemsize == 2:
        raise NotImplementedError(f'"linalg_eig_out_cpu" not implemented for \'{scalar_name(a)}\'')


def eig(A):
    """``(eigenvalues, eigenvectors)`` of a general square A (*, n, n), real or complex:
    eigenvalues (*, n) and eigenvectors (*, n, n) as columns of norm 1, complex, in
    LAPACK's order.  Gradients as PyTorch's (see ``Eig``); a loss that depends on the
    eigenvectors' phases makes backward raise."""
    _check_eig_input('linalg.eig', A)
    a = A._data
    if not bool(A._device.xp.isfinite(a).all()):
        raise RuntimeError('torch.linalg.eig: input tensor should not contain infs or NaNs.')
    return _eig_t(*Eig.apply(A))


def eigvals(A):
    """The eigenvalues (*, n) of a general square A, complex, in ``eig``'s order; with a
    gradient (``eig``'s) when A requires one."""
    _check_eig_input('linalg.eigvals', A)
    if needs_grad(A):
        return eig(A).eigenvalues
    return Eigvals.apply(A)


def _check_matrix(name, A, arg='A'):
    """At least 2-D and floating (any m x n)."""
    _tensor_arg(name, A, arg)
    if A._data.ndim < 2:
        raise RuntimeError(f'{name}: The input tensor {arg} must have at least 2 dimensions.')
    _check_float(name, A)


def linalg_qr(A, mode='reduced'):
    """``(Q, R)`` with A = Q R: ``'reduced'`` Q (*, m, k), R (*, k, n); ``'complete'`` Q
    (*, m, m), R (*, m, n); ``'r'`` R alone (Q empty)."""
    _check_matrix('linalg.qr', A)
    if mode not in ('reduced', 'complete', 'r'):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    m, n = A._data.shape[-2:]
    if m < n and mode != 'r':
        # a wide A = [X | Y]: X = Q U is square, and R = [U | Q^T Y] (how PyTorch's backward
        # treats this case, and the same values)
        Q, U = QR.apply(A[..., :m], mode='reduced')
        return _qr_t(Q, Cat.apply(U, _mm(_mT(Q), A[..., m:]), dim=-1))
    return _qr_t(*QR.apply(A, mode=mode))


def qr(input, some=True):
    """``torch.qr`` (the old API): ``linalg.qr`` with mode 'reduced' (``some``) or
    'complete'."""
    Q, R = linalg_qr(input, 'reduced' if some else 'complete')
    return _qr_top_t(Q, R)


def linalg_matrix_exp(A):
    """exp(A) = sum_k A^k / k! for (*, n, n) A."""
    _check_square('linalg.matrix_exp', A)
    return MatrixExp.apply(A)


def matrix_exp(input):
    """``torch.matrix_exp``: ``linalg.matrix_exp``."""
    return linalg_matrix_exp(input)


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    """The pseudo-inverse (*, n, m) of A (*, m, n): singular values (absolute eigenvalues
    when ``hermitian``) at or below max(atol, rtol * largest) count as zero; rtol defaults
    to eps * max(m, n) when atol is not given (or is 0), else to 0."""
    _tensor_arg('linalg.pinv', A)
    if A._data.ndim < 2 or A._data.dtype.kind != 'f':
        raise RuntimeError(f'linalg.pinv({scalar_name(A._data)}{{{list(A._data.shape)}}}): '
                           'expected a tensor with 2 or more dimensions of float, double, cfloat '
                           'or cdouble types')
    if hermitian:
        _check_square('linalg.pinv', A)
    return Pinv.apply(A, atol=_number(atol), rtol=_number(rtol), hermitian=bool(hermitian))


def pinverse(input, rcond=1e-15):
    """``torch.pinverse``: ``linalg.pinv`` with rtol ``rcond``."""
    return pinv(input, rtol=rcond)


def _number(x):
    return x.item() if isinstance(x, Tensor) else x


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False):
    """The number (int64, shape (*)) of singular values above max(atol, rtol * largest)."""
    _check_matrix('linalg.matrix_rank', A)
    a = A._data
    xp = A._device.xp
    m, n = a.shape[-2:]
    atol, rtol = _number(atol), _number(rtol)
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else float(xp.finfo(a.dtype).eps) * max(m, n)
    atol = 0.0 if atol is None else atol
    if m == 0 or n == 0:
        return wrap(xp.zeros(a.shape[:-2], dtype='int64'), A._device)
    s = xp.abs(xp.linalg.eigvalsh(a)) if hermitian else \
        _svd_of(xp, a, 'linalg.matrix_rank', compute_uv=False)
    tol = xp.maximum(atol, rtol * s.max(axis=-1, keepdims=True))
    return wrap(xp.asarray((s > tol).sum(axis=-1), dtype='int64'), A._device)


def lstsq(A, B, rcond=None, *, driver=None):
    """``(solution, residuals, rank, singular_values)`` of min ||A X - B|| for A (*, m, n),
    B (*, m, k) (or (*, m)): the solution is A^+ B (differentiable through ``pinv``, as
    PyTorch's gradient is); residuals ||A X - B||^2 per column for m > n, a full-rank
    batch and drivers gelsd/gelss/gels; rank (not for gels); singular values for
    gelsd/gelss; each empty otherwise (PyTorch's CPU default driver is gelsy)."""
    _check_matrix('linalg.lstsq', A)
    _check_same_device('linalg.lstsq', A, B)
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same "
                           f"dtype, but got input's dtype {scalar_name(A._data)} and other's "
                           f"dtype {scalar_name(B._data)}")
    driver = driver or 'gelsy'
    if driver not in ('gels', 'gelsy', 'gelsd', 'gelss'):
        raise RuntimeError(f'torch.linalg.lstsq: parameter `driver` should be one of (gels, '
                           f'gelsy, gelsd, gelss), but got {driver}')
    a, b = A._data, B._data
    vector = b.ndim == a.ndim - 1
    if vector:
        B = B.reshape(b.shape + (1,))
    if B._data.shape[-2] != a.shape[-2]:
        raise RuntimeError(f'torch.linalg.lstsq: input.size(-2) should match other.size(-2). '
                           f'Got {a.shape[-2]} and {B._data.shape[-2]}')
    m, n = a.shape[-2:]
    xp, dev = A._device.xp, A._device
    eps = float(xp.finfo(a.dtype).eps)
    rcond = eps * max(m, n) if rcond is None else rcond
    X = _mm(Pinv.apply(A, atol=None, rtol=rcond, hermitian=False), B)
    s = _svd_of(xp, a, 'linalg.lstsq', compute_uv=False) if m and n else \
        xp.zeros(a.shape[:-2] + (0,), a.dtype)
    full = s.shape[-1] == 0 or bool((s > rcond * s[..., :1]).sum(axis=-1).min() == min(m, n))
    empty = wrap(xp.zeros((0,), dtype=a.dtype), dev)
    residuals = empty
    if m > n and full and driver != 'gelsy':
        residuals = Sum.apply((_mm(A, X) - B) ** 2, dim=-2)
    rank = wrap(xp.zeros((0,), dtype='int64'), dev) if driver == 'gels' else \
        wrap(xp.asarray((s > rcond * s[..., :1]).sum(axis=-1), dtype='int64'), dev)
    sv = wrap(s, dev) if driver in ('gelsd', 'gelss') else empty
    if vector:
        X = X.reshape(X.shape[:-1])
    return _lstsq_t(X, residuals, rank, sv)


FUNCTIONS = ['det', 'logdet', 'slogdet', 'inverse', 'cholesky', 'svd', 'qr', 'pinverse',
             'matrix_exp']
METHODS = ['det', 'logdet', 'slogdet', 'inverse', 'cholesky', 'svd', 'qr', 'pinverse',
           'matrix_exp']
INPLACE = {}
OPERATORS = {}
