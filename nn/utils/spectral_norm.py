"""Spectral normalization through a forward pre-hook (PyTorch's
``torch.nn.utils.spectral_norm``): ``weight = weight_orig / sigma``, ``sigma`` the largest
singular value of ``weight_orig`` (as a matrix, ``dim`` first) estimated by power iteration
(Miyato et al., 2018, Algorithm 1) from the buffers ``weight_u`` and ``weight_v``.

In training mode each forward runs ``n_power_iterations`` steps, updating ``u`` and ``v``
in place; in eval mode it uses them as they are.
``nn.utils.parametrizations.spectral_norm`` is the newer form of the same."""
import autograd
from autograd.utils.hooks import RemovableHandle

from .. import functional as F
from .. import modules
from ..parameter import Parameter

__all__ = ['SpectralNorm', 'spectral_norm', 'remove_spectral_norm']


# the format of the saved state (PyTorch's class attribute of SpectralNorm), kept in the metadata
_FORMAT_VERSION = 1


class SpectralNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_orig``."""
    _version = _FORMAT_VERSION

    def __init__(self, name='weight', n_power_iterations=1, dim=0, eps=1e-12):
        self.name = name
        self.dim = dim
        if n_power_iterations <= 0:
            raise ValueError('Expected n_power_iterations to be positive, but got '
                             f'n_power_iterations={n_power_iterations}')
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight):
        """``weight`` as a matrix of ``weight.shape[dim]`` rows."""
        weight_mat = weight
        if self.dim != 0:
            weight_mat = weight_mat.permute(
                self.dim, *[d for d in range(weight_mat.dim()) if d != self.dim])
        return weight_mat.reshape(weight_mat.size(0), -1)

    def compute_weight(self, module, do_power_iteration):
        """``<name>_orig / sigma``, with ``sigma = u . (W v)``; the power iteration updates
        ``u``, ``v`` in place (no gradient flows through them)."""
        weight = getattr(module, self.name + '_orig')
        u = getattr(module, self.name + '_u')
        v = getattr(module, self.name + '_v')
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with autograd.no_grad():
                for _ in range(self.n_power_iterations):
                    v.copy_(F.normalize(autograd.mv(weight_mat.t(), u), dim=0, eps=self.eps))
                    u.copy_(F.normalize(autograd.mv(weight_mat, v), dim=0, eps=self.eps))
                # clones, so that a later in-place update does not touch what backward saved
                u = u.clone()
                v = v.clone()
        sigma = autograd.dot(u, autograd.mv(weight_mat, v))
        return weight / sigma

    def remove(self, module):
        with autograd.no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + '_u')
        delattr(module, self.name + '_v')
        delattr(module, self.name + '_orig')
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module,
                                                       do_power_iteration=module.training))

    @staticmethod
    def apply(module, name, n_power_iterations, dim, eps):
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f'Cannot register two spectral_norm hooks on the same '
                                   f'parameter {name}')
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters[name]
        if weight is None:
            raise ValueError(f'`SpectralNorm` cannot be applied as parameter `{name}` is None')
        with autograd.no_grad():
            h, w = fn.reshape_weight_to_matrix(weight).shape
            u = F.normalize(autograd.empty(h, dtype=weight.dtype, device=weight.device)
                            .normal_(0, 1), dim=0, eps=fn.eps)
            v = F.normalize(autograd.empty(w, dtype=weight.dtype, device=weight.device)
                            .normal_(0, 1), dim=0, eps=fn.eps)
        delattr(module, fn.name)
        module.register_parameter(fn.name + '_orig', weight)
        # a plain attribute until the first forward computes it (PyTorch's weight.data)
        setattr(module, fn.name, weight.data)
        module.register_buffer(fn.name + '_u', u)
        module.register_buffer(fn.name + '_v', v)
        module.register_forward_pre_hook(fn)
        RemovableHandle(module._state_dict_hooks, SpectralNormStateDictHook(fn))
        module._register_load_state_dict_pre_hook(SpectralNormLoadStateDictPreHook(fn))
        return fn


class SpectralNormLoadStateDictPreHook:
    """Checks a loaded state dict for what spectral norm needs.  PyTorch also converts
    checkpoints of its format before version 1 (``weight`` saved without ``weight_v``),
    which needs a pseudo-inverse; this library does not, and says so."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, state_dict, prefix, local_metadata, strict, missing_keys,
                 unexpected_keys, error_msgs):
        fn = self.fn
        version = local_metadata.get('spectral_norm', {}).get(fn.name + '.version', None)
        if version is None or version < 1:
            weight_key = prefix + fn.name
            if version is None and all(weight_key + s in state_dict
                                       for s in ('_orig', '_u', '_v')) and \
                    weight_key not in state_dict:
                return
            error_msgs.append(f'spectral_norm: the state dict of {weight_key} is in the format '
                              'before version 1, which this library cannot convert')


class SpectralNormStateDictHook:
    """Records the spectral-norm format version in the state dict's metadata."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, module, state_dict, prefix, local_metadata):
        if 'spectral_norm' not in local_metadata:
            local_metadata['spectral_norm'] = {}
        key = self.fn.name + '.version'
        if key in local_metadata['spectral_norm']:
            raise RuntimeError(f"Unexpected key in metadata['spectral_norm']: {key}")
        local_metadata['spectral_norm'][key] = _FORMAT_VERSION


def _default_dim(module, dim):
    """0, or 1 for transposed convolutions (whose weight is ``(in, out, ...)``)."""
    if dim is not None:
        return dim
    transposed = tuple(getattr(modules, n) for n in ('ConvTranspose1d', 'ConvTranspose2d',
                                                      'ConvTranspose3d') if hasattr(modules, n))
    return 1 if isinstance(module, transposed) else 0


def spectral_norm(module, name='weight', n_power_iterations=1, eps=1e-12, dim=None):
    """Divide ``module.<name>`` by its spectral norm before every forward (the parameter
    becomes ``<name>_orig``; buffers ``<name>_u``, ``<name>_v``).  Returns ``module``."""
    SpectralNorm.apply(module, name, n_power_iterations, _default_dim(module, dim), eps)
    return module


def remove_spectral_norm(module, name='weight'):
    """Make ``module.<name>`` a plain parameter again (its current normalized value)."""
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            break
    else:
        raise ValueError(f"spectral_norm of '{name}' not found in {module}")
    for hooks, cls in ((module._state_dict_hooks, SpectralNormStateDictHook),
                       (module._load_state_dict_pre_hooks, SpectralNormLoadStateDictPreHook)):
        for k, hook in hooks.items():
            if isinstance(hook, cls) and hook.fn.name == name:
                del hooks[k]
                break
    return module
