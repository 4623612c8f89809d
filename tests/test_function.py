"""Custom ``autograd.Function``: the same class body runs on PyTorch and here, and must give
the same values, gradients, second derivatives and errors."""
import numpy as np
import pytest

import autograd
from custom_functions import cube, function, scaled_exp
from oracle import to_numpy

torch = pytest.importorskip('torch')
from torch.autograd.function import once_differentiable as torch_once  # noqa: E402


def once_differentiable(lib):
    return torch_once if lib is torch else autograd.once_differentiable


def grad(lib):
    return torch.autograd.grad if lib is torch else autograd.grad


def leaf(lib, values, requires_grad=True):
    # from a float64 array: lists of Python floats go through the default dtype first here
    return lib.tensor(np.array(values, dtype=np.float64), requires_grad=requires_grad)


def same(program):
    """Run ``program(lib)`` on both libraries; compare every returned tensor/value."""
    theirs, ours = program(torch), program(autograd)
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if isinstance(b, torch.Tensor) or isinstance(a, autograd.Tensor):
            np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-13, atol=1e-15,
                                       err_msg=f'result {i}')
        else:
            assert a == b, f'result {i}: {a!r} != {b!r}'
    return ours


def raised(program, lib):
    with pytest.raises(Exception) as e:
        program(lib)
    return e.value


def same_error(program):
    """Both raise; ours with PyTorch's exception type and message."""
    theirs, ours = raised(program, torch), raised(program, autograd)
    assert type(ours) is type(theirs), f'{type(ours).__name__}: {ours}'
    return ours, theirs


# ----------------------------------------------------------------------------- Functions

def scale(lib):
    """forward(x, k, name) = x k: the non-tensor arguments get None gradients."""
    def forward(ctx, x, k, name):
        ctx.k = k
        ctx.name = name
        return x * k
    return function(lib, 'Scale', forward, lambda ctx, g: (g * ctx.k, None, None))


def split(lib):
    """Two outputs, x*2 and x^2."""
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * 2, x * x

    def backward(ctx, g1, g2):
        x, = ctx.saved_tensors
        return g1 * 2 + g2 * 2 * x
    return function(lib, 'Split', forward, backward)


def square_once_differentiable(lib):
    """x^2 whose backward 2 x g is marked once_differentiable."""
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @once_differentiable(lib)
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return 2 * x * g
    return function(lib, 'Sq', forward, backward)


def doubling(lib, name, backward):
    """forward x -> 2 x with the given (possibly wrong) ``backward(ctx, g)``."""
    return function(lib, name, lambda ctx, x: x * 2, backward)


# ----------------------------------------------------------------------------- tests

def test_forward_backward_and_double_backward_match_pytorch():
    def program(lib):
        x = leaf(lib, [0.5, -1.5, 2.0])
        y = cube(lib).apply(x)
        g, = grad(lib)(y.sum(), x, create_graph=True)          # 3x^2
        g2, = grad(lib)(g.sum(), x, create_graph=True)         # 6x
        g3, = grad(lib)(g2.sum(), x)                           # 6
        return y, g, g2, g3

    _, g, g2, g3 = same(program)
    np.testing.assert_array_equal(to_numpy(g3), [6.0, 6.0, 6.0])


def test_saving_an_output_and_differentiating_through_it():
    def program(lib):
        x = leaf(lib, [[0.1, 0.2], [0.3, -0.4]])
        y = scaled_exp(lib).apply(x * 2)
        g, = grad(lib)((y * y).sum(), x, create_graph=True)
        g2, = grad(lib)((g * g).sum(), x)
        return y, g, g2

    same(program)


def test_needs_input_grad():
    def program(lib):
        seen = []

        def forward(ctx, a, b, k):
            seen.append(tuple(ctx.needs_input_grad))
            return a * b * k

        Probe = function(lib, 'Probe', forward, lambda ctx, g: (g, None, None))
        Probe.apply(leaf(lib, [1.0]), leaf(lib, [2.0], requires_grad=False), 3)
        Probe.apply(leaf(lib, [1.0], requires_grad=False), leaf(lib, [2.0]), 3)
        return seen

    assert same(program) == [(True, False, False), (False, True, False)]


def test_forward_runs_without_recording_and_output_requires_grad():
    def program(lib):
        modes = []

        def forward(ctx, x):
            modes.append(lib.is_grad_enabled())
            return x * 2

        y = function(lib, 'Probe', forward, lambda ctx, g: g * 2).apply(leaf(lib, [1.0]))
        return modes, y.requires_grad, y.grad_fn.name()

    assert same(program)[2] == 'ProbeBackward'


def test_non_tensor_arguments():
    def program(lib):
        x = leaf(lib, [1.0, 2.0])
        y = scale(lib).apply(x, 3.0, 'three')
        y.sum().backward()
        return y, x.grad

    same(program)


def test_multiple_outputs_sum_their_gradients():
    def program(lib):
        x = leaf(lib, [1.0, -2.0])
        a, b = split(lib).apply(x)
        (a * 3 + b).sum().backward()                     # 3*2 + 2x
        return a, b, x.grad

    same(program)


def test_unused_output_gets_zeros_by_default_and_none_without_materialize():
    def program(lib, materialize):
        seen = []

        def forward(ctx, x):
            ctx.set_materialize_grads(materialize)
            return x * 2, x * 3

        def backward(ctx, g1, g2):
            seen.append(g2 if g2 is None else to_numpy(g2).tolist())
            return g1 * 2

        x = leaf(lib, [1.0, 1.0])
        a, _ = function(lib, 'Two', forward, backward).apply(x)
        a.sum().backward()
        return seen, x.grad

    for materialize, expected in ((True, [[0.0, 0.0]]), (False, [None])):
        seen, _ = same(lambda lib: program(lib, materialize))
        assert seen == expected


