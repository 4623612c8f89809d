"""``autograd.Variable`` (``torch.autograd.Variable``): the pre-0.4 wrapper old programs
still import, against PyTorch's."""
import warnings

import numpy as np
import pytest

import autograd
from oracle import HAVE_TORCH, torch

pytestmark = pytest.mark.skipif(not HAVE_TORCH, reason='needs PyTorch, the oracle')


def each(fn):
    """fn(lib, Variable) through PyTorch and autograd."""
    from torch.autograd import Variable as TorchVariable
    return fn(torch, TorchVariable), fn(autograd, autograd.Variable)


@pytest.mark.parametrize('requires_grad', [False, True])
def test_variable_is_a_detached_leaf_sharing_memory(requires_grad):
    def fn(lib, Variable):
        w = lib.ones(3, dtype=lib.float64, requires_grad=True)
        y = w * 2
        v = Variable(y, requires_grad=requires_grad)
        v.data.add_(1)                          # the same memory as y
        out = [v is y, type(v) is lib.Tensor, v.requires_grad, v.grad_fn is None,
               v.is_leaf, y.tolist(), isinstance(y, Variable), isinstance(3, Variable),
               issubclass(lib.Tensor, Variable)]
        if requires_grad:
            (v * v).sum().backward()
            out.append(v.grad.tolist())
        return out
    theirs, ours = each(fn)
    assert ours == theirs


def test_variable_bad_input_and_legacy_arguments():
    def fn(lib, Variable):
        out = []
        for args, kwargs in (([lib.ones(2, dtype=lib.int64)], {'requires_grad': True}),
                             ([[1.0, 2.0]], {}), ([np.ones(2)], {})):
            with pytest.raises((RuntimeError, TypeError)) as e:
                Variable(*args, **kwargs)
            out.append(e.type)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            v = Variable(lib.ones(2), volatile=True)
        out += [[x.category for x in w], 'volatile' in str(w[0].message), v.tolist()]
        empty = Variable()
        out += [tuple(empty.shape), str(empty.dtype).split('.')[-1]]
        return out
    theirs, ours = each(fn)
    assert ours == theirs
