"""Sec. 3.4.3: maxout, judged by the book's statements: W2 = 0 gives the ReLU, W2 = alpha W1
the leaky ReLU (eq. 3.39), twice the parameters, and units that cannot die where ReLUs do."""
import numpy
import pytest

from example_scripts import load_example, run_example


@pytest.fixture(scope='module')
def mx():
    return load_example('maxout')


def _unit(mx, pieces=2):
    a = mx.autograd
    a.manual_seed(0)
    dev = a.get_default_device()
    return mx.Maxout(7, 5, pieces).to(dev, a.float64), a.randn(11, 7, dtype=a.float64, device=dev)


def test_maxout_is_the_max_of_its_pieces(mx):
    for pieces in (2, 3):
        unit, x = _unit(mx, pieces)
        xs = x.cpu().numpy()
        z = numpy.stack([xs @ w.detach().cpu().numpy().T + b.detach().cpu().numpy()
                         for w, b in (unit.piece(k) for k in range(pieces))])
        numpy.testing.assert_allclose(unit(x).detach().cpu().numpy(), z.max(0), rtol=1e-12)


def test_w2_zero_gives_the_relu(mx):
    a = mx.autograd
    unit, x = _unit(mx)
    w1, b1 = unit.piece(0)
    with a.no_grad():
        w2, b2 = unit.piece(1)
        w2.zero_()
        b2.zero_()
    expected = a.relu(x @ w1.T + b1)
    assert a.equal(unit(x), expected)


@pytest.mark.parametrize('alpha', [0.01, 0.3])
def test_w2_alpha_w1_gives_the_leaky_relu(mx, alpha):
    a, nn = mx.autograd, mx.nn
    unit, x = _unit(mx)
    w1, b1 = unit.piece(0)
    with a.no_grad():
        w2, b2 = unit.piece(1)
        w2.copy_(alpha * w1)
        b2.copy_(alpha * b1)
    expected = nn.functional.leaky_relu(x @ w1.T + b1, alpha)
    numpy.testing.assert_allclose(unit(x).detach().cpu().numpy(),
                                  expected.detach().cpu().numpy(), rtol=1e-13, atol=1e-15)
    prelu = nn.PReLU().to(x.device, a.float64)                    # the learned-alpha case
    with a.no_grad():
        prelu.weight.fill_(alpha)
    numpy.testing.assert_allclose(prelu(x @ w1.T + b1).detach().cpu().numpy(),
                                  expected.detach().cpu().numpy(), rtol=1e-13, atol=1e-15)


def test_maxout_gradients(mx):
    """The gradient reaches the winning piece only; gradcheck and gradgradcheck hold."""
    a = mx.autograd
    unit, x = _unit(mx)
    x.requires_grad_()
    assert a.gradcheck(unit, (x,))
    assert a.gradgradcheck(unit, (x,))
    unit(x).sum().backward()
    z = (x @ unit.linear.weight.T + unit.linear.bias).detach().cpu().numpy().reshape(11, 5, 2)
    win = (z[..., 0] >= z[..., 1]).astype(float)
    grad_b = unit.linear.bias.grad.cpu().numpy().reshape(5, 2)
    numpy.testing.assert_allclose(grad_b[:, 0], win.sum(0))
    numpy.testing.assert_allclose(grad_b[:, 1], (1 - win).sum(0))


def test_maxout_doubles_the_parameters(mx):
    relu, maxout = mx.net('relu', 32), mx.net('maxout', 32)
    count = lambda layers: sum(p.numel() for m in layers for p in m.parameters())
    assert count(mx.hidden_layers(maxout)) == 2 * count(mx.hidden_layers(relu))
    assert count(mx.hidden_layers(relu)) == 784 * 32 + 32 + 32 * 32 + 32
    assert [type(m).__name__ for m in maxout] == ['Maxout', 'Maxout', 'Linear']


def test_negative_init_kills_every_relu_but_no_maxout_unit(mx):
    a = mx.autograd
    dev = a.get_default_device()
    a.manual_seed(0)
    X = a.rand(50, 784, device=dev)                     # non-negative inputs, as pixels
    y = a.randint(0, 10, (50,), device=dev)
    relu = mx.brain_damage_(mx.net('relu', 16).to(dev))
    assert mx.dead_fraction(relu, X) == 1.0
    assert mx.first_layer_grad_norm(relu, X, y) == 0.0      # no gradient: it never recovers
    maxout = mx.brain_damage_(mx.net('maxout', 16).to(dev))
    assert (maxout[0].linear.weight < 0).all().item()
    assert mx.first_layer_grad_norm(maxout, X, y) > 1e-3


@pytest.mark.slow
def test_maxout_script(tmp_path):
    r = run_example('maxout', tmp_path, '--epochs', 3, '--n-train', 1000, '--hidden', 64)
    assert r['hidden-layer parameters, maxout / relu'] == 2.0
    dead = r['negative init: relu']
    assert dead['dead at start'] == 1.0 and dead['dead after training'] == 1.0
    assert dead['first-layer |grad| at start'] == 0.0
    assert dead['accuracy'] < 0.2                                   # brain damage
    assert r['negative init: maxout']['accuracy'] > 0.7            # the same start trains
    assert r['negative init: maxout']['accuracy'] > r['negative init: leaky relu']['accuracy'] + 0.3
    assert r['lr 0.05: relu']['accuracy'] > 0.7 and r['lr 0.05: maxout']['accuracy'] > 0.7
    assert r['lr 0.2: relu']['dead units'] > r['lr 0.05: relu']['dead units']
    curves = r['curves']
    assert len(curves) == 9 and all(len(c) == 3 for c in curves.values())
    assert (tmp_path / 'maxout.png').stat().st_size > 0
