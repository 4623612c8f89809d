"""Engine semantics: the backward sweep, graph lifetime, grad modes, in-place checks, hooks.

Expected values are hand-derived (noted beside each); where PyTorch is installed, it runs
the same program and is held to the same values (each_library), or compared with.
"""
import gc
import math
import sys
import threading
import time
import weakref

import numpy as np
import pytest

import autograd
from autograd import Function
from oracle import check_raises, each_library, torch


def leaf(values, dtype=autograd.float64):
    return autograd.tensor(values, dtype=dtype, requires_grad=True)


def val(t):
    return t.detach().cpu().numpy()


def message_of(fn):
    """The message of the RuntimeError that ``fn`` raises (PyTorch's wording, for matching)."""
    with pytest.raises(RuntimeError) as e:
        fn()
    return str(e.value)


# ----------------------------------------------------------------------------- the sweep

def test_100k_op_chain_backpropagates_without_recursion_and_fast():
    x = leaf(1.0)
    c = 1.00001
    y = x
    start = time.process_time()     # CPU time: other processes on the machine don't count
    for _ in range(100_000):
        y = y * c
    y.backward()
    elapsed = time.process_time() - start
    assert sys.getrecursionlimit() < 100_000
    assert math.isclose(x.grad.item(), c ** 100_000, rel_tol=1e-9)     # d(c^n x)/dx = c^n
    # about 3 s on a laptop core; a quadratic sweep would take minutes
    assert elapsed < 10.0, f'100k-op forward+backward took {elapsed:.2f}s CPU'
    del y                           # freeing the 100k-node chain must not overflow either


def test_diamond_sums_the_gradients_of_both_paths():
    x = leaf(3.0)
    a, b = x * 2, x * 5
    (a * b).backward()              # d(10 x^2)/dx = 20 x
    assert x.grad.item() == 60.0


def test_tensor_used_three_times_in_one_op_chain():
    x = leaf([1.0, -2.0])
    (x * x * x).sum().backward()    # 3 x^2
    np.testing.assert_array_equal(val(x.grad), [3.0, 12.0])


def test_stacked_diamonds_are_visited_once_each():
    # y_{k+1} = y_k + y_k, 200 times: 2^200 paths, so only a linear sweep finishes
    x = leaf(1.0)
    y = x
    for _ in range(200):
        y = y + y
    y.backward()
    assert x.grad.item() == 2.0 ** 200


def test_gradient_of_a_shared_intermediate_reaches_the_leaf_once():
    x = leaf([1.0, 2.0])
    h = x.exp()
    (h * 2 + h.sin()).sum().backward()          # e^x (2 + cos e^x)
    e = np.exp([1.0, 2.0])
    np.testing.assert_allclose(val(x.grad), e * (2 + np.cos(e)), rtol=1e-14)


def test_backward_through_a_freed_graph_raises():
    for lib in each_library(torch, autograd):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()           # mul saves its inputs
        y.backward()
        message = message_of(y.backward)
        assert 'backward through the graph a second time' in message
        assert 'retain_graph=True' in message


def test_graph_without_saved_tensors_backpropagates_twice_as_pytorch():
    for lib in each_library(torch, autograd):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = (x + 1).sum()           # add and sum save nothing
        y.backward()
        y.backward()
        np.testing.assert_array_equal(val(x.grad), [2.0, 2.0])


def test_retain_graph_twice_accumulates():
    x = leaf([1.0, 3.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(val(x.grad), [4.0, 12.0])         # 2 * 2x


def test_backward_on_a_tensor_without_grad_raises():
    x = autograd.tensor([1.0])
    with pytest.raises(RuntimeError, match='does not require grad and does not have a grad_fn'):
        x.sum().backward()


def test_non_scalar_backward_needs_a_gradient():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match='grad can be implicitly created only for scalar'):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match='grad can be implicitly created only for scalar'):
        autograd.grad(x * 2, x)


def test_backward_with_gradient_is_a_vector_jacobian_product():
    x = leaf([1.0, 2.0])
    (x * x).backward(autograd.tensor([10.0, 100.0], dtype=autograd.float64))
    np.testing.assert_array_equal(val(x.grad), [20.0, 400.0])


# ----------------------------------------------------------------------------- grad modes

