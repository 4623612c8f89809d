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


# ---------------------------------------------------------------------------------------------
# Tied weights, competitive sparsity, outlier scores (sec. 2.5.1.3, 2.5.4, 2.5.5)

def test_tied_linear_autoencoder_learns_an_orthonormal_basis_of_the_pca_subspace(data):
    autograd.manual_seed(0)
    result = ae.run_tied(data[0], k=4, epochs=300, log=None)
    assert result['parameters'] * 2 == result['untied_parameters'] == 2 * 64 * 4
    assert result['gram_error'] < 1e-3                 # V^T V = I (sec. 2.5.1.3)
    assert max(result['angles']) < 0.5                 # degrees
    assert result['ae_mse'] == pytest.approx(result['pca_mse'], rel=1e-3)


def test_tied_weights_get_the_sum_of_both_uses_gradients():
    # sec. 3.2.9: backprop as if untied, then add the two copies' gradients
    autograd.manual_seed(0)
    model = ae.TiedAutoEncoder(5, 2).double()
    x = autograd.randn(7, 5, dtype=autograd.float64)
    _, x_hat = model(x)
    ((x_hat - x) ** 2).sum().backward()
    V = model.V.detach()
    enc = V.clone().requires_grad_()
    dec = V.T.clone().requires_grad_()
    (((x @ enc) @ dec - x) ** 2).sum().backward()
    numpy.testing.assert_allclose(model.V.grad.cpu().numpy(),
                                  (enc.grad + dec.grad.T).cpu().numpy(), rtol=1e-12)


def test_r_sparse_keeps_each_rows_r_largest_and_backprops_through_them_only():
    h = autograd.tensor([[0.5, -1.0, 3.0, 2.0], [1.0, 4.0, -2.0, 0.0]], requires_grad=True)
    code = ae.top_r(h, 2)
    numpy.testing.assert_array_equal(code.detach().cpu().numpy(),
                                     [[0.0, 0.0, 3.0, 2.0], [1.0, 4.0, 0.0, 0.0]])
    code.sum().backward()
    numpy.testing.assert_array_equal(h.grad.cpu().numpy(), [[0, 0, 1, 1], [1, 1, 0, 0]])


def test_winner_take_all_keeps_each_units_top_fraction_over_the_batch():
    autograd.manual_seed(0)
    h = autograd.randn(40, 6)
    code = ae.winner_take_all(h, 0.1)
    active = (code != 0).sum(0).cpu().numpy()
    numpy.testing.assert_array_equal(active, 4)       # 10% of 40 per unit
    top = h.topk(4, dim=0).values.cpu().numpy()
    numpy.testing.assert_allclose(numpy.sort(code.cpu().numpy(), 0)[-4:], numpy.sort(top, 0))


def test_competitive_codes_are_sparse_and_beat_a_dense_code_of_the_same_size(data):
    autograd.manual_seed(0)
    result = ae.run_competitive(data[0], data[1], r=10, fraction=0.1, epochs=30, log=None)
    for name in ('r-sparse', 'winner-take-all'):
        assert result[name]['active'] == pytest.approx(0.1, abs=0.005)
        # 10 active units out of 100 reconstruct held-out digits better than 10 PCA components
        assert result[name]['test_mse'] < result['pca_mse']


def test_outlier_scores_find_scrambled_digits_and_the_noisy_pixel(data):
    autograd.manual_seed(0)
    result = ae.run_outliers(data[0], data[1], epochs=200, log=None)
    assert result['is_outlier'].sum() == 20
    assert result['auc'] > 0.97
    assert result['worst_feature'] == result['noisy_pixel']
