"""Weight normalization through a forward pre-hook (PyTorch's deprecated
``torch.nn.utils.weight_norm``): ``weight = g * v / ||v||``, with ``weight_g`` and
``weight_v`` the parameters (Salimans & Kingma, 2016, eq. 2).
``nn.utils.parametrizations.weight_norm`` is the newer form of the same."""
import warnings

from ..parameter import Parameter

__all__ = ['WeightNorm', 'weight_norm', 'remove_weight_norm', 'norm_except_dim']


def norm_except_dim(v, pow=2, dim=0):
    """The ``pow``-norm of ``v`` over every dim but ``dim`` (kept, the others of size 1);
    ``dim=-1`` means the norm of the whole tensor (0-d), as PyTorch's
    ``torch.norm_except_dim``."""
    if dim == -1:
        return v.norm(pow)
    keep = dim % v.dim()
    dims = [d for d in range(v.dim()) if d != keep]
    if not dims:                      # a 1-D v: each entry is its own slice
        return v.abs() if pow != 0 else (v != 0).to(dtype=v.dtype)
    return v.norm(pow, dim=dims, keepdim=True)


def _weight_norm(v, g, dim=0):
    """``v * (g / ||v||)``, the norm over every dim but ``dim`` (PyTorch's
    ``torch._weight_norm``)."""
    return v * (g / norm_except_dim(v, 2, dim))


class WeightNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_g`` and
    ``<name>_v``."""

    def __init__(self, name, dim):
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module):
        return _weight_norm(getattr(module, self.name + '_v'), getattr(module, self.name + '_g'),
                            self.dim)

    @staticmethod
    def apply(module, name, dim):
        warnings.warn('`nn.utils.weight_norm` is deprecated in favor of '
                      '`nn.utils.parametrizations.weight_norm`.', FutureWarning, stacklevel=3)
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f'Cannot register two weight_norm hooks on the same '
                                   f'parameter {name}')
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        del module._parameters[name]
        module.register_parameter(name + '_g', Parameter(norm_except_dim(weight, 2, fn.dim).data))
        module.register_parameter(name + '_v', Parameter(weight.data))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module):
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + '_g']
        del module._parameters[self.name + '_v']
        setattr(module, self.name, Parameter(weight.data))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name='weight', dim=0):
    """Reparametrize ``module.<name>`` as ``<name>_g * <name>_v / ||<name>_v||`` (norm over
    every dim but ``dim``; ``dim=None``: the whole tensor).  Returns ``module``."""
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name='weight'):
    """Make ``module.<name>`` a plain parameter again (its current value)."""
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")