def test_no_grad_records_nothing():
    x = leaf([1.0])
    with autograd.no_grad():
        y = x * 2
        assert not autograd.is_grad_enabled()
    assert autograd.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None


def test_enable_grad_inside_no_grad():
    x = leaf([1.0])
    with autograd.no_grad():
        with autograd.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and not z.requires_grad


def test_set_grad_enabled_as_call_and_as_context():
    x = leaf([1.0])
    with autograd.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert autograd.is_grad_enabled()
    autograd.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        autograd.set_grad_enabled(True)
    assert (x * 2).requires_grad


def test_inference_mode():
    x = leaf([1.0])
    with autograd.inference_mode():
        assert autograd.is_inference_mode_enabled() and not autograd.is_grad_enabled()
        assert not (x * 2).requires_grad
    with autograd.inference_mode(False):
        assert (x * 2).requires_grad
    assert not autograd.is_inference_mode_enabled()


@pytest.mark.parametrize('make', [
    lambda: autograd.no_grad(), lambda: autograd.no_grad,
    lambda: autograd.inference_mode(), lambda: autograd.inference_mode,
    lambda: autograd.set_grad_enabled(False)])
def test_grad_off_decorators(make):
    @make()
    def f(x):
        return x * 2, autograd.is_grad_enabled()

    assert autograd.is_grad_enabled()            # decorating changes nothing yet
    y, enabled = f(leaf([1.0]))
    assert not enabled and not y.requires_grad
    assert autograd.is_grad_enabled()


@pytest.mark.parametrize('make', [lambda: autograd.enable_grad(), lambda: autograd.enable_grad])
def test_enable_grad_decorator(make):
    @make()
    def f(x):
        return x * 2

    with autograd.no_grad():
        assert f(leaf([1.0])).requires_grad


def test_decorated_generator_keeps_the_mode_across_yields():
    @autograd.no_grad()
    def gen():
        for _ in range(2):
            yield autograd.is_grad_enabled()

    results = []
    for enabled in gen():
        results.append(enabled)
        assert autograd.is_grad_enabled()       # the caller's mode between items
    assert results == [False, False]


def test_grad_mode_is_thread_local():
    seen = {}

    def worker():
        seen['enabled'] = autograd.is_grad_enabled()
        seen['requires_grad'] = (leaf([1.0]) * 2).requires_grad
        with autograd.no_grad():
            seen['inner'] = autograd.is_grad_enabled()

    with autograd.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        assert not autograd.is_grad_enabled()
    assert seen == {'enabled': True, 'requires_grad': True, 'inner': False}
    assert autograd.is_grad_enabled()


def test_detach_stops_the_gradient():
    x = leaf([2.0])
    (x.detach() * x).sum().backward()               # d(c x)/dx = c, c = x's value
    np.testing.assert_array_equal(val(x.grad), [2.0])
    d = x.detach()
    assert not d.requires_grad and d.is_leaf


def test_mode_exits_on_exception():
    with pytest.raises(ValueError):
        with autograd.no_grad():
            raise ValueError
    assert autograd.is_grad_enabled()


# ----------------------------------------------------------------------------- in place

def test_inplace_change_of_a_saved_value_raises_at_backward():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        a = x * 1
        y = a * a                   # saves a
        a.add_(1)
        y.sum().backward()

    for lib in each_library(torch):
        assert 'modified by an inplace operation' in message_of(lambda: run(lib))
    with pytest.raises(RuntimeError) as e:
        run(autograd)
    assert 'one of the variables needed for gradient computation has been modified by an ' \
           'inplace operation' in str(e.value)
    assert 'MulBackward0' in str(e.value) and 'version 1; expected version 0' in str(e.value)


def test_inplace_change_of_a_saved_output_raises_at_backward():
    x = leaf([1.0, 2.0])
    y = x.exp()                     # exp saves its output
    y.mul_(2)
    with pytest.raises(RuntimeError, match='modified by an inplace operation'):
        y.sum().backward()


def test_inplace_change_of_an_unsaved_value_is_fine():
    x = leaf([1.0, 2.0])
    a = x * 3
    y = a + 1                       # add saves nothing
    a.mul_(10)
    y.sum().backward()
    np.testing.assert_array_equal(val(x.grad), [3.0, 3.0])



