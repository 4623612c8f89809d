"""Differentiable collectives (``torch.distributed.nn.functional``): they return new tensors
and backward sends the gradients back over the group."""
from ...function import Function
from .. import ReduceOp, all_reduce as _all_reduce

__all__ = ['all_reduce']


class _AllReduceSum(Function):
    """y = sum over ranks of x: every rank's loss depends on every rank's x, so the
    gradient of x is the sum over ranks of the gradients of y."""

    @staticmethod
    def forward(ctx, group, x):
        ctx.group = group
        y = x.clone()
        _all_reduce(y, ReduceOp.SUM, group=group)
        return y

    @staticmethod
    def backward(ctx, grad):
        return None, _AllReduceSum.apply(ctx.group, grad)


def all_reduce(tensor, op=ReduceOp.SUM, group=None):
    """The reduction of ``tensor`` over the group as a new tensor, in the graph (SUM only:
    the other reductions' gradients are not defined here)."""
    if op is not ReduceOp.SUM:
        raise NotImplementedError(f'autograd.distributed.nn.functional.all_reduce: only '
                                  f'ReduceOp.SUM is differentiable here, got {op!r}')
    return _AllReduceSum.apply(group, tensor)
