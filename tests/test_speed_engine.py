"""The engine's lean entry for ``loss.backward()`` (issue 19): a real one-element tensor
made by an op starts the sweep from its edge and a gradient of 1 directly.  What it must
keep: PyTorch's results and errors for every other root, shapes (1,) and (1, 1), float32,
the freeing of the graph, and ``retain_graph``."""
import numpy as np
import pytest

import autograd
from oracle import torch


@pytest.mark.parametrize('shape', [(), (1,), (1, 1)])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_one_element_roots_match_pytorch(shape, dtype):
    x = np.random.default_rng(0).standard_normal(3).astype(dtype)
    grads = []
    for lib in (autograd, torch):
        t = lib.tensor(x, requires_grad=True)
        ((t * t).sum().exp() / 7).reshape(shape).backward()
        grads.append(np.asarray(t.grad.tolist(), dtype=dtype))
        assert str(t.grad.dtype).endswith(dtype)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)


def test_graph_freed_unless_retained():
    t = autograd.tensor([1.0, 2.0], requires_grad=True)
    loss = (t * t).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    assert t.grad.tolist() == [4.0, 8.0]
    with pytest.raises(RuntimeError, match='backward through the graph a second time'):
        loss.backward()


def test_other_roots_keep_pytorch_errors():
    t = autograd.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match='only for scalar outputs'):
        (t * 2).backward()
    with pytest.raises(RuntimeError, match='does not require grad'):
        autograd.tensor(1.0).backward()
    z = autograd.tensor([1 + 2j], requires_grad=True)
    with pytest.raises(RuntimeError, match='real scalar outputs'):
        (z * z).sum().backward()
    leaf = autograd.tensor(3.0, requires_grad=True)
    leaf.backward()                                 # a leaf root: its own gradient, 1
    assert leaf.grad.item() == 1.0