@pytest.mark.parametrize('op', ['mul', 'div'])
def test_operand_no_needed_gradient_reads_is_not_saved_as_pytorch(op):
    # x * c and x / c keep only c (d/dx reads c alone): changing x in place afterwards is
    # fine, as in PyTorch; c * x changed in place where d/dx needs it still raises
    for lib in each_library(torch, autograd):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        c = lib.tensor([3.0, 4.0], dtype=lib.float64)
        h = x * 1
        y = h * c if op == 'mul' else h / c
        with lib.no_grad():
            h.add_(10)
        y.sum().backward()
        expected = [3.0, 4.0] if op == 'mul' else [1 / 3, 1 / 4]        # c, or 1 / c
        np.testing.assert_allclose(val(x.grad), expected, rtol=1e-15)
        h2 = x * 1
        c2 = c.clone()
        y2 = h2 * c2 if op == 'mul' else h2 / c2
        c2.add_(1)
        with pytest.raises(RuntimeError, match='modified by an inplace operation'):
            y2.sum().backward()


def test_inplace_op_results_backpropagate():
    x = leaf([1.0, 2.0])
    a = x * 1
    a.mul_(3)
    a.add_(x * x)                   # a = 3x + x^2; d/dx = 3 + 2x
    a.sum().backward()
    np.testing.assert_array_equal(val(x.grad), [5.0, 7.0])


X_, B_ = np.array([1.0, 2.0]), np.array([3.0, 4.0])
INPLACE_READING_OLD = {     # d/dx and d/db of sum(op(x)), b the second operand
    'mul_': (B_, X_), 'div_': (1 / B_, -X_ / B_ ** 2), 'pow_': (2 * X_, None),
    'sqrt_': (0.5 / np.sqrt(X_), None), 'sin_': (np.cos(X_), None),
    'tanh_': (1 - np.tanh(X_) ** 2, None),
}


@pytest.mark.parametrize('op', sorted(INPLACE_READING_OLD))
def test_inplace_op_that_reads_its_old_value_backpropagates_as_pytorch(op):
    def run(lib):
        x = lib.tensor(X_, dtype=lib.float64, requires_grad=True)
        b = lib.tensor(B_, dtype=lib.float64, requires_grad=True)
        a = x * 1
        getattr(a, op)(*((b,) if op in ('mul_', 'div_') else (2,) if op == 'pow_' else ()))
        a.sum().backward()
        return x.grad, b.grad

    for lib in each_library(torch, autograd):
        for got, expected in zip(run(lib), INPLACE_READING_OLD[op]):
            if expected is None:
                assert got is None
            else:
                np.testing.assert_allclose(val(got), expected, rtol=1e-14)


def test_inplace_update_of_a_leaf_under_no_grad_bumps_the_version():
    for lib in each_library(torch, autograd):
        w = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        v0 = w._version
        with lib.no_grad():
            w.sub_(lib.tensor([0.5, 0.5], dtype=lib.float64))
            w.mul_(2)
        assert w._version == v0 + 2
        assert w.is_leaf and w.requires_grad
        np.testing.assert_array_equal(val(w), [1.0, 3.0])


def test_inplace_on_a_leaf_that_requires_grad_raises():
    for lib in each_library(torch, autograd):
        assert message_of(lambda: lib.ones(2, requires_grad=True).add_(1)) == \
            'a leaf Variable that requires grad is being used in an in-place operation.'


def test_version_counter_is_shared_with_detach():
    x = autograd.tensor([1.0, 2.0])
    d = x.detach()
    d.add_(1)
    assert x._version == 1
    np.testing.assert_array_equal(val(x), [2.0, 3.0])


# ----------------------------------------------------------------------------- hooks

def test_leaf_hook_sees_the_summed_gradient_once_and_may_replace_it():
    x = leaf([1.0, 2.0])
    calls = []

    def hook(g):
        calls.append(val(g).copy())
        return g * 10

    x.register_hook(hook)
    (x * 2 + x * 3).sum().backward()
    assert len(calls) == 1
    np.testing.assert_array_equal(calls[0], [5.0, 5.0])
    np.testing.assert_array_equal(val(x.grad), [50.0, 50.0])


