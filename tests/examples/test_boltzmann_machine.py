"""Chapter 6.3: the Boltzmann machine example, checked against exact enumeration."""
import math

import numpy
import pytest

from example_scripts import load_example, run_example


@pytest.fixture(scope='module')
def bmod():
    return load_example('boltzmann_machine')


def test_eq_6_7_conditional_is_the_ratio_of_joint_probabilities(bmod):
    a = bmod.autograd
    gen = a.Generator(a.get_default_device()).manual_seed(1)
    bm = bmod.BoltzmannMachine(3, 2, std=0.7, generator=gen, device=a.get_default_device())
    S = bmod.all_states(5, a.get_default_device())
    P = bmod.exact_distribution(bm).detach().cpu().numpy()
    assert P.sum() == pytest.approx(1.0)
    Sn, W, b = S.cpu().numpy(), bm.W.detach().cpu().numpy(), bm.bias.detach().cpu().numpy()
    index = {tuple(row): k for k, row in enumerate(Sn.astype(int))}
    for row in Sn.astype(int):
        for i in range(5):
            on, off = row.copy(), row.copy()
            on[i], off[i] = 1, 0
            p_on = P[index[tuple(on)]] / (P[index[tuple(on)]] + P[index[tuple(off)]])
            assert p_on == pytest.approx(1 / (1 + math.exp(-(b[i] + W[i] @ row - W[i, i] * row[i]))))


def test_gibbs_matches_enumeration_and_hidden_units_learn_parity(tmp_path):
    r = run_example('boltzmann_machine', tmp_path, '--epochs', 200, '--chains', 3000)
    assert r['gibbs vs exact: total variation'] < 0.03
    assert r['gibbs vs exact: max |P(s_i = 1) error|'] < 0.015
    assert r['eq. 6.12 vs engine: max error'] < 1e-12
    assert r['eq. 6.12 by Gibbs sampling: max error'] < 0.06
    # no pairwise model beats the uniform distribution on parity; hidden units do
    assert r['KL to parity data: 0 hidden'] == pytest.approx(math.log(2), abs=2e-3)
    assert r['KL to parity data: 4 hidden'] < 0.3
    assert (tmp_path / 'boltzmann_machine.png').stat().st_size > 0


def test_parity_data_has_zero_pairwise_correlation(bmod):
    v = bmod.parity_data(3).cpu().numpy()
    c = numpy.cov(v.T, bias=True)
    numpy.testing.assert_allclose(c - numpy.diag(numpy.diag(c)), 0, atol=1e-12)
