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


def _shapes(layers, x):
    """(layer name, output shape) after every layer of ``layers``."""
    out = []
    with autograd.no_grad():
        for layer in layers:
            x = layer(x)
            out.append((type(layer).__name__, tuple(x.shape)))
    return out


def test_dcgan_has_the_texts_shapes():
    # sec. 10.4.3: 100-d noise -> 1024 maps of 4 x 4, then depth halves and size doubles
    # up to the 3 x 64 x 64 image; the discriminator's last convolution -> one output
    G, D = gan.dcgan()
    g = [s for name, s in _shapes(G, autograd.randn(2, 100))
         if name in ('Unflatten', 'ConvTranspose2d')]
    assert g == [(2, 1024, 4, 4), (2, 512, 8, 8), (2, 256, 16, 16), (2, 128, 32, 32),
                 (2, 3, 64, 64)]
    d = [s for name, s in _shapes(D, autograd.randn(2, 3, 64, 64)) if name == 'Conv2d']
    assert d == [(2, 128, 32, 32), (2, 256, 16, 16), (2, 512, 8, 8), (2, 1024, 4, 4),
                 (2, 1, 1, 1)]
    assert isinstance(G[-1], nn.Tanh)
    # "fully connected layers were not used" in the discriminator; leaky ReLUs; no pooling
    kinds = {type(m) for m in D.modules()}
    assert nn.Linear not in kinds and nn.LeakyReLU in kinds and nn.ReLU not in kinds
    assert not kinds & {nn.MaxPool2d, nn.AvgPool2d}
    # only the noise projection is fully connected in the generator
    assert [type(m) for m in G.modules()].count(nn.Linear) == 1


def test_conditional_dcgan_shapes_for_the_8x8_digits():
    model = gan.ConditionalDCGAN()
    labels = autograd.tensor([0, 3, 9])
    x = model.generate(labels)
    assert x.shape == (3, 1, 8, 8) and x.abs().max().item() <= 1
    assert model.G[0].in_features == 100 + 10 and model.D[0].in_channels == 1 + 10
    assert model.discriminate(x, labels).shape == (3,)


def test_mmd_is_a_two_sample_statistic():
    g = autograd.Generator(autograd.get_default_device()).manual_seed(0)
    x = autograd.randn(300, 2, generator=g, dtype=autograd.float64)
    y = autograd.randn(300, 2, generator=g, dtype=autograd.float64)
    assert gan.mmd(x, x) == pytest.approx(0, abs=1e-12)
    assert gan.mmd(x + 1, y) > 10 * gan.mmd(x, y) > 0
    # against the definition in NumPy, with the median distance of y as the kernel width
    a, b = x.cpu().numpy(), y.cpu().numpy()

    def d2(p, q):
        return ((p[:, None] - q[None]) ** 2).sum(-1)
    flat = numpy.sort(d2(b, b).ravel())
    width2 = flat[(len(flat) - 1) // 2]          # Tensor.median: the lower middle value
    expected = sum(numpy.exp(-d2(a, a) / (2 * s * s * width2)).mean()
                   + numpy.exp(-d2(b, b) / (2 * s * s * width2)).mean()
                   - 2 * numpy.exp(-d2(a, b) / (2 * s * s * width2)).mean()
                   for s in (0.5, 1.0, 2.0))
    assert gan.mmd(x, y) == pytest.approx(expected, rel=1e-6)


@pytest.mark.slow
def test_gan_learns_the_ring():
    dev = autograd.get_default_device()
    data, _ = gan.ring(1000, autograd.Generator(dev).manual_seed(5), dev)
    autograd.manual_seed(0)
    untrained = gan.GAN()
    model = gan.train(800, seed=0, log=None)
    with autograd.no_grad():
        g = autograd.Generator(dev)
        before = gan.mmd(untrained.to(dev).generate(1000, generator=g.manual_seed(1)), data)
        after = gan.mmd(model.generate(1000, generator=g.manual_seed(1)), data)
    close, covered, _ = gan.mode_statistics(model)
    assert after < before / 5
    assert close > 0.5 and covered >= 6


@pytest.mark.slow
def test_conditional_dcgan_learns_the_digits():
    model, before, after, judge_acc = gan.train_dcgan(400, seed=0, log=None)
    assert judge_acc > 0.9
    assert before[0] < 0.3                   # untrained: about chance (10%) for the digit asked
    # after 400 steps (seed 0: 30% read as asked, MMD 1.80 -> 0.13; the full run's 1,500
    # steps reach more): the judge reads the digit asked for well above chance, and the
    # generated digits are far closer to the real ones
    assert after[0] > 0.2
    assert after[1] < before[1] / 4