def test_non_leaf_hook_replaces_the_gradient_flowing_on():
    x = leaf([1.0, 2.0])
    h = x * 3
    seen = []
    h.register_hook(lambda g: seen.append(val(g).copy()))
    h.register_hook(lambda g: g * 100)
    (h * h).sum().backward()                  # dL/dh = 2h = 6x; dL/dx = 3 * 100 * 6x
    np.testing.assert_array_equal(seen[0], [6.0, 12.0])
    np.testing.assert_array_equal(val(x.grad), [1800.0, 3600.0])
    assert h.grad is None


def test_hook_handle_removes_the_hook():
    x = leaf([1.0])
    handle = x.register_hook(lambda g: g * 0)
    handle.remove()
    h = x * 2
    hh = h.register_hook(lambda g: g * 0)
    hh.remove()
    h.sum().backward()
    np.testing.assert_array_equal(val(x.grad), [2.0])


def test_hook_on_a_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        autograd.tensor([1.0]).register_hook(lambda g: g)


def test_retain_grad_keeps_a_non_leaf_gradient():
    x = leaf([1.0, 2.0])
    h = x * 2
    h.retain_grad()
    assert h.retains_grad
    (h * h).sum().backward()
    np.testing.assert_array_equal(val(h.grad), [4.0, 8.0])             # 2h
    z = x * 2
    (z * z).sum().backward()
    assert z.grad is None


def test_retain_grad_sees_the_gradient_after_hooks():
    x = leaf([1.0])
    h = x * 2
    h.retain_grad()
    h.register_hook(lambda g: g * 3)
    h.sum().backward()
    np.testing.assert_array_equal(val(h.grad), [3.0])         # 1, times 3 by the hook
    for lib in each_library(torch):
        th = lib.tensor([1.0], requires_grad=True) * 2
        th.retain_grad()
        th.register_hook(lambda g: g * 3)
        th.sum().backward()
        np.testing.assert_array_equal(val(th.grad), [3.0])


# ----------------------------------------------------------------------------- autograd.grad

def test_third_derivative_of_x_to_the_fourth():
    x = leaf(2.0)
    y = x ** 4
    (g1,) = autograd.grad(y, x, create_graph=True)       # 4 x^3 = 32
    (g2,) = autograd.grad(g1, x, create_graph=True)      # 12 x^2 = 48
    (g3,) = autograd.grad(g2, x)                         # 24 x = 48
    assert (g1.item(), g2.item(), g3.item()) == (32.0, 48.0, 48.0)
    assert x.grad is None


def test_grad_without_create_graph_returns_constants():
    x = leaf(2.0)
    (g,) = autograd.grad(x * x, x)
    assert not g.requires_grad and g.grad_fn is None


def test_grad_allow_unused():
    x, z = leaf([1.0]), leaf([2.0])
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match='appears to not have been used in the graph'):
        autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = autograd.grad(y, [x, z], allow_unused=True)
    assert gz is None and val(gx).tolist() == [2.0]


def test_grad_materialize_grads_gives_zeros():
    x, z = leaf([1.0]), leaf([2.0, 3.0])
    _, gz = autograd.grad((x * 2).sum(), [x, z], materialize_grads=True)
    np.testing.assert_array_equal(val(gz), [0.0, 0.0])


def test_grad_outputs_weight_the_outputs():
    x = leaf([1.0, 2.0])
    y1, y2 = x * 3, x * x
    v1 = autograd.tensor([1.0, 10.0], dtype=autograd.float64)
    v2 = autograd.tensor([100.0, 1000.0], dtype=autograd.float64)
    (g,) = autograd.grad([y1, y2], x, grad_outputs=[v1, v2])      # 3 v1 + 2x v2
    np.testing.assert_array_equal(val(g), [203.0, 4030.0])


def test_grad_output_of_the_wrong_shape_raises():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match='Mismatch in shape'):
        autograd.grad(x * 2, x, grad_outputs=autograd.ones(3, dtype=autograd.float64))


def test_grad_of_an_intermediate():
    x = leaf([1.0, 2.0])
    h = x * 3
    (g,) = autograd.grad((h * h).sum(), h)
    np.testing.assert_array_equal(val(g), [6.0, 12.0])


