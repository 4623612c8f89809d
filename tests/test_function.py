"""Custom ``autograd.Function``: the same class body runs on PyTorch and here, and must give
the same values, gradients, second derivatives and errors."""
import numpy as np
import pytest

import autograd
from oracle import to_numpy

torch = pytest.importorskip('torch')
from torch.autograd.function import once_differentiable as torch_once  # noqa: E402

LIBS = (torch, autograd)


def Function(lib):
    return torch.autograd.Function if lib is torch else autograd.Function


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

def make_cube(lib):
    class Cube(Function(lib)):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * 3 * x ** 2           # tensor ops: differentiable again
    return Cube


def make_exp(lib):
    class MyExp(Function(lib)):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)        # saves its own output
            return y

        @staticmethod
        def backward(ctx, g):
            y, = ctx.saved_tensors
            return g * y
    return MyExp


def make_scale(lib):
    class Scale(Function(lib)):
        """forward(x, k, name): non-tensor arguments get None gradients."""
        @staticmethod
        def forward(ctx, x, k, name):
            ctx.k = k
            ctx.name = name
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g * ctx.k, None, None
    return Scale


def make_split(lib):
    class Split(Function(lib)):
        """Two outputs, x*2 and x^2."""
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2, x * x

        @staticmethod
        def backward(ctx, g1, g2):
            x, = ctx.saved_tensors
            return g1 * 2 + g2 * 2 * x
    return Split


# ----------------------------------------------------------------------------- tests

def test_forward_backward_and_double_backward_match_pytorch():
    def program(lib):
        x = leaf(lib, [0.5, -1.5, 2.0])
        y = make_cube(lib).apply(x)
        g, = grad(lib)(y.sum(), x, create_graph=True)          # 3x^2
        g2, = grad(lib)(g.sum(), x, create_graph=True)         # 6x
        g3, = grad(lib)(g2.sum(), x)                           # 6
        return y, g, g2, g3

    _, g, g2, g3 = same(program)
    np.testing.assert_array_equal(to_numpy(g3), [6.0, 6.0, 6.0])


def test_saving_an_output_and_differentiating_through_it():
    def program(lib):
        x = leaf(lib, [[0.1, 0.2], [0.3, -0.4]])
        y = make_exp(lib).apply(x * 2)
        g, = grad(lib)((y * y).sum(), x, create_graph=True)
        g2, = grad(lib)((g * g).sum(), x)
        return y, g, g2

    same(program)


def test_needs_input_grad():
    def program(lib):
        seen = []

        class Probe(Function(lib)):
            @staticmethod
            def forward(ctx, a, b, k):
                seen.append(tuple(ctx.needs_input_grad))
                return a * b * k

            @staticmethod
            def backward(ctx, g):
                return g, None, None

        Probe.apply(leaf(lib, [1.0]), leaf(lib, [2.0], requires_grad=False), 3)
        Probe.apply(leaf(lib, [1.0], requires_grad=False), leaf(lib, [2.0]), 3)
        return seen

    assert same(program) == [(True, False, False), (False, True, False)]


def test_forward_runs_without_recording_and_output_requires_grad():
    def program(lib):
        modes = []

        class Probe(Function(lib)):
            @staticmethod
            def forward(ctx, x):
                modes.append(lib.is_grad_enabled())
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2

        y = Probe.apply(leaf(lib, [1.0]))
        return modes, y.requires_grad, y.grad_fn.name()

    assert same(program)[2] == 'ProbeBackward'


def test_non_tensor_arguments():
    def program(lib):
        x = leaf(lib, [1.0, 2.0])
        y = make_scale(lib).apply(x, 3.0, 'three')
        y.sum().backward()
        return y, x.grad

    same(program)


def test_multiple_outputs_sum_their_gradients():
    def program(lib):
        x = leaf(lib, [1.0, -2.0])
        a, b = make_split(lib).apply(x)
        (a * 3 + b).sum().backward()                     # 3*2 + 2x
        return a, b, x.grad

    same(program)


def test_unused_output_gets_zeros_by_default_and_none_without_materialize():
    def program(lib, materialize):
        seen = []

        class Two(Function(lib)):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(materialize)
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, g1, g2):
                seen.append(g2 if g2 is None else to_numpy(g2).tolist())
                return g1 * 2

        x = leaf(lib, [1.0, 1.0])
        a, _ = Two.apply(x)
        a.sum().backward()
        return seen, x.grad

    for materialize, expected in ((True, [[0.0, 0.0]]), (False, [None])):
        seen, _ = same(lambda lib: program(lib, materialize))
        assert seen == expected


def test_mark_non_differentiable():
    def program(lib):
        class SortLike(Function(lib)):
            @staticmethod
            def forward(ctx, x):
                mask = x > 0
                ctx.mark_non_differentiable(mask)
                return x * 2, mask

            @staticmethod
            def backward(ctx, g, g_mask):
                return g * 2

        x = leaf(lib, [1.0, -1.0])
        y, mask = SortLike.apply(x)
        y.sum().backward()
        return y.requires_grad, mask.requires_grad, mask.grad_fn is None, x.grad

    assert same(program)[:3] == (True, False, True)


