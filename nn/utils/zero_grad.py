"""Resetting the gradients of a set of tensors: the one body of ``Module.zero_grad`` and
``Optimizer.zero_grad``."""

__all__ = ['zero_grad_']


def zero_grad_(tensors, set_to_none=True):
    """Drop the ``.grad`` of each tensor (``set_to_none``) or zero it in place, first cutting
    it out of any graph it belongs to (as PyTorch does)."""
    for t in tensors:
        g = t.grad
        if g is None:
            continue
        if set_to_none:
            t.grad = None
        else:
            if g.grad_fn is not None:
                g.detach_()
            else:
                g.requires_grad_(False)
            g.zero_()