def test_backward_inputs_restricts_accumulation():
    a, b = leaf([1.0]), leaf([2.0])
    h = a * b
    (h * 2).sum().backward(inputs=[a])
    np.testing.assert_array_equal(val(a.grad), [4.0])
    assert b.grad is None


def test_backward_inputs_may_name_a_non_leaf():
    a = leaf([1.0, 2.0])
    h = a * 3
    (h * h).sum().backward(inputs=[h])
    np.testing.assert_array_equal(val(h.grad), [6.0, 12.0])
    assert a.grad is None


def test_create_graph_backward_makes_grad_differentiable():
    x = leaf([3.0])
    (x ** 3).sum().backward(create_graph=True)           # x.grad = 3 x^2 with a graph
    assert x.grad.requires_grad
    (g2,) = autograd.grad(x.grad.sum(), x)               # 6 x
    np.testing.assert_array_equal(val(g2), [18.0])


# ----------------------------------------------------------------------------- memory

def test_graph_is_freed_without_the_cyclic_collector():
    gc.collect()
    gc.disable()
    try:
        x = leaf([1.0, 2.0])
        h = x * 2
        y = h.exp()                 # saves its output: must not make a cycle
        z = (y * h).sum()
        refs = [weakref.ref(h), weakref.ref(h.grad_fn), weakref.ref(y), weakref.ref(y.grad_fn),
                weakref.ref(z.grad_fn)]
        del h, y
        assert all(r() is not None for r in refs[1:2])          # kept alive by z's graph
        del z
        assert [r() for r in refs] == [None] * len(refs)
        assert x.grad is None
    finally:
        gc.enable()


def test_intermediates_are_freed_after_backward_without_the_collector():
    gc.collect()
    gc.disable()
    try:
        x = leaf([1.0, 2.0])
        h = x.exp()
        ref_h, ref_node = weakref.ref(h), weakref.ref(h.grad_fn)
        loss = (h * h).sum()
        del h
        loss.backward()
        del loss
        assert ref_h() is None and ref_node() is None
        np.testing.assert_allclose(val(x.grad), 2 * np.exp([2.0, 4.0]), rtol=1e-14)
    finally:
        gc.enable()


def test_custom_function_graph_is_freed_without_the_collector():
    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            y = x * x
            ctx.save_for_backward(x, y)          # saving its own output
            return y

        @staticmethod
        def backward(ctx, g):
            x, _ = ctx.saved_tensors
            return 2 * x * g

    gc.collect()
    gc.disable()
    try:
        x = leaf([1.0, 2.0])
        y = Square.apply(x * 1)
        refs = [weakref.ref(y), weakref.ref(y.grad_fn)]
        del y
        assert [r() for r in refs] == [None, None]
    finally:
        gc.enable()


# ----------------------------------------------------------------------------- conversions

def test_numpy_of_a_tensor_requiring_grad_raises_as_pytorch():
    for lib in each_library(torch, autograd):
        assert message_of(lambda: lib.ones(2, requires_grad=True).numpy()) == \
            "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."


def test_item_of_a_multi_element_tensor_raises_as_pytorch():
    for lib in each_library(torch, autograd):
        assert message_of(lambda: lib.ones(2).item()) == \
            'a Tensor with 2 elements cannot be converted to Scalar'


@pytest.mark.parametrize('how', ['constructor', 'method', 'attribute'])
def test_integer_tensor_cannot_require_grad(how):
    with pytest.raises(RuntimeError, match='only Tensors of floating point'):
        if how == 'constructor':
            autograd.tensor([1, 2], requires_grad=True)
        elif how == 'method':
            autograd.tensor([1, 2]).requires_grad_()
        else:
            autograd.tensor([1, 2]).requires_grad = True


def test_requires_grad_of_a_non_leaf_cannot_be_cleared():
    h = leaf([1.0]) * 2
    with pytest.raises(RuntimeError, match='only change requires_grad flags of leaf'):
        h.requires_grad = False


# ----------------------------------------------------------------------------- .grad ownership

def test_leaf_grads_from_one_sum_do_not_alias():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()
    a.grad.mul_(2)
    np.testing.assert_array_equal(val(b.grad), [1.0, 1.0])


