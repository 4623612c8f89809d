"""gradcheck / gradgradcheck: pass on correct gradients, catch wrong ones, agree with
PyTorch's verdict on the same programs (where PyTorch is installed: each library is held
to the same written verdict)."""
import warnings

import numpy as np
import pytest

import autograd
from autograd import GradcheckError, gradcheck, gradgradcheck
from custom_functions import cube, function, scaled_exp
from oracle import each_library, torch


def checks(lib):
    """``lib``'s gradcheck, gradgradcheck and the error they raise."""
    if lib is torch:
        from torch.autograd.gradcheck import GradcheckError as TorchGradcheckError
        return torch.autograd.gradcheck, torch.autograd.gradgradcheck, TorchGradcheckError
    return gradcheck, gradgradcheck, GradcheckError


def inp(lib, *shape, seed=0, low=-1.0, high=1.0):
    a = np.random.default_rng(seed).uniform(low, high, shape)
    return lib.tensor(a, dtype=lib.float64, requires_grad=True)


# ----------------------------------------------------------------------------- gradcheck

CORRECT = {
    'exp': lambda lib: (lambda x: x.exp(), (inp(lib, 3, 2),)),
    'mul_broadcast': lambda lib: (lambda a, b: a * b, (inp(lib, 2, 3), inp(lib, 3, seed=1))),
    'scalar_input': lambda lib: (lambda x: (x * x).sin(), (inp(lib),)),
    'two_outputs': lambda lib: (lambda a, b: (a * b, a.exp() + b),
                                (inp(lib, 2), inp(lib, 2, seed=2))),
    'custom_function': lambda lib: (cube(lib).apply, (inp(lib, 4),)),
    'non_tensor_argument': lambda lib: (lambda x, k: x ** k, (inp(lib, 3, low=0.5, high=2), 3)),
    'constant_input': lambda lib: (
        lambda a, b: a / b,
        (inp(lib, 3), lib.tensor([1.5, 2.0, -3.0], dtype=lib.float64))),
}


@pytest.mark.parametrize('case', sorted(CORRECT))
def test_gradcheck_passes_on_correct_gradients(case):
    for lib in each_library(autograd, torch):
        fn, inputs = CORRECT[case](lib)
        assert checks(lib)[0](fn, inputs) is True


@pytest.mark.parametrize('case', sorted(CORRECT))
def test_gradgradcheck_passes_on_correct_gradients(case):
    fn, inputs = CORRECT[case](autograd)
    assert gradgradcheck(fn, inputs) is True


def test_gradcheck_accepts_a_single_tensor():
    assert gradcheck(lambda x: x.tanh(), inp(autograd, 3))


def test_wrong_backward_raises_gradcheck_error_naming_indices_and_jacobians():
    x = autograd.tensor([1.0, 2.0], dtype=autograd.float64, requires_grad=True)
    with pytest.raises(GradcheckError) as e:
        gradcheck(cube(autograd, wrong_first=True).apply, (x,))
    msg = str(e.value)
    assert msg.startswith('Jacobian mismatch for output 0 with respect to input 0,\n')
    # numerical: diag(3 x^2) = diag(3, 12); analytical: diag(2 x^2) = diag(2, 8)
    numerical, analytical = msg.split('analytical:')
    assert '12.' in numerical and '3.' in numerical
    assert '8.' in analytical and '2.' in analytical
    for lib in each_library(torch):
        check, _, error = checks(lib)
        with pytest.raises(error):
            check(cube(lib, wrong_first=True).apply,
                  (lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True),))


def test_gradcheck_error_is_a_runtime_error_importable_from_the_module():
    from autograd.gradcheck import GradcheckError as FromModule
    assert FromModule is GradcheckError and issubclass(GradcheckError, RuntimeError)


def test_mismatch_names_the_failing_output_and_input():
    def fn(a, b):
        return a * 2, cube(autograd, wrong_first=True).apply(b)
    with pytest.raises(GradcheckError, match='output 1 with respect to input 1'):
        gradcheck(fn, (inp(autograd, 2), inp(autograd, 2, seed=3)))


def test_raise_exception_false_returns_false():
    x = inp(autograd, 3)
    assert gradcheck(cube(autograd, wrong_first=True).apply, (x,), raise_exception=False) is False


