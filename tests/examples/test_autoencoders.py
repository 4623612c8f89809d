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


def test_procrustes_recovers_a_known_rotation():
    rng = numpy.random.default_rng(0)
    B, _ = numpy.linalg.qr(rng.normal(size=(10, 3)))
    Q, _ = numpy.linalg.qr(rng.normal(size=(3, 3)))    # a random orthogonal matrix
    R = ae.procrustes(B @ Q, B)
    numpy.testing.assert_allclose(R, Q.T, atol=1e-12)
    numpy.testing.assert_allclose(R.T @ R, numpy.eye(3), atol=1e-12)


def test_compare_bases_separates_the_subspace_from_the_basis():
    # a decoder = V M for an invertible, non-orthogonal M: the same subspace, another basis
    rng = numpy.random.default_rng(1)
    V, _ = numpy.linalg.qr(rng.normal(size=(64, 4)))
    M = rng.normal(size=(4, 4)) + 2 * numpy.eye(4)
    r = ae.compare_bases(V @ M, V)
    numpy.testing.assert_allclose(r['angles'], 0.0, atol=1e-5)       # degrees
    assert r['rotation_error'] < 1e-12                               # rotated, it is V
    numpy.testing.assert_allclose(r['gram'], M.T @ M, atol=1e-12)
    numpy.testing.assert_allclose(r['cosines'], abs(M) / numpy.linalg.norm(M, axis=0))
    # and a subspace that differs is told apart: the angles are those of the two spans
    W = V.copy()
    W[:, 3] = numpy.linalg.qr(rng.normal(size=(64, 5)))[0][:, 4]      # almost surely off span
    assert ae.compare_bases(W, V)['angles'].max() > 10


def test_linear_vs_pca_figure_shows_three_bases_angles_and_cosines(data):
    autograd.manual_seed(0)
    linear = ae.run_linear(data[0], k=4, epochs=300, log=None)
    assert max(linear['angles']) < 0.1           # degrees: the same subspace
    assert linear['rotation_error'] < 1e-3       # ... and rotated, the basis is PCA's
    assert linear['cosines'].max(0).min() < 0.99  # while a column is no single component
    fig = ae.plot_linear_vs_pca(linear)
    assert len(fig.axes) == 3 * 4 + 2
    images = [ax.get_images()[0].get_array().ravel() for ax in fig.axes[:12]]
    for j in range(4):                           # rows: PCA, decoder as learned, rotated
        numpy.testing.assert_allclose(images[j], linear['components'][:, j])
        numpy.testing.assert_allclose(images[4 + j], linear['decoder'][:, j])
        numpy.testing.assert_allclose(images[8 + j], linear['rotated'][:, j])
    angles, cosines = fig.axes[12], fig.axes[13]
    assert angles.get_yscale() == 'log'
    numpy.testing.assert_allclose([bar.get_height() for bar in angles.patches],
                                  numpy.maximum(linear['angles'], 1e-9))
    numpy.testing.assert_allclose(cosines.get_images()[0].get_array(), linear['cosines'])


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
