"""The fused ops of ``nn.functional`` take part in the array sweep: a backward without
``create_graph`` hands them the device's bare arrays and none needs tensors wrapped
around its gradients.  (Their values are checked against PyTorch op by op elsewhere.)"""
import importlib
import pkgutil

import numpy as np
import pytest

import autograd
import autograd.engine
import nn.functional as F
from autograd.extend import Op
from oracle import rand


def _functional_ops():
    for info in pkgutil.iter_modules(F.__path__):
        module = importlib.import_module(f'{F.__name__}.{info.name}')
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, Op) and \
                    obj.__module__ == module.__name__:
                yield obj


@pytest.mark.parametrize('op', list(_functional_ops()), ids=lambda op: op.__name__)
def test_every_functional_op_computes_its_backward_on_arrays(op):
    assert op.array_backward


def _never_wrapped(node, g, multi):
    raise AssertionError(f'{node.name()} was handed tensors in an array sweep')


def test_a_network_of_fused_ops_backpropagates_without_tensor_wrappers(monkeypatch):
    monkeypatch.setattr(autograd.engine, '_wrap', _never_wrapped)
    leaf = lambda a: autograd.tensor(a, requires_grad=True)      # noqa: E731
    x = leaf(rand(2, 3, 8, 8))
    w1, b1 = leaf(rand(4, 3, 3, 3, seed=1)), leaf(rand(4, seed=2))
    gamma, beta = leaf(rand(4, low=0.5, seed=3)), leaf(rand(4, seed=4))
    table = leaf(rand(5, 16, seed=5))
    w2, b2 = leaf(rand(3, 16, seed=6)), leaf(rand(3, seed=7))
    h = F.conv2d(x, w1, b1, padding=1)
    h = F.batch_norm(h, None, None, gamma, beta, training=True)
    h = F.max_pool2d(F.leaky_relu(h), 2)
    h = F.avg_pool2d(F.gelu(h), 2).reshape(2, 16)
    h = F.layer_norm(h, (16,)) + F.embedding(autograd.tensor(np.array([1, 4])), table)
    h = F.dropout(F.silu(F.pad(h, (1, 1))[:, 1:-1]), 0.5)
    loss = F.cross_entropy(F.linear(h, w2, b2), autograd.tensor(np.array([0, 2])))
    loss.backward()
    for t in (x, w1, b1, gamma, beta, table, w2, b2):
        assert t.grad is not None and t.grad.shape == t.shape