def test_tolerances_are_respected():
    x = inp(autograd, 3)
    f = scaled_exp(autograd, 1 + 1e-5).apply             # relative error 1e-5
    assert gradcheck(f, (x,), rtol=1e-3)
    with pytest.raises(GradcheckError):
        gradcheck(f, (x,), rtol=1e-7, atol=0)


def test_float32_inputs_warn_as_pytorch():
    x = autograd.tensor([0.5, 1.0], requires_grad=True)             # float32
    with pytest.warns(UserWarning, match='Input #0 requires gradient and is not a double'):
        assert gradcheck(lambda x: x * 2, (x,), eps=1e-2, atol=1e-2, rtol=1e-2)


def test_no_input_requiring_grad_raises_value_error():
    x = autograd.tensor([1.0], dtype=autograd.float64)
    with pytest.raises(ValueError, match='at least one input tensor to require gradient'):
        gradcheck(lambda x: x * 2, (x,))


def test_non_deterministic_backward_is_caught():
    calls = []

    def backward(ctx, g):
        calls.append(1)
        return g * (2 + 1e-4 * len(calls))              # a different value on every call

    flaky = function(autograd, 'Flaky', lambda ctx, x: x * 2, backward)
    with pytest.raises(GradcheckError, match='not reentrant'):
        gradcheck(flaky.apply, (inp(autograd, 2),), atol=1e-2)


def test_backward_must_scale_with_grad_output():
    def program(lib):
        def backward(ctx, g):
            # right for unit vectors, wrong for a zero grad_output
            return g * 2 if g.abs().sum().item() != 0 else g + 1
        return function(lib, 'Offset', lambda ctx, x: x * 2, backward).apply

    for lib in each_library(autograd, torch):
        check, _, error = checks(lib)
        with pytest.raises(error, match='backward not multiplied by grad_output'):
            check(program(lib), (inp(lib, 2),), check_undefined_grad=False)


def test_inputs_are_restored_after_the_check():
    # gradcheck perturbs the inputs' storage; they come back unchanged
    x = inp(autograd, 2, 2)
    before = x.detach().cpu().numpy().copy()
    gradcheck(lambda x: x.exp(), (x,))
    np.testing.assert_array_equal(x.detach().cpu().numpy(), before)
    assert x.grad is None


def test_function_without_differentiable_outputs():
    x = inp(autograd, 3)
    assert gradcheck(lambda x: (x > 0), (x,))


# ----------------------------------------------------------------------------- gradgradcheck

def test_gradgradcheck_catches_a_backward_that_is_not_differentiable_correctly():
    for lib in each_library(autograd, torch):
        check, check2, error = checks(lib)
        x = inp(lib, 3, seed=4)
        f = cube(lib, wrong_second=True).apply
        assert check(f, (x,))
        with pytest.raises(error, match='Jacobian mismatch'):
            check2(f, (x,))


def test_gradgradcheck_with_given_grad_outputs():
    x = inp(autograd, 2, 3)
    v = autograd.tensor(np.random.default_rng(5).uniform(-1, 1, (2, 3)), dtype=autograd.float64,
                        requires_grad=True)
    assert gradgradcheck(lambda x: x.sin() * x, (x,), (v,))


@pytest.mark.parametrize('fn', [
    lambda x: x.exp(), lambda x: x.sin() * x, lambda x: x ** 3, lambda x: (x * x).sum(),
    lambda x: x.sqrt(), lambda x: x.tanh(), lambda x: x.sigmoid()])
def test_gradgradcheck_on_elementwise_ops(fn):
    assert gradgradcheck(fn, (inp(autograd, 2, 2, low=0.5, high=2.0),))


def test_gradgradcheck_verdicts_agree_with_pytorch():
    for wrong in (False, True):
        for lib in each_library(autograd, torch):
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                verdict = checks(lib)[1](cube(lib, wrong_second=wrong).apply, (inp(lib, 3),),
                                         raise_exception=False)
            assert verdict == (not wrong), lib


def test_unsupported_modes_say_so():
    with pytest.raises(NotImplementedError, match='fast_mode'):
        gradcheck(lambda x: x, (inp(autograd, 1),), fast_mode=True)


def test_gradcheck_accepts_empty_inputs():
    """PyTorch's gradcheck passes for a size-0 input (NumPy gives empty arrays zero strides,
    which is no overlap)."""
    x = autograd.zeros(0, 3, dtype=autograd.float64, requires_grad=True)
    assert autograd.gradcheck(lambda t: t * 2, (x,))