def test_leaf_grad_does_not_alias_the_given_gradient():
    a = leaf([1.0, 2.0])
    g = autograd.tensor([5.0, 6.0], dtype=autograd.float64)
    (a * 1).backward(g)
    g.mul_(0)
    np.testing.assert_array_equal(val(a.grad), [5.0, 6.0])
    b = leaf([1.0, 2.0])
    b.backward(g2 := autograd.tensor([7.0, 8.0], dtype=autograd.float64))
    g2.mul_(0)
    np.testing.assert_array_equal(val(b.grad), [7.0, 8.0])


def test_grad_accumulates_in_place_keeping_its_identity():
    a = leaf([1.0])
    (a * 2).sum().backward()
    g = a.grad
    (a * 3).sum().backward()
    assert a.grad is g and val(g).tolist() == [5.0]


def test_grad_has_the_leaf_dtype_and_shape_after_broadcasting():
    a = leaf([[1.0], [2.0]], dtype=autograd.float32)
    b = leaf([1.0, 2.0, 3.0])                              # float64, broadcast against a
    (a * b).sum().backward()
    assert a.grad.dtype == autograd.float32 and a.grad.shape == (2, 1)
    np.testing.assert_array_equal(val(a.grad), [[6.0], [6.0]])
    np.testing.assert_array_equal(val(b.grad), [3.0, 3.0, 3.0])



def test_hooked_gradient_is_not_changed_by_later_sums():
    # x*3 is recorded first, so the clone's gradient (seen by the hook) reaches x's
    # accumulator first and x*3's contribution is added to it afterwards
    x = leaf([1.0, 2.0])
    y = x * 3
    h = x.clone()
    kept = []
    h.register_hook(kept.append)
    ((h * 2).sum() + y.sum()).backward()
    np.testing.assert_array_equal(val(kept[0]), [2.0, 2.0])
    np.testing.assert_array_equal(val(x.grad), [5.0, 5.0])


def test_gradients_of_0d_tensors_sum_across_uses():
    # fan-in of 0-d gradients (NumPy makes scalars of 0-d sums) through ops of both kinds
    x = leaf(0.5)
    y = autograd.atan2(x, x * 2) + x * x + x.exp()
    g, = autograd.grad(y, x)
    # d/dx atan2(x, 2x) = 0 (constant angle)
    np.testing.assert_allclose(val(g), 2 * 0.5 + math.exp(0.5), rtol=1e-12)
    y = autograd.atan2(x, x * 2) + x * x + x.exp()
    y.backward()
    y = autograd.atan2(x, x * 2) + x * x + x.exp()
    y.backward()
    np.testing.assert_allclose(val(x.grad), 2 * (1 + math.exp(0.5)), rtol=1e-12)
    assert type(x.grad._data) is type(x._data) and x.grad.shape == ()     # an array, not a scalar


def test_backward_of_nothing_does_nothing_and_grad_of_nothing_is_unused():
    x = leaf([1.0, 2.0])
    autograd.backward([])                       # as torch.autograd.backward([])
    assert x.grad is None
    with pytest.raises(RuntimeError, match='appears to not have been used'):
        autograd.grad([], [x])
    assert autograd.grad([], [x], allow_unused=True) == (None,)


def test_leaf_hook_survives_reassigning_data():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g * 10)
    x.data = autograd.tensor([3.0, 4.0], dtype=autograd.float64)
    (x * 1).sum().backward()
    np.testing.assert_array_equal(val(x.grad), [10.0, 10.0])


def test_leaf_hook_runs_for_autograd_grad_too():
    for lib in each_library(torch, autograd):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        x.register_hook(lambda g: g * 10)
        g, = (torch.autograd.grad if lib is torch else autograd.grad)((x * x).sum(), x)
        np.testing.assert_array_equal(val(g), [20.0, 40.0])            # 10 * 2x


# ----------------------------------------------------------------------------- anomaly mode

def test_anomaly_mode_names_the_op_and_the_forward_line():
    x = leaf(0.0)
    with autograd.detect_anomaly():
        y = x.sqrt() * 0; line = sys._getframe().f_lineno     # noqa: E702
        with pytest.raises(RuntimeError) as e:
            y.backward()                  # 0 * d sqrt(x)/dx at 0 = 0 * inf = nan
    msg = str(e.value)
    assert "Function 'SqrtBackward0' returned nan values in its 0th output." in msg
    assert f'{__file__}", line {line}' in msg


