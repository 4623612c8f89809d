"""Resilient backpropagation (Riedmiller & Braun, 1993)."""
from autograd import full_like, zeros_like

from .optimizer import Optimizer, _check_flags, _check_lr, _next_step, _step_tensor, _to_scalar

__all__ = ['Rprop']


class Rprop(Optimizer):
    """Rprop, as ``torch.optim.Rprop``.

    Each element keeps its own step size: multiplied by ``etaplus`` when the gradient
    kept its sign, by ``etaminus`` when it flipped (and that gradient is then treated as
    zero), clamped to ``step_sizes``; ``theta -= sign(g) * step_size``.
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f'Invalid eta values: {etas[0]}, {etas[1]}')
        _check_flags(differentiable, None, foreach)
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _init_state(self, p, state, group):
        state['step'] = _step_tensor()
        state['prev'] = zeros_like(p)
        state['step_size'] = full_like(p, _to_scalar(group['lr']))

    def _update(self, p, grad, state, group):
        etaminus, etaplus = group['etas']
        step_size_min, step_size_max = group['step_sizes']
        prev, step_size = state['prev'], state['step_size']
        if group['maximize']:
            grad = -grad
        _next_step(state)
        sign = grad.mul(prev).sign()
        # masked_fill_, as PyTorch: a boolean-mask assignment would size its mask on the host
        sign.masked_fill_(sign.gt(0), etaplus)
        sign.masked_fill_(sign.lt(0), etaminus)
        sign.masked_fill_(sign.eq(0), 1)
        # (Tensor has no clamp_ yet: clamp out of place and copy back)
        step_size.copy_(step_size.mul_(sign).clamp(step_size_min, step_size_max))
        grad = grad.masked_fill(sign.eq(etaminus), 0)   # after a sign flip, skip this step
        p.sub_(grad.sign() * step_size)
        prev.copy_(grad)
