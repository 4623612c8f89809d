"""Chapter 5: the RBF network example, run reduced and judged by what it learned."""
import numpy
import pytest

from example_scripts import load_example, run_example


@pytest.fixture(scope='module')
def rbf():
    return load_example('rbf_network')


@pytest.fixture
def gen(rbf):
    return rbf.autograd.Generator(rbf.autograd.get_default_device()).manual_seed(0)


def regression(rbf, gen, n=120):
    a = rbf.autograd
    x = a.linspace(-2, 2, n, dtype=rbf.F64)[:, None]
    return x, rbf.target_function(x[:, 0]) + 0.05 * a.randn(n, dtype=rbf.F64, generator=gen)


def test_hidden_unit_is_the_books_gaussian(rbf):
    a = rbf.autograd
    x = a.tensor([[0.0, 0.0], [1.0, 2.0]], dtype=rbf.F64)
    mu = a.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 3.0]], dtype=rbf.F64)
    sigma = a.tensor([1.0, 0.5, 2.0], dtype=rbf.F64)
    d2 = numpy.array([[1.0, 2.0, 9.0], [4.0, 1.0, 2.0]])
    expected = numpy.exp(-d2 / (2 * numpy.array([1.0, 0.25, 4.0])))     # eq. 5.1
    numpy.testing.assert_allclose(rbf.rbf_features(x, mu, sigma).cpu().numpy(), expected)


def test_kmeans_finds_the_four_clusters_and_the_book_weights_separate_them(rbf, gen):
    X, y = rbf.xor_clusters(200, rbf.autograd.get_default_device())
    out, centres, sigma, H = rbf.xor_demo(X, y, generator=gen)
    corners = numpy.sort(numpy.round(centres.cpu().numpy()), axis=0)
    numpy.testing.assert_array_equal(corners, [[-1, -1], [-1, -1], [1, 1], [1, 1]])
    assert out['book weights [1,-1,1,-1]'] == 1.0
    assert out['perceptron on H'] == 1.0 and out['hinge on H'] >= 0.99
    assert out['one-hotness'] > 0.9                 # "only one hidden unit is activated"
    assert out['perceptron on x (linear)'] <= 0.76  # no line gets more than 3 corners


def test_closed_form_and_gradient_descent_reach_the_same_output_weights(rbf, gen):
    x, y = regression(rbf, gen)
    c, _ = rbf.kmeans(x, 12, generator=gen)
    H = rbf.with_bias(rbf.rbf_features(x, c, rbf.bandwidths(c, r=2)['r-th neighbour']))
    w_cf = rbf.closed_form(H, y, 0.01)
    w_gd = rbf.gradient_descent(H, y, 0.01, steps=6000)
    assert (w_gd - w_cf).norm().item() < 0.05 * w_cf.norm().item()
    # the closed form is eq. 5.4, computed independently by NumPy
    Hn, yn = H.cpu().numpy(), y.cpu().numpy()
    numpy.testing.assert_allclose(
        w_cf.cpu().numpy(), numpy.linalg.solve(Hn.T @ Hn + 0.01 * numpy.eye(13), Hn.T @ yn),
        rtol=1e-6, atol=1e-8)
    assert ((H @ w_cf - y) ** 2).mean().sqrt().item() < 0.1      # noise 0.05


def test_bandwidth_heuristics_match_their_definitions(rbf):
    a = rbf.autograd
    c = a.tensor([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]], dtype=rbf.F64)
    h = rbf.bandwidths(c, r=1)
    assert h['d_max/sqrt(m)'] == pytest.approx(5 / numpy.sqrt(3))
    assert h['2 d_ave'] == pytest.approx(2 * 12 / 3)
    numpy.testing.assert_allclose(h['r-th neighbour'].cpu().numpy(), [3.0, 3.0, 4.0])


def test_exact_interpolation_passes_through_every_point(rbf):
    err, x, y, w, sigma = rbf.interpolation_demo(15, rbf.autograd.get_default_device())
    assert w.shape == (15,) and err < 1e-8


def test_engine_gradients_of_centres_and_widths_are_the_books_formulas(rbf, gen):
    a = rbf.autograd
    x = a.randn(30, 2, dtype=rbf.F64, generator=gen)
    y = a.randn(30, dtype=rbf.F64, generator=gen)
    model = rbf.RBFNetwork(a.randn(5, 2, dtype=rbf.F64, generator=gen),
                           a.rand(5, dtype=rbf.F64, generator=gen) + 0.5, bias=False)
    (0.5 * ((model(x)[:, 0] - y) ** 2).sum()).backward()       # eq. 5.7
    d_sigma, d_mu = rbf.book_gradients(x, y, model)
    numpy.testing.assert_allclose(model.sigma.grad.cpu().numpy(), d_sigma.cpu().numpy(),
                                  rtol=1e-10)
    numpy.testing.assert_allclose(model.centres.grad.cpu().numpy(), d_mu.cpu().numpy(),
                                  rtol=1e-10)


def test_supervised_centres_and_widths_beat_the_two_stage_fit(rbf, gen):
    x, y = regression(rbf, gen)
    two_stage, supervised, model = rbf.supervised_demo(x, y, 4, 300, generator=gen)
    assert supervised < 0.1 * two_stage
    assert supervised < 0.005                       # noise floor 0.5 * 0.05^2 = 0.00125


def test_logistic_map_normalised_rbf_predicts_better(rbf):
    plain, normed = rbf.logistic_map_medians(rbf.autograd.get_default_device(), 7)
    assert normed < plain < 0.3     # predicting the mean scores ~0.35; the article: 0.15, 0.084


@pytest.mark.slow
def test_rbf_script_runs_and_plots(tmp_path):
    r = run_example('rbf_network', tmp_path, '--epochs', 100, '--n', 80, '--draws', 3)
    assert r['xor: book weights [1,-1,1,-1]'] == 1.0
    assert r['interpolation: max |HW - y|'] < 1e-8
    assert r['supervised: trained loss'] < r['supervised: two-stage loss']
    assert (tmp_path / 'rbf_network.png').stat().st_size > 0
