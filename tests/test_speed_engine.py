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


# ----------------------------------------------------------------------------- operators

def test_operators_are_compiled_with_every_global_bound():
    """``a * b`` runs ``apply_binary``'s statements in the dunder itself (one frame): the
    dunder's code names only globals of ``autograd.op`` (or builtins)."""
    import builtins
    import dis

    from autograd import op
    fn = autograd.Tensor.__mul__
    assert fn.__code__.co_filename == '<autograd autograd.op._operator_factory>'
    used = {i.argval for i in dis.get_instructions(fn.__code__) if i.opname == 'LOAD_GLOBAL'}
    assert not sorted(g for g in used if g not in vars(op) and not hasattr(builtins, g))


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_operators_match_pytorch_on_numbers_arrays_and_reflection(dtype):
    x = np.array([1.5, -2.0, 3.0], dtype=dtype)
    for other in (2, 2.5, np.float64(0.5), np.array([1.0, 2.0, 4.0], dtype=dtype)):
        results = []
        for lib in (autograd, torch):
            t = lib.tensor(x, requires_grad=True)
            o = lib.tensor(other) if isinstance(other, np.ndarray) else other
            y = (t * o) + (o - t) + (t / o) + (o / t) - (o * t) ** 2 + (t - o)
            y.sum().backward()
            results.append((np.asarray(y.tolist()), np.asarray(t.grad.tolist()), str(y.dtype)))
        np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
        np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6)
        assert results[0][2].split('.')[-1] == results[1][2].split('.')[-1]


def test_operators_answer_not_implemented_for_foreign_types():
    """``t * 'ab'``: the tensor's operator answers NotImplemented, so Python asks str's
    repetition, whose error PyTorch's users see too."""
    for lib in (autograd, torch):
        t = lib.tensor([1.0, 2.0])
        with pytest.raises(TypeError, match='only integer tensors of a single element'):
            t * 'ab'
        with pytest.raises(TypeError, match='only integer tensors of a single element'):
            'ab' * t
    a = autograd.tensor([1.0, 2.0], requires_grad=True)
    b = a.detach()
    assert (a * b).requires_grad and not (b * b).requires_grad and (b - a).requires_grad


def test_operators_leave_foreign_operands_to_python():
    """As PyTorch's, the operators take tensors, Python numbers and NumPy arrays/scalars
    only: another operand gets NotImplemented, so its own reflected method runs, or
    Python's TypeError (ours raised RuntimeError 'Could not infer dtype', and a list was
    converted)."""
    import operator
    from fractions import Fraction

    class Scaled:
        def __rmul__(self, other):
            return 'rmul'

        def __radd__(self, other):
            return 'radd'

    for lib in (torch, autograd):
        t = lib.ones(2)
        assert t * Scaled() == 'rmul' and t + Scaled() == 'radd'
    for other in (None, object(), Fraction(1, 2), [1.0, 2.0], (1.0, 2.0), 'a'):
        for op in (operator.add, operator.sub, operator.truediv, operator.mul, operator.lt):
            for swap in (False, True):
                kinds = []
                for lib in (torch, autograd):
                    a, b = (other, lib.ones(2)) if swap else (lib.ones(2), other)
                    with pytest.raises(TypeError) as e:
                        op(a, b)
                    kinds.append(str(e.value).replace('torch.', '').replace('autograd.', ''))
                assert kinds[0] == kinds[1]
