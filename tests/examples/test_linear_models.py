"""Examples for systems 1-4 of the first chapters: perceptrons, least squares, binary
linear classifiers and multiclass linear classifiers, each run reduced and judged by what
it learned."""
import numpy
import pytest

from example_scripts import load_example, run_example


@pytest.fixture(scope='module')
def data():
    return load_example('_data')


@pytest.fixture(scope='module')
def perceptron():
    return load_example('perceptron')


# ---- 1. perceptron ------------------------------------------------------------------

def test_perceptron_separates_linearly_separable_data(data, perceptron):
    X, y = data.to_tensors(*data.blobs(100, seed=1))
    _, acc = perceptron.train_perceptron(X, y, epochs=20)
    assert acc == 1.0


def test_pocket_keeps_weights_at_least_as_good_as_the_last_iterate(data, perceptron):
    X, y = data.to_tensors(*data.noisy_blobs(200, flip=0.1, seed=2))
    gen = perceptron.autograd.Generator(X.device).manual_seed(0)
    _, last = perceptron.train_perceptron(X, y, epochs=5, generator=gen)
    gen.manual_seed(0)                      # the same example order for both
    _, pocket = perceptron.train_perceptron(X, y, epochs=5, pocket=True, generator=gen)
    assert pocket >= last
    assert pocket >= 0.8                    # Bayes rate with 10% flipped labels is ~0.84


def test_no_line_classifies_more_than_three_xor_corners(data, perceptron):
    X, y = data.to_tensors(*data.xor(80, seed=3))
    _, pocket = perceptron.train_perceptron(X, y, epochs=5, pocket=True)
    assert pocket <= 0.76


def test_one_hidden_relu_layer_separates_xor(data, perceptron):
    perceptron.autograd.manual_seed(0)
    X, y = data.to_tensors(*data.xor(80, seed=3))
    _, acc = perceptron.train_xor_mlp(X, y, steps=200)
    assert acc == 1.0


@pytest.mark.slow
def test_perceptron_script_writes_its_plot(tmp_path):
    results = run_example('perceptron', tmp_path, '--epochs', 3)
    assert results['perceptron, separable'] == 1.0
    assert results['ReLU MLP (2-8-1), XOR'] == 1.0
    assert (tmp_path / 'decision_regions.png').stat().st_size > 0


# ---- 2. least squares ---------------------------------------------------------------

def test_gradient_descent_reaches_the_closed_form_and_lms_the_noise_floor(tmp_path):
    r = run_example('least_squares', tmp_path, '--epochs', 2, '--steps', 400, '--n', 300)
    assert r['gd_vs_closed_form'] < 1e-5
    assert r['ridge_gd_vs_closed_form'] < 1e-8
    assert r['lms_vs_closed_form'] < 0.6    # Widrow-Hoff hovers near w* with a fixed step
    for key in ('closed_form', 'gd', 'lms'):
        assert r[f'test_rmse_{key}'] < 1.15 * r['noise_sigma']
    assert (tmp_path / 'least_squares.png').exists()


def test_ridge_gradient_descent_matches_the_normal_equations_at_every_lambda():
    ls = load_example('least_squares')
    X, y = ls.make_data(100, 5, seed=4)
    tX, ty = (ls.autograd.tensor(a, dtype=ls.autograd.float64) for a in (X, y))
    for lam in (0.0, 0.1, 1.0):
        w, _ = ls.gradient_descent(tX, ty, lam, steps=2000)
        numpy.testing.assert_allclose(w.cpu().numpy(), ls.closed_form(X, y, lam), atol=1e-6)


# ---- 3. logistic regression, hinge SVM and L2-SVM -----------------------------------

@pytest.mark.slow
def test_three_binary_linear_classifiers_agree_on_breast_cancer(tmp_path):
    r = run_example('linear_classifiers', tmp_path, '--epochs', 150)
    for name in ('logistic', 'hinge SVM', 'L2-SVM'):
        assert r[name] >= 0.94, name        # scikit-learn's LogisticRegression: ~0.97
    assert r['agreement logistic / hinge SVM'] >= 0.95
    assert (tmp_path / 'linear_classifiers.png').exists()


# ---- 4. multiclass ------------------------------------------------------------------

def test_multiclass_linear_models_learn_digits(tmp_path):
    r = run_example('multiclass', tmp_path, '--epochs', 8)
    assert r['softmax regression'] >= 0.9
    assert r['multiclass perceptron'] >= 0.88
    assert r['Weston-Watkins SVM'] >= 0.9
    assert (tmp_path / 'weights.png').exists() and (tmp_path / 'accuracy.png').exists()


def test_multiclass_perceptron_criterion_is_zero_exactly_when_the_label_scores_highest():
    mc = load_example('multiclass')
    z = mc.autograd.tensor([[3.0, 1.0, 0.0], [0.0, 2.0, 5.0]])
    assert mc.perceptron_criterion(z, mc.autograd.tensor([0, 2])).item() == 0.0
    # row 0 labelled 1: 3 - 1 = 2; row 1 labelled 0: 5 - 0 = 5; mean 3.5
    assert mc.perceptron_criterion(z, mc.autograd.tensor([1, 0])).item() == 3.5
