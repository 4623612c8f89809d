"""Boltzmann and Cauchy training and the hybrid with backprop (S0 L387-438): the text's
schedules, step distributions and acceptance rule, and XOR networks that each method
trains."""
import math

import pytest

import autograd
from example_scripts import load_example, run_example

sa = load_example('simulated_annealing')


def gen():
    return autograd.Generator(autograd.get_default_device()).manual_seed(0)


def test_the_texts_cooling_schedules():
    assert sa.boltzmann_temperature(1, 2.0) == pytest.approx(2.0 / math.log(2))
    assert sa.boltzmann_temperature(math.e ** 3 - 1, 3.0) == pytest.approx(1.0)
    assert sa.cauchy_temperature(9, 10.0) == pytest.approx(1.0)
    # Cauchy cools much faster: at t = 1000, T0/1001 against T0/log(1001)
    assert sa.cauchy_temperature(1000, 1.0) < sa.boltzmann_temperature(1000, 1.0) / 50


def test_gaussian_steps_have_density_exp_of_minus_w2_over_T2():
    w = sa.gaussian_step((40000,), 0.8, gen())
    # exp(-w^2 / T^2) is a normal density with variance T^2 / 2
    assert w.std().item() == pytest.approx(0.8 / math.sqrt(2), rel=0.03)
    assert abs(w.mean().item()) < 0.02


def test_cauchy_steps_have_scale_rho_T_and_fat_tails():
    rho, T = 0.5, 2.0
    x = sa.cauchy_step((40000,), T, rho, gen())
    # x = rho T tan(u): |x| < rho T exactly when |u| < pi/4, half the time
    assert (x.abs() < rho * T).float().mean().item() == pytest.approx(0.5, abs=0.01)
    # P(|x| > 10 rho T) = 1 - (2/pi) atan(10) = 0.0635, where a normal of that spread has ~0
    tail = (x.abs() > 10 * rho * T).float().mean().item()
    assert tail == pytest.approx(1 - 2 / math.pi * math.atan(10), abs=0.006)


def test_worse_objective_is_kept_with_probability_exp_minus_c_over_kT():
    g = gen()
    dev = autograd.get_default_device()
    c = autograd.full((40000,), 0.3 * math.log(2), device=dev)     # exp(-c / kT) = 1/2
    assert sa.accept(c, 3.0, g, k=0.1).float().mean().item() == pytest.approx(0.5, abs=0.01)
    c = autograd.full((40000,), 0.3 * math.log(10), device=dev)    # 1/10
    assert sa.accept(c, 3.0, g, k=0.1).float().mean().item() == pytest.approx(0.1, abs=0.01)
    assert sa.accept(-autograd.rand(1000, device=dev), 1e-9, g).all().item()   # improvements


def test_hybrid_with_eta_one_is_backprop_with_the_texts_momentum():
    X, y = sa.xor_data(autograd.get_default_device())
    w0 = autograd.randn(3, sa.N_WEIGHTS, generator=gen(), device=X.device)
    lr, alpha = 0.5, 0.9

    def grad(w):
        w = w.detach().requires_grad_()
        return autograd.grad(sa.objective(w, X, y).sum(), w)[0]

    # dW_t = alpha dW_{t-1} + (1 - alpha) (-lr dE/dW), dW_0 = 0
    d1 = (1 - alpha) * (-lr * grad(w0))
    w1 = w0 + d1
    w2 = w1 + alpha * d1 + (1 - alpha) * (-lr * grad(w1))
    got, _, _ = sa.hybrid(w0, X, y, 2, 0.0, 1.0, gen(), lr=lr, alpha=alpha)
    assert autograd.allclose(got, w2, rtol=1e-5, atol=1e-6)


def test_annealing_keeps_only_changes_it_accepts():
    X, y = sa.xor_data(autograd.get_default_device())
    w0 = autograd.randn(50, sa.N_WEIGHTS, generator=gen(), device=X.device)
    # k tiny: no worsening is ever kept, so no run's objective rises
    w, _, _ = sa.anneal(w0, X, y, 5, 1.0, 'boltzmann', gen(), k=1e-30)
    assert (sa.objective(w, X, y) <= sa.objective(w0, X, y) + 1e-7).all().item()
    assert (sa.objective(w, X, y) < sa.objective(w0, X, y)).float().mean().item() > 0.9


@pytest.mark.slow
def test_simulated_annealing_script(tmp_path):
    r = run_example('simulated_annealing', tmp_path, '--epochs', 100, '--runs', 16)
    for name in ('backprop + momentum', 'Boltzmann (T0 / log(1 + t))',
                 'Cauchy (T0 / (1 + t))', 'hybrid, eta = 0.5'):
        assert r[name]['mean error'] < 0.8 * r['initial mean error'], name
    # 100 sweeps of Boltzmann training (900 evaluations) solve XOR for a fair share
    assert r['Boltzmann (T0 / log(1 + t))']['solved'] >= 0.2
    assert r['stuck after backprop'] > 0             # 100 steps leave most nets unsolved
    assert 0 <= r['rescued by Boltzmann (T0 / log(1 + t))'] <= 1
    assert (tmp_path / 'simulated_annealing.png').stat().st_size > 0
