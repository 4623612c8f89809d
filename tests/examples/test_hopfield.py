"""Chapter 6.2: the Hopfield network example, judged by what it stores and recalls."""
import numpy
import pytest

from example_scripts import load_example, run_example


@pytest.fixture(scope='module')
def hop():
    return load_example('hopfield')


@pytest.fixture
def gen(hop):
    return hop.autograd.Generator(hop.autograd.get_default_device()).manual_seed(0)


def test_hebbian_rule_is_eq_6_4_with_the_dummy_unit_bias(hop):
    X = numpy.array(hop.FIG_6_1, dtype=float)
    W, b = hop.hebbian(hop.autograd.tensor(X, dtype=hop.F64))
    n, d = X.shape
    expected = numpy.zeros((d, d))
    for i in range(d):
        for j in range(d):
            if i != j:
                expected[i, j] = 4 * sum((X[k, i] - 0.5) * (X[k, j] - 0.5) for k in range(n)) / n
    numpy.testing.assert_allclose(W.cpu().numpy(), expected)
    numpy.testing.assert_allclose(b.cpu().numpy(), 2 * (X - 0.5).sum(0) / n)


def test_engine_energy_gap_is_the_flip_difference_of_eq_6_2(hop, gen):
    a = hop.autograd
    X = hop.random_patterns(5, 12, a.get_default_device(), gen)
    W, b = hop.hebbian(X)
    s = hop.bipolar(hop.random_patterns(3, 12, a.get_default_device(), gen))
    gap = hop.energy_gap(s, W, b).cpu().numpy()
    for i in range(12):                     # E(s_i = -1) - E(s_i = +1), by flipping
        lo, hi = s.clone(), s.clone()
        lo[:, i], hi[:, i] = -1.0, 1.0
        diff = (hop.energy(lo, W, b) - hop.energy(hi, W, b)).cpu().numpy()
        numpy.testing.assert_allclose(gap[:, i], diff, atol=1e-12)


def test_fig_6_1_merges_each_group_into_one_spurious_minimum(tmp_path):
    r = run_example('hopfield', tmp_path, '--d', 40)
    assert r['fig 6.1: 111000 and 000111 are (spurious) minima']
    assert r["fig 6.1: training energy below the mean state's"]
    assert r['fig 6.1: each training vector recalls its group']
    assert r['energy never rises']
    assert r['corrupted 10%: bits wrong before'] == pytest.approx(0.1)
    assert r['corrupted 10%: bits wrong after'] == 0.0
    assert (tmp_path / 'hopfield.png').stat().st_size > 0


def test_recall_completes_corrupted_patterns_and_lowers_the_energy(hop, gen):
    dev = hop.autograd.get_default_device()
    P = hop.random_patterns(8, 120, dev, gen)
    W, b = hop.hebbian(P)
    noisy = hop.corrupt(P, 0.15, gen)
    fixed, energies = hop.recall(hop.bipolar(noisy), W, b, generator=gen)
    assert (fixed == hop.bipolar(P)).all()
    E = numpy.array([e.cpu().numpy() for e in energies])
    assert (numpy.diff(E, axis=0) <= 1e-9).all() and (E[-1] < E[0]).all()
    assert hop.is_local_minimum(fixed, W, b).all()


def test_capacity_is_near_0_15_d(hop, gen):
    counts = list(range(4, 31, 2))
    curve = hop.capacity_curve(100, counts, hop.autograd.get_default_device(), gen)
    assert 0.1 <= hop.capacity(100, counts, curve) <= 0.2
    assert min(curve[:4]) == 1.0            # a few patterns: perfect recall
    assert max(curve[-3:]) < 0.8            # 0.26-0.3 d: recall breaks down