def test_mark_non_differentiable():
    def program(lib):
        def forward(ctx, x):
            mask = x > 0
            ctx.mark_non_differentiable(mask)
            return x * 2, mask

        x = leaf(lib, [1.0, -1.0])
        y, mask = function(lib, 'SortLike', forward, lambda ctx, g, g_mask: g * 2).apply(x)
        y.sum().backward()
        return y.requires_grad, mask.requires_grad, mask.grad_fn is None, x.grad

    assert same(program)[:3] == (True, False, True)


def test_mark_non_differentiable_float_output():
    def program(lib):
        def forward(ctx, x):
            c = x * 0 + 1
            ctx.mark_non_differentiable(c)
            return x * 2, c

        WithConst = function(lib, 'WithConst', forward, lambda ctx, g, gc: g * 2)
        y, c = WithConst.apply(leaf(lib, [1.0]))
        return y.requires_grad, c.requires_grad

    assert same(program) == (True, False)


def test_mark_dirty_in_place_forward():
    def program(lib):
        def forward(ctx, a):
            a.mul_(2)
            ctx.mark_dirty(a)
            return a

        x = leaf(lib, [1.0, 3.0])
        a = x * 1
        v = a._version
        out = function(lib, 'Double_', forward, lambda ctx, g: g * 2).apply(a)
        out.sum().backward()
        return out is a, a._version - v, a.grad_fn.name(), a, x.grad

    assert same(program)[:3] == (True, 2, 'Double_Backward')     # the op and mark_dirty


def test_returning_an_input_unchanged_gives_a_new_tensor():
    def program(lib):
        x = leaf(lib, [1.0])
        y = function(lib, 'Ident', lambda ctx, x: x, lambda ctx, g: g * 5).apply(x)
        y.sum().backward()
        return y is x, y.grad_fn is not None, x.grad

    assert same(program)[:2] == (False, True)


def test_setup_context_style():
    def program(lib):
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs)

        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return g * b, g * a

        Mul = function(lib, 'Mul', lambda a, b: a * b, backward, setup_context)
        a, b = leaf(lib, [2.0]), leaf(lib, [5.0])
        Mul.apply(a, b).sum().backward()
        return a.grad, b.grad

    same(program)


def test_gradient_cast_to_input_dtype():
    def program(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float32, requires_grad=True)
        doubling(lib, 'Wide', lambda ctx, g: (g * 2).double()).apply(x).sum().backward()
        return str(x.grad.dtype).split('.')[-1], x.grad

    same(program)


# ----------------------------------------------------------------------------- errors

def test_wrong_number_of_gradients():
    def program(lib):
        TooFew = function(lib, 'TooFew', lambda ctx, x, y: x * y, lambda ctx, g: g)
        TooFew.apply(leaf(lib, [1.0]), leaf(lib, [2.0])).sum().backward()

    ours, theirs = same_error(program)
    assert str(ours) == str(theirs)


def test_extra_none_gradients_are_ignored():
    def program(lib):
        x = leaf(lib, [1.0])
        doubling(lib, 'Extra', lambda ctx, g: (g * 2, None, None)).apply(x).sum().backward()
        return x.grad,

    same(program)


def test_gradient_of_the_wrong_shape():
    def program(lib):
        BadShape = doubling(lib, 'BadShape', lambda ctx, g: lib.ones(3, dtype=lib.float64))
        BadShape.apply(leaf(lib, [1.0, 2.0])).sum().backward()

    ours, theirs = same_error(program)
    assert str(ours) == str(theirs)


def test_saved_tensors_after_backward_are_freed():
    def program(lib):
        x = leaf(lib, [1.0])
        y = cube(lib).apply(x)
        y.sum().backward()
        return y.grad_fn.saved_tensors

    ours, theirs = same_error(program)
    assert 'backward through the graph a second time' in str(ours)
    assert 'backward through the graph a second time' in str(theirs)


def test_second_backward_through_a_custom_function_raises():
    def program(lib):
        x = leaf(lib, [1.0])
        y = cube(lib).apply(x).sum()
        y.backward()
        y.backward()

    ours, _ = same_error(program)
    assert 'retain_graph=True' in str(ours)


def test_retain_graph_keeps_saved_tensors():
    def program(lib):
        x = leaf(lib, [2.0])
        y = cube(lib).apply(x).sum()
        y.backward(retain_graph=True)
        y.backward()
        return x.grad,

    same(program)


def test_inplace_change_to_a_saved_input_raises():
    def program(lib):
        x = leaf(lib, [1.0])
        a = x * 1
        y = cube(lib).apply(a)
        a.add_(1)
        y.sum().backward()

    ours, theirs = same_error(program)
    assert 'modified by an inplace operation' in str(ours)


def test_once_differentiable_first_order_works():
    def program(lib):
        x = leaf(lib, [3.0])
        square_once_differentiable(lib).apply(x).sum().backward()
        return x.grad,

    same(program)


def test_once_differentiable_refuses_double_backward():
    def program(lib):
        x = leaf(lib, [3.0])
        g, = grad(lib)(square_once_differentiable(lib).apply(x).sum(), x, create_graph=True)
        grad(lib)(g.sum(), x)

    ours, theirs = same_error(program)
    assert str(ours) == str(theirs)


def test_function_class_is_not_instantiated_for_apply():
    x = autograd.tensor([1.0], dtype=autograd.float64, requires_grad=True)
    y = cube(autograd).apply(x)
    assert type(y.grad_fn).__name__ != 'Cube'
    assert y.grad_fn.name() == 'CubeBackward'
