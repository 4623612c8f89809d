"""Sec. 4.5: ensembles, judged by the book's claims: the out-of-bag fraction
(1 - 1/n)^n ~ 1/e, the renormalised geometric mean of eqs. 4.10-4.11, the weight scaling
rule exact for linear activations (every sub-network enumerated) and only approximate
with ReLUs, and ensembles beating their own members."""
import itertools

import numpy
import pytest

from example_scripts import load_example, run_example


@pytest.fixture(scope='module')
def en():
    return load_example('ensembles')


def test_geometric_mean_is_eqs_4_10_and_4_11(en):
    a = en.autograd
    rng = numpy.random.default_rng(0)
    p = rng.dirichlet(numpy.ones(4), size=(5, 3))          # 5 members, 3 points, 4 classes
    geo = numpy.prod(p, axis=0) ** (1 / 5)                  # eq. 4.10
    geo /= geo.sum(1, keepdims=True)                        # eq. 4.11
    logp = a.tensor(numpy.log(p), dtype=a.float64, device=a.get_default_device())
    numpy.testing.assert_allclose(a.exp(en.geometric_mean(logp)).cpu().numpy(), geo, rtol=1e-12)
    numpy.testing.assert_allclose(a.exp(en.arithmetic_mean(logp)).cpu().numpy(), p.mean(0),
                                  rtol=1e-12)
    votes = numpy.array([numpy.bincount(col, minlength=4).argmax() for col in p.argmax(2).T])
    assert (en.majority_vote(logp).cpu().numpy() == votes).all()


@pytest.mark.parametrize('p', [0.5, 0.3])
def test_weight_scaling_is_exact_for_a_linear_net(en, p):
    """Every one of the 2^8 sub-networks, weighted by its probability: the renormalised
    geometric mean equals the full network's softmax (the book: exact for linear
    activations)."""
    a = en.autograd
    dev = a.get_default_device()
    a.manual_seed(0)
    net = en.linear_dropout_net(6, 8, 4, device=dev)
    X = a.randn(5, 6, dtype=a.float64, device=dev)
    exact = en.enumerated_geometric_mean(net, X, p)
    rule = en.weight_scaling_rule(net, X)
    numpy.testing.assert_allclose(exact.cpu().numpy(), rule.cpu().numpy(), atol=1e-12)


def test_weight_scaling_is_not_exact_with_a_relu(en):
    """The same enumeration with a ReLU between the layers: the rule is a heuristic."""
    a, nn = en.autograd, en.nn
    dev = a.get_default_device()
    a.manual_seed(0)
    first = nn.Linear(6, 8).to(dev, a.float64)
    second = nn.Linear(8, 4).to(dev, a.float64)
    X = a.randn(5, 6, dtype=a.float64, device=dev)
    masks = numpy.array(list(itertools.product((0.0, 1.0), repeat=8)))
    with a.no_grad():
        h = a.relu(first(X)).cpu().numpy()
        z = numpy.stack([second(a.tensor(h * m / 0.5, dtype=a.float64, device=dev)).cpu().numpy()
                         for m in masks])
        rule = a.log_softmax(second(a.relu(first(X))), 1).cpu().numpy()
    # with a ReLU before the dropout the logits are still linear in the mask: exact again
    logp = z - numpy.log(numpy.exp(z).sum(2, keepdims=True))
    geo = logp.mean(0)
    geo -= numpy.log(numpy.exp(geo).sum(1, keepdims=True))
    numpy.testing.assert_allclose(geo, rule, atol=1e-12)
    # a ReLU layer *after* the dropped units (dropout, Linear, ReLU, Linear) makes the
    # logits nonlinear in the mask (a ReLU alone would commute with the 0/2 mask)
    mid = nn.Linear(8, 8).to(dev, a.float64)
    with a.no_grad():
        z = numpy.stack([second(a.relu(mid(a.tensor(h * m / 0.5, dtype=a.float64, device=dev))))
                         .cpu().numpy() for m in masks])
        rule = a.log_softmax(second(a.relu(mid(a.relu(first(X))))), 1).cpu().numpy()
    logp = z - numpy.log(numpy.exp(z).sum(2, keepdims=True))
    geo = logp.mean(0)
    geo -= numpy.log(numpy.exp(geo).sum(1, keepdims=True))
    assert numpy.abs(geo - rule).max() > 1e-3


