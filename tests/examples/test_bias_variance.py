"""Secs. 4.1-4.3: the polynomial example.  Five points are fitted exactly by a quartic;
the squared error splits into bias^2 + variance + noise (an exact identity over the
sampled training sets, plus the noise); with five points the linear model beats the
quartic, with many points the quartic wins; cross-validation picks a degree near the best."""
import numpy
import pytest

from example_scripts import load_example, run_example


@pytest.fixture(scope='module')
def bv():
    return load_example('bias_variance')


def test_fit_is_least_squares_and_ridge(bv):
    a = bv.autograd
    dev = a.get_default_device()
    gen = a.Generator(dev).manual_seed(0)
    x, y = bv.draw((3, 12), gen, dev)
    for d, lam in ((3, 0.0), (5, 0.7)):
        w = bv.fit(x, y, d, lam).cpu().numpy()
        for j in range(3):
            u = (x[j].cpu().numpy() - 2) / 2
            A = numpy.vander(u, d + 1, increasing=True)
            P = lam * numpy.diag([0.0] + [1.0] * d)         # the bias is not penalised
            expected = numpy.linalg.solve(A.T @ A + P, A.T @ y[j].cpu().numpy())
            numpy.testing.assert_allclose(w[j], expected, rtol=1e-8, atol=1e-10)


def test_five_points_are_fitted_exactly_by_a_quartic(bv):
    a = bv.autograd
    dev = a.get_default_device()
    gen = a.Generator(dev).manual_seed(1)
    x, y = bv.draw((50, 5), gen, dev)
    w = bv.fit(x, y, 4)
    fitted = (bv.features(x, 4) @ w[..., None])[..., 0]
    assert (fitted - y).abs().max().item() < 1e-9
    w1 = bv.fit(x, y, 1)
    assert (((bv.features(x, 1) @ w1[..., None])[..., 0] - y) ** 2).mean().item() > 0.01


def test_decomposition_identity(bv):
    """mean_D (g - f)^2 = bias^2 + variance exactly over the sampled sets; the noisy
    E[MSE] adds sigma^2 up to sampling error."""
    a = bv.autograd
    dev = a.get_default_device()
    gen = a.Generator(dev).manual_seed(2)
    Z = a.linspace(0, 4, 41, dtype=a.float64, device=dev)
    x, y = bv.draw((400, 5), gen, dev)
    g = bv.predict(bv.fit(x, y, 2), Z)
    mean_g = g.mean(0)
    direct = ((g - bv.f(Z)) ** 2).mean().item()
    bias2 = ((bv.f(Z) - mean_g) ** 2).mean().item()
    variance = ((g - mean_g) ** 2).mean().item()
    assert direct == pytest.approx(bias2 + variance, rel=1e-12)
    r = bv.decomposition(5, 2, 2000, Z, gen, dev)
    assert r['sum'] == pytest.approx(r['bias^2'] + r['variance'] + r['noise'], rel=1e-12)
    assert r['noise'] == pytest.approx(bv.SIGMA ** 2, rel=0.05)
    assert r['E[MSE]'] == pytest.approx(r['sum'], rel=0.05)


def test_cross_validation_folds_partition_the_points(bv):
    a = bv.autograd
    dev = a.get_default_device()
    gen = a.Generator(dev).manual_seed(3)
    parts = bv.folds(23, 5, gen, dev)
    idx = numpy.concatenate([p.cpu().numpy() for p in parts])
    assert sorted(idx.tolist()) == list(range(23))
    assert sorted(len(p) for p in parts) == [4, 4, 5, 5, 5]


def test_leave_one_out_by_hand(bv):
    a = bv.autograd
    dev = a.get_default_device()
    gen = a.Generator(dev).manual_seed(4)
    x, y = bv.draw((9,), gen, dev)
    xs, ys = x.cpu().numpy(), y.cpu().numpy()
    errs = []
    for i in range(9):
        keep = numpy.arange(9) != i
        A = numpy.vander((xs[keep] - 2) / 2, 3, increasing=True)
        w = numpy.linalg.lstsq(A, ys[keep], rcond=None)[0]
        errs.append((numpy.vander([(xs[i] - 2) / 2], 3, increasing=True) @ w - ys[i]) ** 2)
    assert bv.cross_validation_error(x, y, 2, 9, generator=gen) == pytest.approx(
        float(numpy.mean(errs)), rel=1e-9)
    with pytest.raises(ValueError, match='does not divide'):
        bv.cross_validation_error(x, y, 2, 4, generator=gen)


@pytest.mark.slow
def test_bias_variance_script(tmp_path):
    r = run_example('bias_variance', tmp_path, '--datasets', 1000, '--cv-sets', 10)
    assert r['fig 4.2: degree-4 training error (exact fit)'] < 1e-12
    # Fig. 4.2: the quartic's predictions at x = 2 scatter more than the line's
    assert (r['fig 4.2: degree 4, spread (std) of predictions at x = 2']
            > 2 * r['fig 4.2: degree 1, spread (std) of predictions at x = 2'])
    small, large = r['table'][5], r['table'][100]
    assert small[4]['training MSE'] < 1e-20 < small[1]['training MSE']
    assert small[1]['E[MSE]'] < small[4]['E[MSE]']          # five points: the line wins
    assert large[4]['E[MSE]'] < large[1]['E[MSE]']          # enough data: the quartic wins
    assert small[1]['bias^2'] > small[4]['bias^2']           # lower bias ...
    assert small[4]['variance'] > 10 * small[1]['variance']  # ... much higher variance
    for table in (small, large):
        for d, row in table.items():
            assert row['E[MSE]'] == pytest.approx(row['sum'], rel=0.1)
            assert row['noise'] == pytest.approx(0.25, rel=0.1)
    for name in ('degree', 'ridge'):
        best = r[f'{name}: best fixed choice']['mean true error']
        train = r[f'{name} chosen by training']['mean true error']
        for method in ('5-fold CV', 'leave-one-out'):
            chosen = r[f'{name} chosen by {method}']['mean true error']
            assert chosen < 1.2 * best and chosen < train - 0.04, (name, method)
        assert r[f'{name}: best possible per set']['mean true error'] <= best
    # the training error always prefers the most complex model
    assert r['degree chosen by training']['choices'] == [9]
    assert r['ridge chosen by training']['choices'] == [1e-6]
    assert (tmp_path / 'bias_variance.png').stat().st_size > 0
