"""Parametrizations of common reparametrizations (PyTorch's
``torch.nn.utils.parametrizations``), built on ``nn.utils.parametrize``:
``weight_norm`` (``original0`` = g, ``original1`` = v) and ``spectral_norm`` (power
iteration on the buffers ``_u``, ``_v`` of the parametrization module)."""
import autograd
from autograd import Tensor

from .. import functional as F
from ..modules.module import Module
from . import parametrize
from .spectral_norm import _default_dim
from .weight_norm import _weight_norm, norm_except_dim

__all__ = ['weight_norm', 'spectral_norm']


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
