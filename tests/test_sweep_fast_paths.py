"""The array sweep's short paths (issue 19, per-op overhead), against PyTorch: a full
sum's gradient filled in on the host (small and large inputs, empty ones, float32 and
float64), gradients of a tensor used several times summed in the sweep itself (in place
where the buffer is private, a new array where it is shared), one saved input read back
without a loop (and its in-place check), and ops applied to bare NumPy arrays in a
backward formula (tanh's gradient op)."""
import numpy as np
import pytest

import autograd
from oracle import check_op, torch


def _grads(lib, fn, *arrays):
    ts = [lib.tensor(a, requires_grad=True) for a in arrays]
    fn(lib, *ts).backward()
    return [t.grad for t in ts]


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('shape', [(4,), (3, 5), (2, 3, 4), (0, 3), (1,), (300, 300)])
def test_full_sum_gradient(shape, dtype):
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    ours, = _grads(autograd, lambda lib, t: (t * 2).sum(), x)
    theirs, = _grads(torch, lambda lib, t: (t * 2).sum(), x)
    np.testing.assert_array_equal(ours.cpu().numpy(), theirs.numpy())
    assert ours.dtype == getattr(autograd, dtype) and tuple(ours.shape) == shape
    ours.add_(1)                        # the leaf's gradient is its own, writable array
    assert float(ours.sum()) == pytest.approx(3 * x.size)


def test_full_sum_gradient_accumulates_into_grad():
    x = np.arange(6.0).reshape(2, 3)
    for lib in (autograd, torch):
        t = lib.tensor(x, requires_grad=True)
        t.sum().backward()
        g = t.grad
        (t * t).sum().backward()
        assert t.grad is g              # summed in place, as PyTorch
        np.testing.assert_array_equal(t.grad.cpu().numpy(), 1 + 2 * x)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_tensor_used_several_times(dtype):
    """Three and four uses of one tensor, some broadcast, with a leaf and a non-leaf."""
    rng = np.random.default_rng(1)
    a = rng.standard_normal(4).astype(dtype)
    b = rng.standard_normal((3, 4)).astype(dtype)

    def fn(lib, a, b):
        h = a * 1.5
        return ((h * b + h).exp().tanh() * b - h + a * a * a).sum()
    check_op(fn, a, b)


def test_used_several_times_with_a_retained_gradient():
    """A hook keeps a gradient that is later summed with another use: the kept array must
    not change (the sum makes a new one)."""
    x = np.array([0.5, -1.0, 2.0])
    for lib in (autograd, torch):
        t = lib.tensor(x, requires_grad=True)
        h = t * 2
        h.retain_grad()
        y = (h * h).sum() + h.sum() + (3 * h).sum()
        y.backward()
        np.testing.assert_allclose(h.grad.cpu().numpy(), 2 * (2 * x) + 1 + 3)
        np.testing.assert_allclose(t.grad.cpu().numpy(), 2 * (2 * (2 * x) + 4))


def test_one_saved_input_checked_for_in_place_changes():
    for lib in (autograd, torch):
        t = lib.tensor([0.5, 1.0, 2.0], requires_grad=True)
        h = t * 1
        y = h.log()
        h.mul_(2)
        with pytest.raises(RuntimeError, match='modified by an inplace operation'):
            y.sum().backward()


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_one_saved_input_values(dtype):
    x = np.random.default_rng(2).uniform(0.5, 2.0, (3, 5)).astype(dtype)
    check_op(lambda lib, x: (x.log() * x.sin()).sum(), x)
    check_op(lambda lib, x: x.tanh().tanh(), x)


@pytest.mark.parametrize('dtype', ['float16', 'float32', 'float64'])
def test_scalar_loss_gradient_of_one_is_never_shared(dtype):
    """loss.backward() on a 0-d loss starts from 1: a gradient that reaches a leaf as it
    is (the sum of a 0-d tensor, the identity) is the leaf's own writable array, and
    writing to it changes no later backward."""
    for _ in range(2):
        x = autograd.tensor(3.0, dtype=getattr(autograd, dtype), requires_grad=True)
        x.sum().backward()
        assert float(x.grad) == 1
        x.grad.add_(5)                  # writable, and private
        x.grad.mul_(2)
        assert float(x.grad) == 12
        y = autograd.tensor([1.0, 2.0], dtype=getattr(autograd, dtype), requires_grad=True)
        (y * 1).sum().backward()
        np.testing.assert_array_equal(y.grad.cpu().numpy(), [1, 1])


