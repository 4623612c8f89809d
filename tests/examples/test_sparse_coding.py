"""Sparse coding (S0 L1478-1491): the L1 code's exact solution where one is known, ISTA's
optimality conditions, unit-norm atoms, and the trade of sparsity against reconstruction."""
import pytest

import autograd
from example_scripts import load_example, run_example

sc = load_example('sparse_coding')
F64 = autograd.float64


def gen():
    return autograd.Generator(autograd.get_default_device()).manual_seed(0)


def test_soft_threshold_is_the_l1_proximal_map():
    v = autograd.tensor([-3.0, -0.5, 0.0, 0.2, 1.5], dtype=F64)
    assert sc.soft_threshold(v, 1.0).tolist() == [-2.0, 0.0, 0.0, 0.0, 0.5]


def test_an_orthonormal_dictionary_codes_by_one_soft_threshold():
    # with D^T D = I the objective separates: h = soft(D^T x, lambda), exactly
    dev = autograd.get_default_device()
    Q, _ = autograd.linalg.qr(autograd.randn(20, 20, dtype=F64, generator=gen(), device=dev))
    X = autograd.randn(30, 20, dtype=F64, generator=gen(), device=dev)
    H = sc.ista(X, Q, 0.7, 3)
    assert autograd.allclose(H, sc.soft_threshold(X @ Q, 0.7), atol=1e-12)


def test_ista_codes_satisfy_the_lasso_optimality_conditions():
    dev = autograd.get_default_device()
    D = sc.normalise_columns(autograd.randn(15, 40, dtype=F64, generator=gen(), device=dev))
    X = autograd.randn(25, 15, dtype=F64, generator=gen(), device=dev)
    lam = 0.3
    H = sc.ista(X, D, lam, 3000, by_hand=True)
    corr = (X - H @ D.T) @ D            # D^T (x - D h) for each row
    # zero codes: |correlation| <= lambda; non-zero codes: correlation = lambda sign(h)
    active = H != 0
    assert (corr.abs()[~active] <= lam + 1e-6).all().item()
    assert autograd.allclose(corr[active], lam * H[active].sign(), atol=1e-3)   # ISTA: O(1/k)
    assert 0 < active.float().mean().item() < 0.8     # over-complete: sparse, not empty
    # the same codes through autograd's gradient of the quadratic term
    assert autograd.allclose(sc.ista(X, D, lam, 50), sc.ista(X, D, lam, 50, by_hand=True),
                             atol=1e-12)


def test_subgradient_descent_leaves_small_codes_not_zeros():
    dev = autograd.get_default_device()
    D = sc.normalise_columns(autograd.randn(15, 40, dtype=F64, generator=gen(), device=dev))
    X = autograd.randn(25, 15, dtype=F64, generator=gen(), device=dev)
    H_sub = sc.subgradient_codes(X, D, 0.3, 300)
    H_ista = sc.ista(X, D, 0.3, 300)
    assert (H_ista == 0).float().mean().item() > 0.3
    assert (H_sub == 0).float().mean().item() < 0.05
    assert sc.objective(X, D, H_ista, 0.3).item() <= sc.objective(X, D, H_sub, 0.3).item()


def test_learned_atoms_have_unit_norm_and_the_objective_falls():
    X, _ = sc.load('digits', autograd.get_default_device())
    D, history = sc.learn_dictionary(X[:400], 20, 0.5, 4, gen(), batch=100, code_steps=15)
    assert autograd.allclose(D.norm(dim=0), autograd.ones(20, device=D.device), atol=1e-5)
    assert history[-1] < history[0]


@pytest.mark.slow
def test_sparse_coding_script(tmp_path):
    r = run_example('sparse_coding', tmp_path, '--data', 'digits', '--epochs', 2,
                    '--atoms', 36, '--lams', '0.2,1.0')
    small, large = r['sweep'][0.2], r['sweep'][1.0]
    # a larger lambda: fewer active atoms, a worse reconstruction
    assert large['non-zeros per code'] < 0.5 * small['non-zeros per code']
    assert large['relative reconstruction error'] > small['relative reconstruction error']
    assert small['relative reconstruction error'] < 0.15
    assert r['ISTA by autograd vs by hand: max |difference|'] < 1e-4
    assert r['ISTA: exact zeros'] > 0.5 and r['subgradient: exact zeros'] < 0.01
    assert (tmp_path / 'sparse_coding.png').stat().st_size > 0
