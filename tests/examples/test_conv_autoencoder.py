"""Convolutional autoencoder with max-unpooling (sec. 8.5.2): unpooling a 2 x 2 pool leaves
exactly 75% zeros (more where the copied value is itself 0), the values sit at the
switches, gradients flow only through them; a short training run beats the mean image."""
import numpy
import pytest

import autograd
from example_scripts import load_example

cae = load_example('conv_autoencoder')


def test_unpooling_leaves_three_quarters_zeros_at_the_switches():
    x = autograd.rand(3, 4, 8, 8) + 0.1        # positive and (almost surely) without ties
    pooled, switches = cae.nn.MaxPool2d(2, return_indices=True)(x)
    up = cae.nn.MaxUnpool2d(2)(pooled, switches)
    assert cae.zero_fraction(up) == 0.75
    blocks = up.reshape(3, 4, 4, 2, 4, 2).permute(0, 1, 2, 4, 3, 5).reshape(3, 4, 4, 4, 4)
    xb = x.reshape(3, 4, 4, 2, 4, 2).permute(0, 1, 2, 4, 3, 5).reshape(3, 4, 4, 4, 4)
    # the one kept value of each 2 x 2 block is that block's maximum, at its position
    numpy.testing.assert_array_equal(blocks.amax(-1).cpu().numpy(), xb.amax(-1).cpu().numpy())
    numpy.testing.assert_array_equal(blocks.argmax(-1).cpu().numpy(),
                                     xb.argmax(-1).cpu().numpy())


def test_gradient_flows_only_through_the_switches():
    x = (autograd.rand(1, 1, 4, 4) + 0.1).requires_grad_()
    pooled, switches = cae.nn.MaxPool2d(2, return_indices=True)(x)
    up = cae.nn.MaxUnpool2d(2)(pooled, switches)
    grad, = autograd.grad(up.sum(), x)
    numpy.testing.assert_array_equal(grad.cpu().numpy(), (up != 0).float().cpu().numpy())


def test_decoder_shapes_and_unpooled_zeros():
    autograd.manual_seed(0)
    model = cae.ConvAutoencoder()
    keep = {}
    with autograd.no_grad():
        code, switches = model.encode(autograd.rand(2, 1, 28, 28))
        out = model.decode(code, switches, keep)
    assert tuple(code.shape) == (2, 32, 7, 7) and tuple(out.shape) == (2, 1, 28, 28)
    assert tuple(keep['unpooled2'].shape) == (2, 32, 14, 14)
    assert cae.zero_fraction(keep['unpooled2']) >= 0.75
    assert cae.zero_fraction(keep['unpooled1']) >= 0.75


@pytest.mark.slow
def test_training_beats_the_mean_image():
    _, _, mse, baseline = cae.train(epochs=1, n_train=800, batch_size=32, lr=5e-3, log=None)
    assert mse[-1] < 0.5 * baseline