def test_anomaly_mode_catches_a_custom_function_returning_nan():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * float('nan')

    x = leaf([1.0])
    with autograd.detect_anomaly():
        y = Bad.apply(x); line = sys._getframe().f_lineno            # noqa: E702
        with pytest.raises(RuntimeError) as e:
            y.sum().backward()
    assert "Function 'BadBackward' returned nan values" in str(e.value)
    assert f'{__file__}", line {line}' in str(e.value)


def test_anomaly_mode_is_global_across_threads_as_pytorch():
    seen = []
    with autograd.detect_anomaly():
        t = threading.Thread(target=lambda: seen.append(autograd.is_anomaly_enabled()))
        t.start()
        t.join()
    assert seen == [True] and not autograd.is_anomaly_enabled()


def test_without_anomaly_mode_nan_flows_silently():
    x = leaf(0.0)
    (x.sqrt() * 0).backward()
    assert math.isnan(x.grad.item())


def test_set_detect_anomaly_toggles():
    autograd.set_detect_anomaly(True)
    try:
        assert autograd.is_anomaly_enabled()
    finally:
        autograd.set_detect_anomaly(False)
    assert not autograd.is_anomaly_enabled()


def test_concurrent_backward_into_one_leaf_never_loses_a_gradient():
    """Two threads sweeping into one leaf at once (its .grad None at first, then summed in
    place): PyTorch never loses a gradient, and neither may we (many rounds, since a lost
    update needs the threads to interleave at one point)."""
    import sys
    import threading
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)         # switch threads as often as the interpreter can
    try:
        _race_backward_into_one_leaf(rounds=300)
    finally:
        sys.setswitchinterval(interval)


def _race_backward_into_one_leaf(rounds):
    import threading
    for _ in range(rounds):
        w = autograd.tensor([1.0, 2.0], requires_grad=True)
        start = threading.Barrier(2)

        def run():
            loss = (w * 3).sum()
            start.wait()
            loss.backward()
        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert w.grad.tolist() == [6.0, 6.0]       # d(3 w)/dw = 3, from each thread


@pytest.mark.parametrize('value, exc, match', [
    (lambda lib: lib.ones(2, 3), RuntimeError,
     r"gradient of size '\[2, 3\]' to a tensor of size '\[3\]'"),
    (lambda lib: lib.ones(3, dtype=lib.float64), RuntimeError,
     'attempting to assign a gradient with dtype'),
    (lambda lib: lib.ones(3, dtype=lib.int64), RuntimeError,
     'attempting to assign a gradient with dtype'),
    (lambda lib: 5, TypeError,
     'assigned grad expected to be a Tensor or None but got grad of type int'),
])
def test_assigning_a_grad_checks_size_dtype_and_type_as_pytorch(value, exc, match):
    def assign(lib):
        x = lib.zeros(3, requires_grad=True)
        x.grad = value(lib)
    check_raises(assign, match=match, exc=exc)


def test_assigning_a_matching_grad_or_none_is_kept():
    x = autograd.zeros(3, requires_grad=True)
    g = autograd.ones(3)
    x.grad = g
    assert x.grad is g
    x.grad = None
    assert x.grad is None
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_an_op_formula_may_leave_trailing_gradients_out():
    """An ``Op`` (``array_backward``: its gradient count is trusted, not checked) whose
    backward returns fewer gradients than it has inputs gives the rest none, in both sweeps;
    d/da (a * b) = b by hand, and b, whose gradient was left out, gets none."""
    from autograd.extend import Op

    class FirstOnly(Op):
        __slots__ = ()
        array_backward = True
        save = (1,)

        def forward(self, xp, a, b):
            return a * b

        def backward(self, g):
            b, = self.saved_tensors
            return g * b            # one gradient for two inputs

    for create_graph in (False, True):
        a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
        FirstOnly.apply(a, b).sum().backward(create_graph=create_graph)
        assert val(a.grad).tolist() == [3.0, 4.0]
        assert b.grad is None
