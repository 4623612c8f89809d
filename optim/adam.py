"""Adam (Kingma & Ba, 2015) and AdamW (Loshchilov & Hutter, 2019)."""
from autograd import Tensor, zeros_like

from .optimizer import (Optimizer, _bump, _check_flags, _check_lr, _lerp_, _next_step,
                        _step_tensor, _to_scalar)

__all__ = ['Adam', 'AdamW']


def _check_betas(betas):
    for i, b in enumerate(betas):
        if not 0.0 <= b < 1.0:
            raise ValueError(f'Invalid beta parameter at index {i}: {b}')


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
        if not 0.0 <= eps:
            raise ValueError(f'Invalid epsilon value: {eps}')
        _check_betas(betas)
        if not 0.0 <= weight_decay:
            raise ValueError(f'Invalid weight_decay value: {weight_decay}')
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
        state['step'] = _step_tensor()
        state['exp_avg'] = zeros_like(p)
        state['exp_avg_sq'] = zeros_like(p)
        if group['amsgrad']:
            state['max_exp_avg_sq'] = zeros_like(p)

    def _update(self, p, grad, state, group):
        lr = _to_scalar(group['lr'])
        beta1, beta2 = group['betas']
        weight_decay = group['weight_decay']
        xp, d, g = p._device.xp, p._data, grad._data
        if group['maximize']:
            g = -g
        step = _next_step(state)
        if weight_decay != 0:
            if group['decoupled_weight_decay']:
                d *= 1 - lr * weight_decay
            else:
                g = g + weight_decay * d
        exp_avg, exp_avg_sq = state['exp_avg'], state['exp_avg_sq']
        m, v = exp_avg._data, exp_avg_sq._data
        _lerp_(xp, m, g, 1 - beta1)
        v *= beta2
        v += g * (1 - beta2) * g                # addcmul's order: (value * g) * g
        step_size = lr / (1 - beta1 ** step)
        bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
        second = v
        if group['amsgrad']:
            second = state['max_exp_avg_sq']._data
            xp.maximum(second, v, out=second)
            _bump(state['max_exp_avg_sq'])
        denom = xp.sqrt(second)
        denom /= bias_correction2_sqrt
        denom += group['eps']
        t = m * -step_size                       # addcdiv's order: (value * m) / denom
        t /= denom
        d += t
        _bump(p, exp_avg, exp_avg_sq)


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
