"""linalg.eig and linalg.eigvals against PyTorch: complex results from real and complex
input, batched; values compared up to the eigenvalues' order and the eigenvectors' phases;
gradients (first and second order) of losses that depend on neither, gradcheck and
gradgradcheck of real parametrizations, PyTorch's error for a loss that depends on the
phases, and PyTorch's input errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
from oracle import to_numpy, torch

SETTINGS = settings(max_examples=8, deadline=None, derandomize=True)


def matrix(*shape, complex_=False, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=shape)
    return a + 1j * rng.normal(size=shape) if complex_ else a


def _sorted(w):
    """Eigenvalues in a canonical order (by real part, then imaginary part)."""
    order = np.lexsort((np.round(w.imag, 8), np.round(w.real, 8)), axis=-1)
    return np.take_along_axis(w, order, axis=-1), order


@pytest.mark.parametrize('shape', [(1, 1), (3, 3), (4, 4), (2, 3, 3), (2, 1, 5, 5)])
@pytest.mark.parametrize('kind', ['float64', 'float32', 'complex128', 'complex64'])
def test_values_match_pytorch_up_to_order_and_phase(shape, kind):
    a = matrix(*shape, complex_=kind.startswith('complex'), seed=1).astype(kind)
    L, V = autograd.linalg.eig(autograd.tensor(a))
    Lt, Vt = torch.linalg.eig(torch.tensor(a))
    assert L.dtype.name == str(Lt.dtype)[6:] and V.dtype.name == str(Vt.dtype)[6:]
    assert tuple(L.shape) == tuple(Lt.shape) and tuple(V.shape) == tuple(Vt.shape)
    tol = dict(rtol=1e-4, atol=1e-4) if kind in ('float32', 'complex64') else \
        dict(rtol=1e-9, atol=1e-10)
    w, v, wt, vt = to_numpy(L), to_numpy(V), to_numpy(Lt), to_numpy(Vt)
    ws, order = _sorted(w)
    wts, order_t = _sorted(wt)
    np.testing.assert_allclose(ws, wts, **tol)
    # A V = V diag(L), columns of norm 1, and each column is PyTorch's times a unit scalar
    np.testing.assert_allclose(a @ v, v * w[..., None, :], **tol)
    np.testing.assert_allclose(np.linalg.norm(v, axis=-2), 1, **tol)
    v = np.take_along_axis(v, order[..., None, :], axis=-1)
    vt = np.take_along_axis(vt, order_t[..., None, :], axis=-1)
    scale = (np.conj(vt) * v).sum(axis=-2)          # <vt, v>, of modulus 1
    np.testing.assert_allclose(np.abs(scale), 1, **tol)
    np.testing.assert_allclose(v, vt * scale[..., None, :], **tol)
    assert type(autograd.linalg.eig(autograd.tensor(a))).__name__ == 'linalg_eig'
    np.testing.assert_allclose(to_numpy(autograd.linalg.eigvals(autograd.tensor(a))), w,
                               **tol)


# losses that depend neither on the order of the eigenpairs nor on the eigenvectors' phases
LOSSES = {
    'abs_eigvals': lambda lib, L, V: L.abs().sum(),
    'real_imag': lambda lib, L, V: (L.real ** 3).sum() + (L.imag ** 2).sum(),
    'vector_moduli': lambda lib, L, V: (V.abs() ** 2 * L.real.unsqueeze(-2)).sum(),
    'mixed': lambda lib, L, V: (V.abs() * (L * L.conj()).real.unsqueeze(-2)).sum()
    + L.imag.abs().sum(),
}


def _grads(lib, a, loss, eigvals_only=False):
    x = lib.tensor(a, requires_grad=True)
    if eigvals_only:
        value = lib.linalg.eigvals(x).abs().sum()
    else:
        value = loss(lib, *lib.linalg.eig(x))
    grad = torch.autograd.grad if lib is torch else autograd.grad
    g, = grad(value, x, create_graph=True)
    second = (g.real ** 2).sum() + (g.imag ** 2).sum() if g.is_complex() else (g * g).sum()
    gg, = grad(second, x)
    return [to_numpy(value), to_numpy(g), to_numpy(gg)]


@pytest.mark.parametrize('name', list(LOSSES))
@pytest.mark.parametrize('shape', [(3, 3), (2, 4, 4)])
@pytest.mark.parametrize('complex_', [False, True])
def test_gradients_match_pytorch(name, shape, complex_):
    a = matrix(*shape, complex_=complex_, seed=2)
    for ours, theirs in zip(_grads(autograd, a, LOSSES[name]), _grads(torch, a, LOSSES[name])):
        assert ours.dtype == theirs.dtype       # a real input's gradient is real
        np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize('complex_', [False, True])
def test_eigvals_gradient_matches_pytorch(complex_):
    a = matrix(2, 3, 3, complex_=complex_, seed=3)
    for ours, theirs in zip(_grads(autograd, a, None, True), _grads(torch, a, None, True)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-10)
    assert autograd.linalg.eigvals(autograd.tensor(a)).grad_fn is None


@given(st.integers(1, 4), st.lists(st.integers(1, 2), max_size=2), st.booleans(),
       st.integers(0, 2**16))
@SETTINGS
def test_gradients_random_shapes(n, batch, complex_, seed):
    a = matrix(*batch, n, n, complex_=complex_, seed=seed)
    loss = LOSSES['vector_moduli']
    for ours, theirs in zip(_grads(autograd, a, loss), _grads(torch, a, loss)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-9)


def _invariants(L, V):
    return autograd.stack([L.abs().sum(), (V.abs() ** 2 * L.real.unsqueeze(-2)).sum(),
                           (L.imag ** 2).sum()])


def test_gradcheck_real_input():
    a = autograd.tensor(matrix(3, 3, seed=4), requires_grad=True)
    f = lambda a: _invariants(*autograd.linalg.eig(a))      # noqa: E731
    assert autograd.gradcheck(f, (a,))
    assert autograd.gradgradcheck(f, (a,))


def test_gradcheck_complex_input_through_its_parts():
    x = autograd.tensor(matrix(3, 3, seed=5), requires_grad=True)
    y = autograd.tensor(matrix(3, 3, seed=6), requires_grad=True)
    f = lambda x, y: _invariants(*autograd.linalg.eig(autograd.complex(x, y)))   # noqa: E731
    assert autograd.gradcheck(f, (x, y))
    assert autograd.gradgradcheck(f, (x, y))


def test_a_loss_that_depends_on_the_phases_raises_as_pytorch():
    a = matrix(3, 3, complex_=True, seed=7)
    for lib in (torch, autograd):
        x = lib.tensor(a, requires_grad=True)
        _, V = lib.linalg.eig(x)
        with pytest.raises(RuntimeError, match=r'The eigenvectors in the complex case are '
                                               r'specified up to multiplication by e\^\{i phi\}'):
            V.real.sum().backward()


@pytest.mark.filterwarnings('ignore:ComplexHalf support is experimental')   # PyTorch's own
def test_input_errors_as_pytorchs():
    for lib in (torch, autograd):
        for fn, name in ((lib.linalg.eig, 'linalg.eig'), (lib.linalg.eigvals, 'linalg.eigvals')):
            with pytest.raises(RuntimeError, match=f'{name}: A must be batches of square '
                                                   'matrices, but they are 2 by 3 matrices'):
                fn(lib.ones(2, 3))
            with pytest.raises(RuntimeError, match=f'{name}: The input tensor A must have at '
                                                   'least 2 dimensions.'):
                fn(lib.ones(3))
            with pytest.raises(RuntimeError, match='Unknown Complex ScalarType for Long'):
                fn(lib.ones(3, 3, dtype=lib.int64))
            with pytest.raises(NotImplementedError, match="not implemented for 'Half'"):
                fn(lib.ones(3, 3, dtype=lib.float16))
        with pytest.raises(RuntimeError, match='linalg.eig: input tensor should not contain '
                                               'infs or NaNs'):
            lib.linalg.eig(lib.tensor([[float('nan'), 1.0], [0.0, 1.0]]))
