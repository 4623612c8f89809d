"""Custom ``autograd.Function``: the same class body runs on PyTorch and here, and must give
the same values, gradients, second derivatives and errors, which are also written out by
hand (so that without PyTorch ours is checked against those)."""
import numpy as np
import pytest

import autograd
from custom_functions import cube, function, scaled_exp
from oracle import HAVE_TORCH, is_torch_tensor, to_numpy, torch


def once_differentiable(lib):
    if lib is torch:
        from torch.autograd.function import once_differentiable as torch_once
        return torch_once
    return autograd.once_differentiable


def grad(lib):
    return torch.autograd.grad if lib is torch else autograd.grad


def leaf(lib, values, requires_grad=True):
    # from a float64 array: lists of Python floats go through the default dtype first here
    return lib.tensor(np.array(values, dtype=np.float64), requires_grad=requires_grad)


def agree(ours, theirs, whose):
    """Every returned tensor/value of ours equals theirs (tensors, or lists for values
    written by hand)."""
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if is_torch_tensor(b) or isinstance(a, autograd.Tensor):
            np.testing.assert_allclose(to_numpy(a), to_numpy(b) if is_torch_tensor(b) else b,
                                       rtol=1e-13, atol=1e-15, err_msg=f'result {i} ({whose})')
        else:
            assert a == b, f'result {i}: {a!r} != {b!r} ({whose})'


def same(program, expected):
    """Run ``program(lib)`` on both libraries (ours alone without PyTorch); every returned
    tensor/value equals PyTorch's and the ``expected`` one (derived by hand)."""
    ours = program(autograd)
    agree(ours, expected, 'expected')
    if HAVE_TORCH:
        agree(ours, program(torch), 'PyTorch')
    return ours


def raised(program, lib):
    with pytest.raises(Exception) as e:
        program(lib)
    return e.value


def same_error(program, exc, message=None):
    """Ours raises ``exc`` (exactly), with ``message`` if given; so does PyTorch, where
    installed.  Returns our error."""
    for lib in (autograd, torch) if HAVE_TORCH else (autograd,):
        error = raised(program, lib)
        assert type(error) is exc, f'{lib.__name__}: {type(error).__name__}: {error}'
        if message is not None:
            assert str(error) == message, lib.__name__
        if lib is autograd:
            ours = error
    return ours


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

    *_, g3 = same(program, [[0.125, -3.375, 8.0], [0.75, 6.75, 12.0], [3.0, -9.0, 12.0],
                            [6.0, 6.0, 6.0]])
    np.testing.assert_array_equal(to_numpy(g3), [6.0, 6.0, 6.0])


def test_saving_an_output_and_differentiating_through_it():
    def program(lib):
        x = leaf(lib, [[0.1, 0.2], [0.3, -0.4]])
        y = scaled_exp(lib).apply(x * 2)
        g, = grad(lib)((y * y).sum(), x, create_graph=True)
        g2, = grad(lib)((g * g).sum(), x)
        return y, g, g2

    # y = e^(2x); d/dx sum(y^2) = 4 e^(4x); d/dx sum((4 e^(4x))^2) = 128 e^(8x)
    x = np.array([[0.1, 0.2], [0.3, -0.4]])
    same(program, [np.exp(2 * x), 4 * np.exp(4 * x), 128 * np.exp(8 * x)])


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

    same(program, [(True, False, False), (False, True, False)])


def test_forward_runs_without_recording_and_output_requires_grad():
    def program(lib):
        modes = []

        def forward(ctx, x):
            modes.append(lib.is_grad_enabled())
            return x * 2

        y = function(lib, 'Probe', forward, lambda ctx, g: g * 2).apply(leaf(lib, [1.0]))
        return modes, y.requires_grad, y.grad_fn.name()

    same(program, ([False], True, 'ProbeBackward'))


def test_non_tensor_arguments():
    def program(lib):
        x = leaf(lib, [1.0, 2.0])
        y = scale(lib).apply(x, 3.0, 'three')
        y.sum().backward()
        return y, x.grad

    same(program, [[3.0, 6.0], [3.0, 3.0]])


def test_multiple_outputs_sum_their_gradients():
    def program(lib):
        x = leaf(lib, [1.0, -2.0])
        a, b = split(lib).apply(x)
        (a * 3 + b).sum().backward()                     # 3*2 + 2x
        return a, b, x.grad

    same(program, [[2.0, -4.0], [1.0, 4.0], [8.0, 2.0]])


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

    for materialize, seen in ((True, [[0.0, 0.0]]), (False, [None])):
        same(lambda lib: program(lib, materialize), (seen, [2.0, 2.0]))


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

    same(program, (True, False, True, [2.0, 2.0]))


