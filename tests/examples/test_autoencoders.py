"""Autoencoders on the 8x8 digits: each variant's learned outcome."""
import numpy
import pytest

import autograd
from example_scripts import load_example, run_example

ae = load_example('autoencoders')


@pytest.fixture(scope='module')
def data():
    from _data import digits, split
    X, y = digits()
    X_train, _, X_test, y_test = split(X, y, n_test=400, seed=0)
    return X_train, X_test, y_test


def test_principal_angles_of_known_subspaces():
    A = numpy.eye(4)[:, :2]                            # span(e1, e2)
    B = numpy.stack([[1, 0, 0, 0], [0, 1, 1, 0]], 1)  # span(e1, e2 + e3): angles 0 and 45
    numpy.testing.assert_allclose(ae.principal_angles(A, B), [0.0, 45.0], atol=1e-6)


@pytest.mark.slow
def test_linear_autoencoder_spans_the_pca_subspace(data):
    autograd.manual_seed(0)
    result = ae.run_linear(data[0], k=4, epochs=300, log=None)
    assert max(result['angles']) < 0.5                # degrees
    # and it reaches the Eckart-Young optimum, the rank-4 truncated SVD's error
    assert result['ae_mse'] == pytest.approx(result['pca_mse'], rel=1e-3)


@pytest.mark.slow
def test_deep_2d_code_reconstructs_better_than_2_component_pca(data):
    autograd.manual_seed(0)
    result = ae.run_deep(*data, epochs=30, log=None)
    assert result['codes'].shape == (len(data[1]), 2)
    assert result['test_mse'] < 0.95 * result['pca_mse']


@pytest.mark.slow
def test_l1_penalty_silences_most_units(data):
    autograd.manual_seed(0)
    result = ae.run_sparse(data[0], data[1], epochs=20, log=None)
    assert result['sparse']['active'] < 0.5 * result['plain']['active']
    variance = float(((data[1] - data[0].mean(0)) ** 2).mean())  # MSE of predicting the mean
    assert result['sparse']['test_mse'] < 0.25 * variance


@pytest.mark.slow
def test_denoising_autoencoder_removes_masking_noise(data):
    autograd.manual_seed(0)
    result = ae.run_denoising(data[0], data[1], p=0.3, epochs=20, log=None)
    assert result['denoised_mse'] < 0.6 * result['noisy_mse']


def test_jacobian_penalty_matches_the_sigmoid_closed_form():
    # h = sigmoid(W x + b): dh_j/dx = h_j (1 - h_j) W_j,
    # so ||J||_F^2 = sum_j (h_j (1 - h_j))^2 |W_j|^2
    autograd.manual_seed(0)
    W = autograd.randn(5, 3, dtype=autograd.float64)
    b = autograd.randn(5, dtype=autograd.float64)
    x = autograd.randn(4, 3, dtype=autograd.float64, requires_grad=True)
    h = autograd.sigmoid(x @ W.T + b)
    closed = ((h * (1 - h)) ** 2 * (W ** 2).sum(1)).sum()
    assert ae.jacobian_frobenius(h, x).item() == pytest.approx(closed.item(), rel=1e-12)


def test_jacobian_penalty_gradient_by_double_backprop_passes_gradcheck():
    autograd.manual_seed(1)
    x = autograd.randn(4, 3, dtype=autograd.float64, requires_grad=True)
    W = autograd.randn(5, 3, dtype=autograd.float64, requires_grad=True)

    def penalty(W):
        return ae.jacobian_frobenius(autograd.sigmoid(x @ W.T), x)

    assert autograd.gradcheck(penalty, (W,))


@pytest.mark.slow
def test_contractive_penalty_flattens_the_code(data):
    result = ae.run_contractive(data[0], data[1], epochs=8, log=None)
    assert result['contractive']['jacobian'] < 0.5 * result['plain']['jacobian']


@pytest.mark.slow
def test_main_writes_the_plots(tmp_path):
    run_example('autoencoders', tmp_path, '--epochs', 2)
    for name in ('deep_2d_codes.png', 'linear_vs_pca.png', 'denoising.png'):
        assert (tmp_path / name).stat().st_size > 0
