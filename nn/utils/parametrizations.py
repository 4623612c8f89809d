"""Parametrizations of common reparametrizations (PyTorch's
``torch.nn.utils.parametrizations``), built on ``nn.utils.parametrize``:
``orthogonal`` (matrix exponential, Cayley map or Householder product of the original, with
PyTorch's dynamic trivialization: the buffer ``base``), ``weight_norm`` (``original0`` = g,
``original1`` = v) and ``spectral_norm`` (power iteration on the buffers ``_u``, ``_v`` of
the parametrization module)."""
from enum import Enum, auto

import autograd
from autograd import Tensor
from autograd.extend import array_of, wrap, xp_of

from .. import functional as F
from ..modules.module import Module
from . import parametrize
from .spectral_norm import _default_dim
from .weight_norm import _weight_norm, norm_except_dim

__all__ = ['orthogonal', 'weight_norm', 'spectral_norm']


def _eye_like(Q, k):
    """The identity (k, k) in ``Q``'s dtype, on its device."""
    return autograd.eye(k, dtype=Q.dtype, device=Q.device)


def _is_orthogonal(Q):
    """Whether the tall ``Q`` (..., n, k) has orthonormal columns, to 10 n eps (PyTorch's
    tolerance)."""
    n, k = Q.shape[-2], Q.shape[-1]
    eps = 10.0 * n * float(xp_of(Q).finfo(array_of(Q).dtype).eps)
    return autograd.allclose(Q.mH @ Q, _eye_like(Q, k), atol=eps)


def _make_orthogonal(A):
    """The Q of A = QR for a tall A, with the signs that make diag(R) non-negative (the
    Q of PyTorch's geqrf + householder_product, normalised the same way)."""
    Q, R = autograd.linalg.qr(A)
    signs = R.diagonal(dim1=-2, dim2=-1).sgn()
    return Q * signs.unsqueeze(-2)


def _geqrf(A):
    """LAPACK geqrf of a tall A (..., n, k), as ``torch.geqrf``: R on and above the
    diagonal, the Householder vectors below it, and their scalars ``tau`` (..., k).  No
    gradient (used only under ``no_grad``)."""
    xp = xp_of(A)
    h, tau = xp.linalg.qr(array_of(A), mode='raw')      # h is LAPACK's column-major result
    return (wrap(xp.ascontiguousarray(xp.swapaxes(h, -1, -2)), A.device),
            wrap(tau, A.device))


class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


class _Orthogonal(Module):
    """X (..., n, k) -> a matrix with orthonormal columns (n >= k) or rows (n < k):
    ``matrix_exp``/``cayley`` of the skew-symmetric A = L - L^T (L the lower triangle of X,
    embedded in an n x n matrix), first k columns; or ``householder``: the product of the
    reflectors below X's diagonal, column signs from X's diagonal.  With trivialization the
    result is ``base @ Q``, ``base`` a buffer set by ``right_inverse``."""

    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer('base', None)

    def forward(self, X):
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            X = X.tril()
            if n != k:          # embed into a square matrix
                zeros = autograd.zeros(n, n - k, dtype=X.dtype, device=X.device)
                X = autograd.cat([X, zeros.expand(*X.shape[:-2], -1, -1)], dim=-1)
            A = X - X.mH
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = autograd.matrix_exp(A)
            else:               # the Cayley retraction (I + A/2)(I - A/2)^{-1}
                Id = _eye_like(A, n)
                Q = autograd.linalg.solve(autograd.add(Id, A, alpha=-0.5),
                                          autograd.add(Id, A, alpha=0.5))
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = autograd.linalg.householder_product(A, tau)
            # X's diagonal holds 1s and -1s; not differentiated (hence the cast)
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if hasattr(self, 'base'):
            Q = self.base @ Q
        if transposed:
            Q = Q.mT
        return Q

    @autograd.no_grad()
    def right_inverse(self, Q):
        if Q.shape != self.shape:
            raise ValueError(f'Expected a matrix or batch of matrices of shape {self.shape}. '
                             f'Got a tensor of shape {Q.shape}.')
        Q_init = Q
        n, k = Q.shape[-2], Q.shape[-1]
        transpose = n < k
        if transpose:
            Q = Q.mT
            n, k = k, n
        if not hasattr(self, 'base'):
            if self.orthogonal_map in (_OrthMaps.cayley, _OrthMaps.matrix_exp):
                raise NotImplementedError(
                    'It is not possible to assign to the matrix exponential or the Cayley '
                    'parametrizations when use_trivialization=False.')
            # QR with diag(R) > 0: the reflectors, and R's signs on the diagonal
            A, tau = _geqrf(Q)
            diag = A.diagonal(dim1=-2, dim2=-1)
            diag.sign_()
            # LAPACK's tau is exactly 0 where it used no reflection
            diag.copy_(autograd.where(tau == 0.0, -diag, diag))
            return A.mT if transpose else A
        if n == k:
            Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
        else:                   # complete Q to an n x n orthogonal matrix
            N = autograd.randn(*(tuple(Q.shape[:-2]) + (n, n - k)), dtype=Q.dtype,
                               device=Q.device)
            Q = _make_orthogonal(autograd.cat([Q, N], dim=-1))
        self.base = Q
        # -Id, so that householder(zeros) is eye(m, n): the diagonal carries the signs
        neg_Id = autograd.zeros_like(Q_init)
        neg_Id.diagonal(dim1=-2, dim2=-1).fill_(-1.0)
        return neg_Id


