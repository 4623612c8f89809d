"""GANs (sec. 10.4): the data, the conditional plumbing, and the adversarial losses."""
import math

import numpy
import pytest

import autograd
import nn
from example_scripts import load_example

gan = load_example('gan')


def test_ring_data_sits_on_the_eight_modes():
    x, k = gan.ring(4000, autograd.Generator(autograd.get_default_device()).manual_seed(0))
    gap = (x - gan.centres()[k]).norm(dim=1)
    assert gap.mean().item() == pytest.approx(0.05 * math.sqrt(math.pi / 2), rel=0.05)
    counts = nn.functional.one_hot(k, gan.MODES).sum(0).cpu().numpy()
    assert counts.min() > 400                                   # 500 expected per mode


def test_discriminator_loss_is_the_minimax_objective():
    model = gan.GAN(noise=3).double()
    real = autograd.randn(5, 2, dtype=autograd.float64)
    fake = model.generate(5).detach()
    bce = nn.BCEWithLogitsLoss()
    loss = bce(model.discriminate(real), autograd.ones(5, dtype=autograd.float64)) + \
        bce(model.discriminate(fake), autograd.zeros(5, dtype=autograd.float64))
    d_real = model.discriminate(real).sigmoid().detach().cpu().numpy()
    d_fake = model.discriminate(fake).sigmoid().detach().cpu().numpy()
    expected = -(numpy.log(d_real).mean() + numpy.log(1 - d_fake).mean())
    assert loss.item() == pytest.approx(expected, rel=1e-10)


def test_conditional_gan_sees_the_condition():
    autograd.manual_seed(0)
    model = gan.GAN(noise=4, conditional=True)
    assert model.G[0].in_features == 4 + gan.MODES and model.D[0].in_features == 2 + gan.MODES
    dev = autograd.get_default_device()
    g = autograd.Generator(dev)
    a = model.generate(3, autograd.tensor([0, 0, 0]), g.manual_seed(1))
    b = model.generate(3, autograd.tensor([5, 5, 5]), g.manual_seed(1))
    assert a.shape == (3, 2) and (a - b).abs().max().item() > 1e-6   # same noise, other mode