def test_mark_non_differentiable_float_output():
    def program(lib):
        class WithConst(Function(lib)):
            @staticmethod
            def forward(ctx, x):
                c = x * 0 + 1
                ctx.mark_non_differentiable(c)
                return x * 2, c

            @staticmethod
            def backward(ctx, g, gc):
                return g * 2

        y, c = WithConst.apply(leaf(lib, [1.0]))
        return y.requires_grad, c.requires_grad

    assert same(program) == (True, False)


def test_mark_dirty_in_place_forward():
    def program(lib):
        class Double_(Function(lib)):
            @staticmethod
            def forward(ctx, a):
                a.mul_(2)
                ctx.mark_dirty(a)
                return a

            @staticmethod
            def backward(ctx, g):
                return g * 2

        x = leaf(lib, [1.0, 3.0])
        a = x * 1
        v = a._version
        out = Double_.apply(a)
        out.sum().backward()
        return out is a, a._version - v, a.grad_fn.name(), a, x.grad

    assert same(program)[:3] == (True, 2, 'Double_Backward')     # the op and mark_dirty


def test_returning_an_input_unchanged_gives_a_new_tensor():
    def program(lib):
        class Ident(Function(lib)):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 5

        x = leaf(lib, [1.0])
        y = Ident.apply(x)
        y.sum().backward()
        return y is x, y.grad_fn is not None, x.grad

    assert same(program)[:2] == (False, True)


def test_setup_context_style():
    def program(lib):
        class Mul(Function(lib)):
            @staticmethod
            def forward(a, b):
                return a * b

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.save_for_backward(*inputs)

            @staticmethod
            def backward(ctx, g):
                a, b = ctx.saved_tensors
                return g * b, g * a

        a, b = leaf(lib, [2.0]), leaf(lib, [5.0])
        Mul.apply(a, b).sum().backward()
        return a.grad, b.grad

    same(program)


def test_gradient_cast_to_input_dtype():
    def program(lib):
        class Wide(Function(lib)):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return (g * 2).double()

        x = lib.tensor([1.0, 2.0], dtype=lib.float32, requires_grad=True)
        Wide.apply(x).sum().backward()
        return str(x.grad.dtype).split('.')[-1], x.grad

    same(program)


# ----------------------------------------------------------------------------- errors

def test_wrong_number_of_gradients():
    def program(lib):
        class TooFew(Function(lib)):
            @staticmethod
            def forward(ctx, x, y):
                return x * y

            @staticmethod
            def backward(ctx, g):
                return g

        TooFew.apply(leaf(lib, [1.0]), leaf(lib, [2.0])).sum().backward()

    ours, theirs = same_error(program)
    assert str(ours) == str(theirs)


def test_extra_none_gradients_are_ignored():
    def program(lib):
        class Extra(Function(lib)):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2, None, None

        x = leaf(lib, [1.0])
        Extra.apply(x).sum().backward()
        return x.grad,

    same(program)


def test_gradient_of_the_wrong_shape():
    def program(lib):
        class BadShape(Function(lib)):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return lib.ones(3, dtype=lib.float64)

        BadShape.apply(leaf(lib, [1.0, 2.0])).sum().backward()

    ours, theirs = same_error(program)
    assert str(ours) == str(theirs)


def test_saved_tensors_after_backward_are_freed():
    def program(lib):
        x = leaf(lib, [1.0])
        y = make_cube(lib).apply(x)
        y.sum().backward()
        return y.grad_fn.saved_tensors

    ours, theirs = same_error(program)
    assert 'backward through the graph a second time' in str(ours)
    assert 'backward through the graph a second time' in str(theirs)


def test_second_backward_through_a_custom_function_raises():
    def program(lib):
        x = leaf(lib, [1.0])
        y = make_cube(lib).apply(x).sum()
        y.backward()
        y.backward()

    ours, _ = same_error(program)
    assert 'retain_graph=True' in str(ours)


def test_retain_graph_keeps_saved_tensors():
    def program(lib):
        x = leaf(lib, [2.0])
        y = make_cube(lib).apply(x).sum()
        y.backward(retain_graph=True)
        y.backward()
        return x.grad,

    same(program)


def test_inplace_change_to_a_saved_input_raises():
    def program(lib):
        x = leaf(lib, [1.0])
        a = x * 1
        y = make_cube(lib).apply(a)
        a.add_(1)
        y.sum().backward()

    ours, theirs = same_error(program)
    assert 'modified by an inplace operation' in str(ours)


def test_once_differentiable_first_order_works():
    def program(lib):
        class Sq(Function(lib)):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            @once_differentiable(lib)
            def backward(ctx, g):
                x, = ctx.saved_tensors
                return 2 * x * g

        x = leaf(lib, [3.0])
        Sq.apply(x).sum().backward()
        return x.grad,

    same(program)


def test_once_differentiable_refuses_double_backward():
    def program(lib):
        class Sq(Function(lib)):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            @once_differentiable(lib)
            def backward(ctx, g):
                x, = ctx.saved_tensors
                return 2 * x * g

        x = leaf(lib, [3.0])
        g, = grad(lib)(Sq.apply(x).sum(), x, create_graph=True)
        grad(lib)(g.sum(), x)

    ours, theirs = same_error(program)
    assert str(ours) == str(theirs)


def test_function_class_is_not_instantiated_for_apply():
    x = autograd.tensor([1.0], dtype=autograd.float64, requires_grad=True)
    y = make_cube(autograd).apply(x)
    assert type(y.grad_fn).__name__ != 'Cube'
    assert y.grad_fn.name() == 'CubeBackward'