def test_hook_on_the_loss_may_write_its_gradient():
    for lib in (autograd, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        loss = (x * x).sum()
        loss.register_hook(lambda g: g.mul_(3))
        loss.backward()
        np.testing.assert_array_equal(x.grad.cpu().numpy(), [6.0, 12.0])
        x.grad = None
        (x * x).sum().backward()        # the next loss starts from 1 again
        np.testing.assert_array_equal(x.grad.cpu().numpy(), [2.0, 4.0])


@pytest.mark.parametrize('bad', [[1.0, 2.0], 2.0, np.array([1.0])])
def test_unary_function_refuses_what_is_not_a_tensor(bad):
    for lib in (autograd, torch):
        with pytest.raises(TypeError, match=r"exp\(\): argument 'input' \(position 1\) must be "
                                            r'Tensor'):
            lib.exp(bad)


def test_unary_function_and_method_on_views_ints_and_no_grad():
    x = np.array([0.5, -1.0, 2.0, 0.25])
    for lib in (autograd, torch):
        t = lib.tensor(x, requires_grad=True)
        base = t * 1
        v = base[1:]
        base.mul_(2)                    # the view's history follows the in-place change
        y = lib.tanh(v) + v.exp() + lib.exp(lib.tensor([1, 2, 3]))
        y.sum().backward()
        with lib.no_grad():
            assert not lib.exp(t).requires_grad
        assert lib.exp(lib.tensor([1, 2])).dtype == lib.float32
        if lib is autograd:
            ours = (y.detach().cpu().numpy(), t.grad.cpu().numpy())
        else:
            np.testing.assert_allclose(ours[0], y.detach().numpy(), rtol=1e-6)
            np.testing.assert_allclose(ours[1], t.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize('data,dtype', [(3.5, 'float64'), ([[1, 2], [3, 4]], 'int64'),
                                        ([True, False, True], 'bool'),
                                        ([0.1, 0.2, 0.3], 'float16'), ([], 'float32')])
def test_full_sum_values_and_dtypes(data, dtype):
    ours = autograd.tensor(data, dtype=getattr(autograd, dtype)).sum()
    theirs = torch.tensor(data, dtype=getattr(torch, dtype)).sum()
    assert str(ours.dtype).split('.')[1] == str(theirs.dtype).split('.')[1]
    assert tuple(ours.shape) == tuple(theirs.shape) == ()
    np.testing.assert_array_equal(ours.cpu().numpy(), theirs.numpy())


@pytest.mark.parametrize('binary', [True, False])
def test_parameter_inputs_recorded_inline(binary):
    """A Tensor subclass (nn.Parameter) as an op's input: its edge and saved version read
    inline, so an in-place change after the op is caught and its gradient arrives."""
    import nn
    x = np.array([[0.5, -1.0], [2.0, 0.25]])
    for lib, mod in ((autograd, nn), (torch, torch.nn)):
        p = mod.Parameter(lib.tensor(x))
        q = mod.Parameter(lib.tensor(x + 1))
        xt = lib.tensor(x, requires_grad=True)
        y = p * q if binary else mod.functional.linear(xt, p, q[0])
        y.sum().backward()
        grads = (p.grad.cpu().numpy(), q.grad.cpu().numpy())
        if lib is autograd:
            ours = grads
        else:
            for a, b in zip(ours, grads):
                np.testing.assert_allclose(a, b, rtol=1e-12)
        y = p * q if binary else mod.functional.linear(xt, p, q[0])
        with lib.no_grad():
            p.mul_(2)
        with pytest.raises(RuntimeError, match='modified by an inplace operation'):
            y.sum().backward()


def test_gradient_of_one_written_by_a_hook_or_function_downstream():
    """The loss's 1 passes unchanged through clone/reshape to a node with a hook and to a
    custom Function's backward: both may write to the gradient they get, as in PyTorch."""
    for lib in (autograd, torch):
        class Twice(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                g.mul_(2)
                return g

        x = lib.tensor(1.5, requires_grad=True)
        s = Twice.apply(x * 1)
        s.register_hook(lambda g: g.add_(1))
        s.clone().reshape(1).reshape(()).backward()
        assert float(x.grad) == 4.0
        x.grad = None
        s = Twice.apply(x * 1)
        s.clone().backward()
        assert float(x.grad) == 2.0
