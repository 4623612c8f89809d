"""Complex tensors against PyTorch: dtypes and promotion, creation and printing, the ops
that take complex values apart and put them together, arithmetic, matmul and reductions
on complex values, with values, first and second derivatives in PyTorch's convention
(the gradient of a real loss with respect to z = x + iy is dL/dx + i dL/dy), gradcheck of
real parametrizations, and the errors of ops that do not support complex tensors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
from oracle import to_numpy, torch

TOL = dict(rtol=1e-9, atol=1e-11)
SETTINGS = settings(max_examples=12, deadline=None, derandomize=True)


def crand(*shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=shape) + 1j * rng.normal(size=shape)


def rrand(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def _lib_grad(lib):
    return torch.autograd.grad if lib is torch else autograd.grad


def _real_loss(lib, outs, seed):
    """A real loss that reads every output, real and imaginary parts with their own weights."""
    rng = np.random.default_rng(seed)
    loss = 0
    for o in outs:
        w = rng.normal(size=tuple(o.shape))
        if o.is_complex():
            v = rng.normal(size=tuple(o.shape))
            loss = loss + (o.real * lib.tensor(w)).sum() + (o.imag * lib.tensor(v)).sum()
        else:
            loss = loss + (o * lib.tensor(w)).sum()
    return loss


def _run(lib, fn, arrays, double):
    xs = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = fn(lib, *xs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    grads = _lib_grad(lib)(_real_loss(lib, outs, 1), xs, create_graph=double)
    results = [to_numpy(o) for o in outs] + [to_numpy(g) for g in grads]
    if double:      # (a loss linear in the inputs has zero second derivatives: no graph)
        loss2 = _real_loss(lib, grads, 2)
        second = _lib_grad(lib)(loss2, xs, allow_unused=True) if loss2.requires_grad else \
            [None] * len(xs)
        results += [np.zeros(x.shape, dtype=to_numpy(x).dtype) if g is None else to_numpy(g)
                    for x, g in zip(xs, second)]
    return results


def check(fn, *arrays, double=True, tol=TOL):
    """``fn(lib, *tensors)`` in both libraries: outputs, gradients of a real loss of all
    outputs, and (``double``) the gradients of a real loss of those gradients."""
    theirs = _run(torch, fn, arrays, double)
    ours = _run(autograd, fn, arrays, double)
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a.shape == b.shape and a.dtype == b.dtype, (i, a.shape, b.shape, a.dtype, b.dtype)
        np.testing.assert_allclose(a, b, err_msg=f'result {i}', **tol)


# ----------------------------------------------------------------------------- dtypes

DTYPES = ['bool', 'uint8', 'int8', 'int16', 'int32', 'int64', 'float16', 'float32', 'float64',
          'complex64', 'complex128']


def test_dtype_names_and_properties():
    assert autograd.cfloat is autograd.complex64 and autograd.cdouble is autograd.complex128
    for name in ('complex64', 'complex128'):
        ours, theirs = getattr(autograd, name), getattr(torch, name)
        assert ours.is_complex == theirs.is_complex is True
        assert ours.is_floating_point == theirs.is_floating_point is False
        assert ours.to_real().name == str(theirs.to_real()).split('.')[1]
        assert ours.itemsize == theirs.itemsize
    assert autograd.float32.to_complex() is autograd.complex64
    assert autograd.float64.to_complex() is autograd.complex128
    assert not autograd.float64.is_complex


def test_promotion_as_pytorch():
    for a in DTYPES:
        for b in DTYPES:
            ours = autograd.promote_types(getattr(autograd, a), getattr(autograd, b))
            assert ours.name == str(torch.promote_types(getattr(torch, a), getattr(torch, b)))[6:]


@pytest.mark.parametrize('real', ['float32', 'float64', 'int64'])
@pytest.mark.parametrize('other', [1j, 2.5, 'c64', 'c128', 'c64_0d'])
def test_result_dtype_of_mixed_operands(real, other):
    results = []
    for lib in (torch, autograd):
        x = lib.ones(3, dtype=getattr(lib, real))
        y = {'c64': lib.ones(3, dtype=lib.complex64), 'c128': lib.ones(3, dtype=lib.complex128),
             'c64_0d': lib.tensor(1j, dtype=lib.complex64)}.get(other, other)
        results.append(((x + y).dtype, (y * x).dtype))
    assert [str(d)[6:] for d in results[0]] == [d.name for d in results[1]]


def test_creation():
    assert autograd.tensor([1 + 2j]).dtype is autograd.complex64
    assert autograd.tensor([1 + 2j], dtype=autograd.complex128).dtype is autograd.complex128
    assert autograd.tensor(np.array([1j])).dtype is autograd.complex128
    assert autograd.tensor([np.complex128(1j)]).dtype is autograd.complex128
    assert autograd.tensor([[1, 2j], [3.5, 4]]).tolist() == [[1, 2j], [3.5, 4]]
    assert autograd.tensor(1 + 2j).item() == 1 + 2j
    assert autograd.zeros(2, dtype=autograd.cfloat).dtype is autograd.complex64
    z = autograd.tensor([1j], requires_grad=True)
    assert z.requires_grad and z.is_complex() and autograd.is_complex(z)
    assert not autograd.tensor([1.0]).is_complex()
    autograd.set_default_dtype(autograd.float64)
    try:
        assert autograd.tensor([1j]).dtype is autograd.complex128
    finally:
        autograd.set_default_dtype(autograd.float32)
    with pytest.raises(RuntimeError, match='floating point and complex dtype can require'):
        autograd.tensor([1, 2], requires_grad=True)


@pytest.mark.parametrize('values', [
    [1 + 2j], [[1.5 + 2j, -3 - 1e-4j], [0j, 1e10j]], 1 + 2j, [1 + 2j, 3 - 10j],
    [0.5 - 0.25j, 1e-5 + 3j, -2.5 + 0j], list(np.arange(12) * (1 + 0.5j))])
@pytest.mark.parametrize('dtype', [None, 'complex128'])
def test_printing_as_pytorch(values, dtype):
    theirs = torch.tensor(values, dtype=None if dtype is None else getattr(torch, dtype))
    ours = autograd.tensor(values, dtype=None if dtype is None else getattr(autograd, dtype))
    assert repr(ours.cpu()) == repr(theirs).replace('torch.', 'autograd.')
    if ours.device.type != 'cpu':       # (PyTorch here has no other device to compare with)
        assert f"device='{ours.device}'" in repr(ours)


@pytest.mark.parametrize('shape', [(30,), (3, 9), (2, 3, 11), (1500,), (40, 40)])
@pytest.mark.parametrize('scale', [1.0, 1000.0, 1e-5])
def test_printing_random_complex_as_pytorch(shape, scale):
    z = crand(*shape, seed=3) * scale
    ours = autograd.tensor(z).cpu()
    assert repr(ours) == repr(torch.tensor(z)).replace('torch.', 'autograd.')


def test_printing_with_grad_fn():
    z = autograd.tensor([1j], requires_grad=True) * 2
    assert repr(z).startswith('tensor([0.+2.j]') and repr(z).endswith('grad_fn=<MulBackward0>)')


# ----------------------------------------------------------------------------- the parts

@pytest.mark.parametrize('shape', [(3,), (2, 3), (2, 1, 4)])
def test_parts(shape):
    z = crand(*shape, seed=1)
    check(lambda lib, z: (z.real, z.imag, lib.real(z), lib.imag(z), z.conj().resolve_conj(),
                          lib.conj_physical(z), z.abs(), lib.angle(z)), z)
    check(lambda lib, z: lib.view_as_real(z), z)
    check(lambda lib, z: lib.sgn(z) * z.sgn(), z)


@pytest.mark.parametrize('shape', [(3, 2), (2, 4, 2)])
def test_view_as_complex(shape):
    x = rrand(*shape, seed=2)
    check(lambda lib, x: lib.view_as_complex(x) * (1 - 2j), x)


@pytest.mark.parametrize('shapes', [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 4))])
def test_complex_and_polar(shapes):
    a, b = rrand(*shapes[0], seed=3), rrand(*shapes[1], seed=4)
    check(lambda lib, a, b: lib.complex(a, b), a, b)
    check(lambda lib, a, b: lib.polar(a.abs() + 0.5, b), a, b)


def test_angle_of_real_tensors():
    x = np.array([-2.0, -0.0, 0.0, 3.0, np.nan])
    for dt in ('float64', 'float32'):
        ours = autograd.angle(autograd.tensor(x, dtype=getattr(autograd, dt)))
        theirs = torch.angle(torch.tensor(x, dtype=getattr(torch, dt)))
        assert ours.dtype.name == dt
        np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs))
    ints = autograd.angle(autograd.tensor([-1, 2]))
    assert ints.dtype is autograd.float32 and np.allclose(to_numpy(ints), [np.pi, 0])
    check(lambda lib, x: lib.angle(x) * x, rrand(4, seed=5), double=False)


def test_real_of_a_real_tensor_is_itself():
    x = autograd.tensor([1.0, 2.0])
    assert x.real is x and autograd.conj(x) is x and autograd.resolve_conj(x) is x
    assert not x.is_conj() and not autograd.is_conj(x)
    with pytest.raises(RuntimeError, match='imag is not implemented for tensors with non-complex'):
        x.imag
    assert autograd.isreal(autograd.tensor([1 + 0j, 1j])).tolist() == [True, False]


# ----------------------------------------------------------------------------- arithmetic

BINARY = {
    'add': lambda lib, a, b: a + b,
    'sub': lambda lib, a, b: a - b,
    'mul': lambda lib, a, b: a * b,
    'div': lambda lib, a, b: a / b,
    'rsub_number': lambda lib, a, b: (2 - 1j) - a * b,
    'mul_number': lambda lib, a, b: (a * (0.5 + 2j)) / (b + 3),
    'neg': lambda lib, a, b: -a + b,
    'add_alpha': lambda lib, a, b: lib.add(a, b, alpha=2),
}


@pytest.mark.parametrize('name', list(BINARY))
@pytest.mark.parametrize('kinds', ['cc', 'cr', 'rc'])
def test_binary_arithmetic(name, kinds):
    a = crand(2, 3, seed=6) if kinds[0] == 'c' else rrand(2, 3, seed=6)
    b = crand(3, seed=7) if kinds[1] == 'c' else rrand(3, seed=7)
    check(BINARY[name], a, b)


@given(st.lists(st.integers(1, 3), min_size=1, max_size=3), st.integers(0, 2**16),
       st.sampled_from(list(BINARY)))
@SETTINGS
def test_binary_arithmetic_broadcasting(shape, seed, name):
    rng = np.random.default_rng(seed)
    other = [s if rng.random() < 0.5 else 1 for s in shape][rng.integers(0, len(shape)):]
    check(BINARY[name], crand(*shape, seed=seed), crand(*other, seed=seed + 1))


@pytest.mark.parametrize('shapes', [((3, 4), (4, 2)), ((2, 3, 4), (4,)), ((4,), (2, 4, 3)),
                                    ((2, 1, 3, 4), (3, 4, 2)), ((4,), (4,))])
def test_matmul(shapes):
    check(lambda lib, a, b: a @ b, crand(*shapes[0], seed=8), crand(*shapes[1], seed=9))
    # a real operand made complex (matmul takes one dtype): its gradient is real
    check(lambda lib, a, b: a @ lib.complex(b, lib.zeros_like(b)), crand(*shapes[0], seed=8),
          rrand(*shapes[1], seed=9))


def test_matmul_of_mixed_dtypes_refused_as_pytorch():
    for lib in (torch, autograd):
        with pytest.raises(RuntimeError, match=r'expected m1 and m2 to have the same dtype, but '
                                               r'got: c10::complex<float> != float'):
            lib.ones(2, 2, dtype=lib.complex64) @ lib.ones(2, 2)


def test_reductions_and_shapes():
    z = crand(2, 3, 4, seed=10)
    check(lambda lib, z: (z.sum(), z.sum(dim=1), z.mean(), z.mean(dim=(0, 2), keepdim=True)), z)
    check(lambda lib, z: (z.reshape(6, 4).T, z.permute(2, 0, 1)[1:, :, ::2], z.mT,
                          lib.cat([z, z.flip(0)], dim=1), z.unsqueeze(0).squeeze(0).clone(),
                          z.tril(), lib.stack([z, z]), z.diagonal(dim1=1, dim2=2),
                          z.expand(3, 2, 3, 4)), z)


def test_a_real_input_gets_the_real_part_of_its_gradient():
    x = autograd.tensor(rrand(3, seed=11), requires_grad=True)
    w = autograd.tensor(crand(3, seed=12))
    (x * w).abs().sum().backward()
    assert x.grad.dtype is autograd.float64
    xt = torch.tensor(rrand(3, seed=11), requires_grad=True)
    (xt * torch.tensor(crand(3, seed=12))).abs().sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), to_numpy(xt.grad), **TOL)


def test_gradcheck_through_a_real_parametrization():
    # f(x, y) = |complex(x, y) @ W|^2 summed, with a complex W: gradcheck and gradgradcheck
    # compare the real gradients with finite differences
    w = autograd.tensor(crand(3, 2, seed=13))

    def f(x, y):
        z = autograd.complex(x, y) @ w
        return (z * z.conj()).real + autograd.angle(z) + z.imag * z.abs()

    x = autograd.tensor(rrand(2, 3, seed=14), requires_grad=True)
    y = autograd.tensor(rrand(2, 3, seed=15), requires_grad=True)
    assert autograd.gradcheck(f, (x, y))
    assert autograd.gradgradcheck(f, (x, y))


# ----------------------------------------------------------------------------- refusals

def test_ops_without_complex_support_refuse():
    z = autograd.tensor(crand(3, seed=16))
    for fn in (autograd.exp, autograd.log, autograd.sin, autograd.sqrt, autograd.sigmoid,
               autograd.tanh, autograd.deg2rad, autograd.special.logit if hasattr(
                   autograd.special, 'logit') else autograd.logit, autograd.trapezoid):
        with pytest.raises(NotImplementedError, match="not implemented for 'ComplexDouble'"):
            fn(z)
    for fn in (lambda: z < 0, lambda: z >= z, lambda: z.max(), lambda: z.max(dim=0),
               lambda: z.amin(), lambda: z.argmax(), lambda: z.sort(), lambda: z.relu(),
               lambda: z.clamp(min=0), lambda: autograd.maximum(z, z), lambda: z.sign()):
        with pytest.raises(RuntimeError, match="not implemented for 'ComplexDouble'"):
            fn()


def test_no_complex_gradient_where_the_formula_lacks_the_conjugate():
    z = autograd.tensor(crand(3, seed=17), requires_grad=True)
    with pytest.raises(RuntimeError, match='derivative for complex tensors is not implemented'):
        z ** 2
    with autograd.no_grad():        # without a gradient the values are NumPy's, as PyTorch's
        np.testing.assert_allclose(to_numpy(z ** 2), crand(3, seed=17) ** 2)


def test_linalg_refuses_complex_except_eig():
    z = autograd.tensor(crand(3, 3, seed=18))
    with pytest.raises(RuntimeError, match='complex input .* is not supported here'):
        autograd.linalg.inv(z)


def test_errors_as_pytorchs():
    for lib in (torch, autograd):
        x = lib.ones(3, 2)
        with pytest.raises(RuntimeError, match='view_as_real is only supported for complex'):
            lib.view_as_real(x)
        with pytest.raises(RuntimeError, match='Tensor must have a last dimension of size 2'):
            lib.view_as_complex(lib.ones(3, 3))
        with pytest.raises(RuntimeError, match='view_as_complex is only supported for (half, )?'
                                               'float and double tensors, but got a tensor of '
                                               'scalar type: Long'):    # (no complex32 here)
            lib.view_as_complex(lib.ones(3, 2, dtype=lib.int64))
        with pytest.raises(RuntimeError, match='Expected both inputs to be'):
            lib.complex(lib.ones(2, dtype=lib.int64), lib.ones(2, dtype=lib.int64))
        with pytest.raises(RuntimeError, match='Expected object of scalar type Float but got '
                                               'scalar type Double for second argument'):
            lib.complex(lib.ones(2), lib.ones(2, dtype=lib.float64))
        # (op._write names dtypes as 'complex64'/'float32', for every dtype, not PyTorch's
        # 'ComplexFloat'/'Float')
        with pytest.raises(RuntimeError, match="result type (ComplexFloat|complex64) can't be "
                                               'cast to the desired output type'):
            x.add_(1j)


def test_custom_function_with_a_complex_output():
    class Twice(autograd.Function):
        @staticmethod
        def forward(ctx, z):
            return z * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    z = autograd.tensor(crand(3, seed=19), requires_grad=True)
    out = Twice.apply(z)
    assert out.requires_grad and out.is_complex()
    out.abs().sum().backward()
    zt = torch.tensor(crand(3, seed=19), requires_grad=True)
    (zt * 2).abs().sum().backward()
    np.testing.assert_allclose(to_numpy(z.grad), to_numpy(zt.grad), **TOL)
