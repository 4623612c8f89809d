"""Saliency, deconvnet and guided backpropagation (sec. 8.5.1, Fig. 8.14): the custom ReLU
backward rules are exactly the book's formulas; on a trained CNN all three maps fall on the
digit, guided backpropagation most sharply; class models grown from the zero image are
classified as their class."""
import numpy
import pytest

import autograd
from example_scripts import load_example

vis = load_example('cnn_visualization')


def _grad_through(fn, z, g):
    z = autograd.tensor(z, requires_grad=True)
    out = fn(z)
    grad, = autograd.grad(out, z, autograd.tensor(g))
    return out.detach().cpu().numpy(), grad.cpu().numpy()


Z = numpy.array([-1.0, -1.0, 2.0, 2.0], dtype=numpy.float32)     # forward inputs z_i
G = numpy.array([3.0, -3.0, 3.0, -3.0], dtype=numpy.float32)     # incoming gradients


def test_backward_rules_are_the_books():
    for fn, expected in ((autograd.relu, G * (Z > 0)),                        # backprop
                         (vis.DeconvReLU.apply, G * (G > 0)),                  # deconvnet
                         (vis.GuidedReLU.apply, G * (Z > 0) * (G > 0))):       # guided
        out, grad = _grad_through(fn, Z, G)
        numpy.testing.assert_array_equal(out, numpy.maximum(Z, 0))      # same forward
        numpy.testing.assert_array_equal(grad, expected)


def test_switchable_relu_changes_only_the_backward():
    autograd.manual_seed(0)
    model = vis.SmallCNN().eval()
    x = autograd.rand(2, 1, 28, 28)
    cls = autograd.tensor([3, 7])
    with autograd.no_grad():
        plain = model(x)
    grads = {m: vis.input_gradient(model, x, cls, m) for m in ('backprop', 'guided')}
    with autograd.no_grad():
        numpy.testing.assert_array_equal(model(x).cpu().numpy(), plain.cpu().numpy())
    assert not numpy.allclose(grads['backprop'].cpu().numpy(), grads['guided'].cpu().numpy())
    # backprop mode is the true gradient: compare with a finite difference along grad
    d = grads['backprop']
    eps = 1e-2
    with autograd.no_grad():
        f = lambda t: model(x + t * d).gather(1, cls.unsqueeze(1)).sum().item()
        slope = (f(eps) - f(-eps)) / (2 * eps)
    assert slope == pytest.approx((d * d).sum().item(), rel=0.05)


@pytest.mark.slow
def test_maps_fall_on_the_digit_and_class_models_are_recognised():
    model, X_te, y_te, acc = vis.train(epochs=1, n_train=1200, batch_size=32, log=None)
    assert acc > 0.75
    images, labels = X_te[:16], y_te[:16]
    shares = {m: vis.ink_share(vis.input_gradient(model, images, labels, m), images)
              .mean().item() for m in ('backprop', 'deconvnet', 'guided')}
    assert all(s > 1.3 for s in shares.values()), shares      # more on ink than background
    assert shares['guided'] > shares['backprop'], shares
    for cls in (0, 3, 8):
        x, prob = vis.class_model(model, cls, steps=200)
        with autograd.no_grad():
            assert model(x).argmax().item() == cls
        assert prob > 0.5
        assert x.abs().max().item() > 0                          # it moved from zero
