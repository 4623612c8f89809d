"""Echo-state network (sec. 7.4): the reservoir is scaled to the spectral radius asked for;
the linear shift-matrix reservoir's readout is the AR(p) least-squares fit (statsmodels'
AutoReg as the oracle); the nonlinear reservoir forecasts the sunspot cycle far better
than persistence."""
import numpy
import pytest

import autograd
from example_scripts import load_example

esn = load_example('echo_state')


def _matrix(a):
    return autograd.tensor(a, dtype=autograd.float64)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_spectral_radius_matches_numpys_eigenvalues(seed):
    a = numpy.random.default_rng(seed).normal(size=(40, 40))
    expected = numpy.abs(numpy.linalg.eigvals(a)).max()
    assert esn.spectral_radius(_matrix(a)) == pytest.approx(expected, rel=1e-10)


def test_spectral_radius_of_a_rotation_with_complex_eigenvalues():
    # eigenvalues +-2i and 1: the radius is the modulus of the complex pair
    a = numpy.array([[0.0, -2.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    assert esn.spectral_radius(_matrix(a)) == pytest.approx(2.0, rel=1e-12)


def test_reservoir_is_sparse_and_scaled_to_gamma():
    W_xh, W_hh, b = esn.random_reservoir(100, 0.9, connections=10)
    w = W_hh.cpu().numpy()
    assert numpy.abs(numpy.linalg.eigvals(w)).max() == pytest.approx(0.9, rel=1e-10)
    per_row = (w != 0).sum(1).mean()
    assert 7 < per_row < 13          # about ``connections`` per row: linear in hidden
    assert W_xh.shape == (100, 1) and b.shape == (100,)


def test_shift_reservoir_state_is_the_last_p_values():
    x = autograd.tensor([1.0, 2.0, 3.0, 4.0, 5.0], dtype=autograd.float64)
    H = esn.run_reservoir(x, *esn.shift_reservoir(3), activation=lambda a: a)
    numpy.testing.assert_array_equal(H.cpu().numpy(), [[1, 0, 0], [2, 1, 0], [3, 2, 1],
                                                       [4, 3, 2], [5, 4, 3]])


def test_ridge_readout_is_the_penalised_least_squares_solution():
    # the closed form (X^T X / n + alpha diag(1,..,1,0)) [w; c] = X^T y / n, by NumPy
    rng = numpy.random.default_rng(0)
    H, y, alpha = rng.normal(size=(50, 8)), rng.normal(size=50), 0.3
    X = numpy.hstack([H, numpy.ones((50, 1))])
    expected = numpy.linalg.solve(X.T @ X / 50 + alpha * numpy.diag([1.0] * 8 + [0.0]),
                                  X.T @ y / 50)
    w, c = esn.ridge_readout(_matrix(H), _matrix(y), alpha)
    numpy.testing.assert_allclose(w.cpu().numpy(), expected[:8], rtol=1e-10)
    assert c.item() == pytest.approx(expected[8], rel=1e-10)


def test_spectral_radius_is_below_the_largest_singular_value():
    # why the scaling uses the eigenvalues: sigma_max is only an upper bound
    a = numpy.random.default_rng(3).normal(size=(30, 30))
    sigma = autograd.linalg.matrix_norm(_matrix(a), 2).item()
    assert esn.spectral_radius(_matrix(a)) < 0.75 * sigma


@pytest.mark.parametrize('p', [2, 9])
def test_shift_reservoir_readout_is_the_ar_fit(p):
    from statsmodels.tsa.ar_model import AutoReg
    _, series = esn.sunspots()
    coef, intercept = esn.ar_through_shift_reservoir(series, p)
    params = AutoReg(series, p, trend='c').fit().params       # [intercept, lag 1, ..., lag p]
    numpy.testing.assert_allclose(coef, params[1:], rtol=1e-6, atol=1e-8)
    assert intercept == pytest.approx(params[0], rel=1e-6)


def test_echo_state_network_forecasts_the_sunspot_cycle():
    years, series = esn.sunspots()
    assert (years[0], years[-1], len(series)) == (1700, 2008, 309)
    result = esn.forecast(series, hidden=50, gammas=(0.5, 0.9))
    assert result['gamma'] in (0.5, 0.9)
    for gamma, measured in result['radius'].items():
        assert measured == pytest.approx(gamma, rel=1e-10)
    # persistence misses the 11-year cycle; the reservoir's readout follows it
    assert result['test_rmse'] < 0.7 * result['persistence_rmse']
    assert result['ar_rmse'] < 0.7 * result['persistence_rmse']