def test_dropconnect_layer(en):
    a = en.autograd
    dev = a.get_default_device()
    a.manual_seed(0)
    layer = en.DropConnectLinear(20, 7, p=0.5).to(dev, a.float64)
    x = a.randn(3, 20, dtype=a.float64, device=dev)
    layer.eval()
    expected = x.cpu().numpy() @ layer.weight.detach().cpu().numpy().T + layer.bias.detach().cpu().numpy()
    numpy.testing.assert_allclose(layer(x).detach().cpu().numpy(), expected, rtol=1e-12)
    layer.train()
    a1, a2 = layer(x), layer(x)
    assert (a1 != a2).any().item()                          # a new mask per call
    mean = a.stack([layer(x) for _ in range(4000)]).mean(0).detach().cpu().numpy()
    numpy.testing.assert_allclose(mean, expected, atol=0.15)  # E[mask / (1 - p)] = 1


def test_out_of_bag_fraction(en):
    a = en.autograd
    dev = a.get_default_device()
    gen = a.Generator(dev).manual_seed(0)
    measured, book = en.out_of_bag_fraction(500, 100, gen, dev)
    assert book == pytest.approx((1 - 1 / 500) ** 500)
    assert book == pytest.approx(numpy.exp(-1), abs=1e-3)
    assert measured == pytest.approx(book, abs=0.01)


def test_connection_dropping_keeps_its_mask(en):
    a = en.autograd
    a.manual_seed(0)
    model = en.connection_dropped_mlp(hidden=16, drop=0.5).to(a.get_default_device())
    masks = [m.weight_mask.cpu().numpy().copy() for m in model if isinstance(m, en.nn.Linear)]
    assert [float((1 - mk).mean()) for mk in masks] == [0.5, 0.5]
    X = a.rand(40, 64, device=a.get_default_device())
    y = a.randint(0, 10, (40,), device=a.get_default_device())
    en.fit(model, X, y, 5)
    for mk, m in zip(masks, [m for m in model if isinstance(m, en.nn.Linear)]):
        assert (m.weight.detach().cpu().numpy()[mk == 0] == 0).all()


@pytest.mark.slow
def test_ensembles_script(tmp_path):
    r = run_example('ensembles', tmp_path, '--epochs', 20, '--members', 4,
                    '--samples', 1, 10, 50)
    oob = r['bagging: out-of-bag fraction']
    assert oob['measured'] == pytest.approx(oob['(1 - 1/n)^n'], abs=0.01)
    assert r['single network'] > 0.85
    for name in ('bagging', 'subsampling', 'connection dropping'):
        # the combination beats the average member (variance reduction)
        assert r[name]['geometric mean'] > r[name]['members (mean)'] + 0.005, name
        assert r[name]['geometric mean'] > 0.85, name
    d = r['dropout']
    assert d['weight scaling rule'] > 0.88
    assert d['geometric mean of 50'] > d['one sampled sub-network'] + 0.03
    assert d['rule agrees with geometric 50'] > 0.95
    # the rule approximates the geometric mean, not the arithmetic one
    assert d['KL(geometric 50 || rule)'] < d['KL(arithmetic 50 || rule)'] / 3
    assert r['DropConnect (weight scaling at test)'] > 0.85
    assert r['linear net, all 1024 sub-networks: max |log p_geo - log p_rule|'] < 1e-12
    assert len(r['curves']['bagging']) == 4
    assert (tmp_path / 'ensembles.png').stat().st_size > 0