def test_mark_non_differentiable_float_output():
    def program(lib):
        def forward(ctx, x):
            c = x * 0 + 1
            ctx.mark_non_differentiable(c)
            return x * 2, c

        WithConst = function(lib, 'WithConst', forward, lambda ctx, g, gc: g * 2)
        y, c = WithConst.apply(leaf(lib, [1.0]))
        return y.requires_grad, c.requires_grad

    same(program, (True, False))


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

    # the version: one bump for mul_, one for mark_dirty; a = 2x, d(2a)/dx = 2
    same(program, (True, 2, 'Double_Backward', [2.0, 6.0], [2.0, 2.0]))


def test_returning_an_input_unchanged_gives_a_new_tensor():
    def program(lib):
        x = leaf(lib, [1.0])
        y = function(lib, 'Ident', lambda ctx, x: x, lambda ctx, g: g * 5).apply(x)
        y.sum().backward()
        return y is x, y.grad_fn is not None, x.grad

    same(program, (False, True, [5.0]))


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

    same(program, [[5.0], [2.0]])


def test_gradient_cast_to_input_dtype():
    def program(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float32, requires_grad=True)
        doubling(lib, 'Wide', lambda ctx, g: (g * 2).double()).apply(x).sum().backward()
        return str(x.grad.dtype).split('.')[-1], x.grad

    same(program, ('float32', [2.0, 2.0]))


# ----------------------------------------------------------------------------- errors

def test_wrong_number_of_gradients():
    def program(lib):
        TooFew = function(lib, 'TooFew', lambda ctx, x, y: x * y, lambda ctx, g: g)
        TooFew.apply(leaf(lib, [1.0]), leaf(lib, [2.0])).sum().backward()

    same_error(program, RuntimeError, 'function TooFewBackward returned an incorrect number '
                                      'of gradients (expected 2, got 1)')


def test_extra_none_gradients_are_ignored():
    def program(lib):
        x = leaf(lib, [1.0])
        doubling(lib, 'Extra', lambda ctx, g: (g * 2, None, None)).apply(x).sum().backward()
        return x.grad,

    same(program, [[2.0]])


def test_gradient_of_the_wrong_shape():
    def program(lib):
        BadShape = doubling(lib, 'BadShape', lambda ctx, g: lib.ones(3, dtype=lib.float64))
        BadShape.apply(leaf(lib, [1.0, 2.0])).sum().backward()

    same_error(program, RuntimeError, 'Function BadShapeBackward returned an invalid gradient '
                                      'at index 0 - got [3] but expected shape compatible '
                                      'with [2]')


def test_saved_tensors_after_backward_are_freed():
    def program(lib):
        x = leaf(lib, [1.0])
        y = cube(lib).apply(x)
        y.sum().backward()
        return y.grad_fn.saved_tensors

    assert 'backward through the graph a second time' in str(same_error(program, RuntimeError))


def test_second_backward_through_a_custom_function_raises():
    def program(lib):
        x = leaf(lib, [1.0])
        y = cube(lib).apply(x).sum()
        y.backward()
        y.backward()

    assert 'retain_graph=True' in str(same_error(program, RuntimeError))


def test_retain_graph_keeps_saved_tensors():
    def program(lib):
        x = leaf(lib, [2.0])
        y = cube(lib).apply(x).sum()
        y.backward(retain_graph=True)
        y.backward()
        return x.grad,

    same(program, [[24.0]])          # twice 3 x^2 at x = 2


def test_inplace_change_to_a_saved_input_raises():
    def program(lib):
        x = leaf(lib, [1.0])
        a = x * 1
        y = cube(lib).apply(a)
        a.add_(1)
        y.sum().backward()

    assert 'modified by an inplace operation' in str(same_error(program, RuntimeError))


def test_once_differentiable_first_order_works():
    def program(lib):
        x = leaf(lib, [3.0])
        square_once_differentiable(lib).apply(x).sum().backward()
        return x.grad,

    same(program, [[6.0]])


def test_once_differentiable_refuses_double_backward():
    def program(lib):
        x = leaf(lib, [3.0])
        g, = grad(lib)(square_once_differentiable(lib).apply(x).sum(), x, create_graph=True)
        grad(lib)(g.sum(), x)

    same_error(program, RuntimeError,
               'element 0 of tensors does not require grad and does not have a grad_fn')


def test_function_class_is_not_instantiated_for_apply():
    x = autograd.tensor([1.0], dtype=autograd.float64, requires_grad=True)
    y = cube(autograd).apply(x)
    assert type(y.grad_fn).__name__ != 'Cube'
    assert y.grad_fn.name() == 'CubeBackward'
