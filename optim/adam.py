"""Adam (Kingma & Ba, 2015) and AdamW (Loshchilov & Hutter, 2019)."""
from autograd import Tensor, zeros_like
from autograd.extend import array_of, increment_version, xp_of

from .optimizer import (Optimizer, _check_betas, _check_flags, _check_lr, _check_nonnegative,
                        _lerp_, _next_step, _start_state, _to_scalar)

__all__ = ['Adam', 'AdamW']


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam``.

    ``m_t = beta1 m + (1 - beta1) g``, ``v_t = beta2 v + (1 - beta2) g^2`` (``v`` replaced
    by its running maximum with ``amsgrad``), then
    ``theta -= lr / (1 - beta1^t) * m_t / (sqrt(v_t) / sqrt(1 - beta2^t) + eps)``.
    Weight decay adds ``weight_decay * theta`` to ``g``, or with
    ``decoupled_weight_decay`` scales ``theta`` by ``1 - lr * weight_decay`` (AdamW).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        _check_lr(lr)
        _check_nonnegative(eps=eps)
        _check_betas(betas)
        _check_nonnegative(weight_decay=weight_decay)
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError('betas must be either both floats or both Tensors')
        _check_flags(differentiable, fused, foreach)
        defaults = dict(lr=lr, betas=tuple(_to_scalar(b) for b in betas), eps=eps,
                        weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable,
                        fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _init_state(self, p, state, group):
        _start_state(state, p, 'exp_avg', 'exp_avg_sq')
        if group['amsgrad']:
            state['max_exp_avg_sq'] = zeros_like(p)

    def _update(self, p, grad, state, group):
        lr = _to_scalar(group['lr'])
        beta1, beta2 = group['betas']
        weight_decay = group['weight_decay']
        xp, d, g = xp_of(p), array_of(p), array_of(grad)
        if group['maximize']:
            g = -g
        step = _next_step(state)
        if weight_decay != 0:
            if group['decoupled_weight_decay']:
                d *= 1 - lr * weight_decay
            else:
                g = g + weight_decay * d
        exp_avg, exp_avg_sq = state['exp_avg'], state['exp_avg_sq']
        m, v = array_of(exp_avg), array_of(exp_avg_sq)
        # two temporaries in all (the scratch of lerp, reused, and denom), as PyTorch's
        # fused lerp_/addcmul_/addcdiv_ make none but sqrt's and its quotient
        scratch = _lerp_(xp, m, g, 1 - beta1)
        if scratch.__class__ is not m.__class__ or scratch.shape != m.shape or \
                scratch.dtype != m.dtype:   # (NumPy makes a scalar of 0-d arrays' difference)
            scratch = xp.empty_like(m)
        v *= beta2
        xp.multiply(g, 1 - beta2, out=scratch)  # addcmul's order: (value * g) * g
        scratch *= g
        v += scratch
        step_size = lr / (1 - beta1 ** step)
        bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
        second = v
        if group['amsgrad']:
            second = array_of(state['max_exp_avg_sq'])
            xp.maximum(second, v, out=second)
            increment_version(state['max_exp_avg_sq'])
        denom = xp.sqrt(second)
        denom /= bias_correction2_sqrt
        denom += group['eps']
        xp.multiply(m, -step_size, out=scratch)  # addcdiv's order: (value * m) / denom
        scratch /= denom
        d += scratch
        increment_version(p, exp_avg, exp_avg_sq)


class AdamW(Adam):
    """Adam with decoupled weight decay, as ``torch.optim.AdamW`` (default 1e-2)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        for group in self.param_groups:       # AdamW always decays decoupled
            group['decoupled_weight_decay'] = True
