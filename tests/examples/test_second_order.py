"""Sec. 3.5.6: second-order methods, judged by the book's claims: Newton solves a quadratic
in one step, CG in at most d steps, Newton is drawn into the saddle of x^2 - y^2."""
import numpy
import pytest

from example_scripts import load_example, run_example


@pytest.fixture(scope='module')
def so():
    return load_example('second_order')


def test_hessian_vector_products_by_double_backprop_match_the_hessian(so):
    a = so.autograd
    dev = a.get_default_device()
    loss, d = so.logistic_problem(dev)
    gen = a.Generator(dev).manual_seed(0)
    w = 0.1 * a.randn(d, dtype=so.F64, device=dev, generator=gen)
    v = a.randn(d, dtype=so.F64, device=dev, generator=gen)
    H = so.functional.hessian(loss, w).cpu().numpy()
    numpy.testing.assert_allclose(so.hvp_double_backprop(loss, w, v).cpu().numpy(),
                                  H @ v.cpu().numpy(), rtol=1e-9, atol=1e-12)
    numpy.testing.assert_allclose(so.hvp_finite_difference(loss, w, v, 1e-6).cpu().numpy(),
                                  H @ v.cpu().numpy(), rtol=1e-3, atol=1e-6)


def test_cg_takes_exactly_d_steps_on_a_quadratic(so):
    a = so.autograd
    loss, A, b, w_star = so.quadratic(6, 50.0, a.get_default_device(), seed=3)
    w0 = a.zeros(6, dtype=so.F64, device=A.device)
    w5, _ = so.conjugate_gradients(loss, w0, 5)
    w6, norms = so.conjugate_gradients(loss, w0, 6)
    assert (w6 - w_star).norm().item() < 1e-9
    assert (w5 - w_star).norm().item() > 1e-6        # not earlier: distinct eigenvalues


def test_second_order_script(tmp_path):
    r = run_example('second_order', tmp_path)
    assert r['newton: |w1 - w*| after one step'] < 1e-12
    assert r['Hv: double backprop vs A v'] < 1e-12 and r['Hv: functional.hvp vs A v'] < 1e-12
    assert r['CG: |w_10 - w*| after d = 10 steps'] < 1e-8
    assert r['logistic: Hessian-free, 10 steps, gap'] < 1e-8
    assert r['logistic: gradient descent, 110 steps, gap'] > 1e-3      # the contrast
    assert r['logistic: L-BFGS, 10 steps, gap'] < r['logistic: gradient descent, 110 steps, gap']
    assert r['rosenbrock: L-BFGS distance to (1, 1)'] < 1e-5    # from (-1.2, 1), 2.2 away
    assert r['saddle: Newton lands on (0, 0)'] < 1e-15
    assert r['saddle: Newton stays there'] < 1e-15
    assert r['saddle: gradient descent |y| after 20 steps'] > 10     # escapes along y
    assert (tmp_path / 'second_order.png').stat().st_size > 0