def orthogonal(module, name='weight', orthogonal_map=None, *, use_trivialization=True):
    """Parametrize ``module.<name>`` (a matrix, or a batch (..., m, n)) to have orthonormal
    columns (m >= n) or rows (m < n).  ``orthogonal_map``: ``'matrix_exp'``, ``'cayley'``
    or ``'householder'``; default ``'matrix_exp'`` for a square matrix, ``'householder'``
    otherwise.  ``use_trivialization`` (default) keeps the buffer
    ``parametrizations.<name>[0].base`` (the dynamic trivialization of Lezcano-Casado
    2019); the initial value is the tensor itself if orthogonal, else the Q of its QR
    decomposition.  Returns ``module``."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError('Expected a matrix or batch of matrices. '
                         f'Got a tensor of {weight.ndim} dimensions.')
    if orthogonal_map is None:
        orthogonal_map = ('matrix_exp' if weight.shape[-2] == weight.shape[-1]
                          or weight.is_complex() else 'householder')
    orth_enum = getattr(_OrthMaps, orthogonal_map, None) \
        if isinstance(orthogonal_map, str) else None
    if orth_enum is None:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    if weight.is_complex() and orth_enum == _OrthMaps.householder:
        raise ValueError('The householder parametrization does not support complex tensors.')
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module


class _WeightNorm(Module):
    """``(g, v) -> v * g / ||v||`` (norm over every dim but ``dim``; ``None``: all)."""

    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module, name='weight', dim=0):
    """Reparametrize ``module.<name>`` as ``g * v / ||v||``: ``g`` is
    ``parametrizations.<name>.original0``, ``v`` is ``...original1``.  A state dict of the
    old ``nn.utils.weight_norm`` (``<name>_g``, ``<name>_v``) still loads.  Returns
    ``module``."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def _weight_norm_compat_hook(state_dict, prefix, local_metadata, strict, missing_keys,
                                 unexpected_keys, error_msgs):
        g_key, v_key = f'{prefix}{name}_g', f'{prefix}{name}_v'
        if g_key in state_dict and v_key in state_dict:
            state_dict[f'{prefix}parametrizations.{name}.original0'] = state_dict.pop(g_key)
            state_dict[f'{prefix}parametrizations.{name}.original1'] = state_dict.pop(v_key)

    module._register_load_state_dict_pre_hook(_weight_norm_compat_hook)
    return module


class _SpectralNorm(Module):
    """``W -> W / sigma(W)``; ``sigma`` by power iteration on the buffers ``_u``, ``_v``
    (one 1-D tensor: ``W / ||W||``)."""

    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError('Dimension out of range (expected to be in range of '
                             f'[-{ndim}, {ndim - 1}] but got {dim})')
        if n_power_iterations <= 0:
            raise ValueError('Expected n_power_iterations to be positive, but got '
                             f'n_power_iterations={n_power_iterations}')
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            u = autograd.empty(h, dtype=weight.dtype, device=weight.device).normal_(0, 1)
            v = autograd.empty(w, dtype=weight.dtype, device=weight.device).normal_(0, 1)
            self.register_buffer('_u', F.normalize(u.detach(), dim=0, eps=self.eps))
            self.register_buffer('_v', F.normalize(v.detach(), dim=0, eps=self.eps))
            # start from a good estimate, as PyTorch does
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight):
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.dim()) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat, n_power_iterations):
        """``n`` steps ``u <- W v / ||W v||``, ``v <- W^T u / ||W^T u||``, in place."""
        with autograd.no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(F.normalize(autograd.mv(weight_mat, self._v), dim=0, eps=self.eps))
                self._v.copy_(F.normalize(autograd.mv(weight_mat.t(), self._u), dim=0,
                                          eps=self.eps))

    def forward(self, weight):
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        # clones: the next power iteration must not change what backward saved
        u = self._u.clone()
        v = self._v.clone()
        sigma = autograd.dot(u, autograd.mv(weight_mat, v))
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name='weight', n_power_iterations=1, eps=1e-12, dim=None):
    """Parametrize ``module.<name>`` as itself divided by its spectral norm, estimated by
    ``n_power_iterations`` steps of power iteration per forward in training mode (none in
    eval mode).  ``dim`` (default 0, 1 for transposed convolutions) is the output
    dimension.  Returns ``module``."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, _default_dim(module, dim), eps))
    return module
