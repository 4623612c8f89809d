"""Generative adversarial networks on a 2-D distribution, a conditional GAN, and a DCGAN on digits.

Aggarwal, *Neural Networks and Deep Learning*, sec. 10.4.  A generator G maps noise z to
samples; a discriminator D scores how likely a sample is real.  D maximises

    sum_real log D(X) + sum_synthetic log(1 - D(G(Z)))                 (sec. 10.4, the minimax game)

and G minimises log(1 - D(G(Z))); as the text notes, that loss saturates early in training,
so G maximises log D(G(Z)) instead (the non-saturating form).  Both losses are
``nn.BCEWithLogitsLoss`` on D's logits; the two networks take turns, one Adam step each.

The conditional GAN (10.4.3) feeds a condition (here the one-hot index of the mixture
component) to both networks: G(z, c) must produce samples of component c, and D judges
(sample, c) pairs.

The DCGAN (10.4.3) follows the text's generator: 100-dimensional Gaussian noise, a fully
connected map reshaped into 1024 feature maps of 4 x 4, then transposed convolutions of
stride 2 ("fractionally strided") that halve the depth and double the width and height
(512 maps of 8 x 8, 256 of 16 x 16, 128 of 32 x 32, the 3 x 64 x 64 image), ReLU and batch
normalisation inside, tanh at the output; the discriminator mirrors it with strided
convolutions and leaky ReLUs, its last convolution flattened into one sigmoid output.
:func:`dcgan` builds that network at any size; the one trained here is a conditional DCGAN
(10.4.4: the digit's one-hot label is appended to the noise, and to the discriminator's
input as ten constant maps) on scikit-learn's 8 x 8 digits: 100-d noise -> 128 maps of 2 x 2
-> 64 of 4 x 4 -> the 1 x 8 x 8 digit.  Its scores: a classifier trained on the real digits
reads the digit asked for, and the maximum mean discrepancy (MMD, a two-sample statistic)
between generated and real digits falls well below the untrained generator's.

The data: eight Gaussians (standard deviation 0.05) on the unit circle.  The plain GAN's
samples should land near the circle's modes; the conditional GAN's samples for condition c
near mode c.  ``runs/gan/samples.png`` shows both.

Run: python examples/gan.py [--epochs 3000] [--dcgan-steps 1500] [--out runs/gan]
(``--epochs`` is the number of alternating training steps of the 2-D GANs.)
"""
import math

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn
import optim

MODES = 8


def ring(n, generator=None, device=None, std=0.05):
    """n points of the 8-Gaussian ring: (points (n, 2), component index (n,))."""
    k = autograd.randint(0, MODES, (n,), generator=generator, device=device)
    angle = k.float() * (2 * math.pi / MODES)
    centre = autograd.stack([angle.cos(), angle.sin()], 1)
    return centre + std * autograd.randn(n, 2, generator=generator, device=device), k


def centres(device=None):
    angle = autograd.arange(MODES, device=device).float() * (2 * math.pi / MODES)
    return autograd.stack([angle.cos(), angle.sin()], 1)


def mlp(n_in, n_out, hidden=128):
    return nn.Sequential(nn.Linear(n_in, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden),
                         nn.LeakyReLU(0.2), nn.Linear(hidden, n_out))


class GAN(nn.Module):
    """Generator and discriminator; ``conditional`` adds the one-hot component to both."""

    def __init__(self, noise=8, conditional=False, hidden=128):
        super().__init__()
        self.noise, self.conditional = noise, conditional
        c = MODES if conditional else 0
        self.G = mlp(noise + c, 2, hidden)
        self.D = mlp(2 + c, 1, hidden)

    def _with(self, x, k):
        if not self.conditional:
            return x
        return autograd.cat([x, nn.functional.one_hot(k, MODES).to(x.dtype)], 1)

    def generate(self, n, k=None, generator=None):
        """n samples (n, 2); for a conditional GAN, of components ``k`` (n,)."""
        p = next(self.parameters())
        z = autograd.randn(n, self.noise, generator=generator, dtype=p.dtype, device=p.device)
        return self.G(self._with(z, k))

    def discriminate(self, x, k=None):
        """D's logits (n,): log D / (1 - D)."""
        return self.D(self._with(x, k)).squeeze(1)


def train(steps=3000, conditional=False, batch=256, lr=1e-3, seed=0, device=None, log=print):
    """Alternate one discriminator and one generator Adam step on fresh batches."""
    autograd.manual_seed(seed)
    dev = autograd.device(device or autograd.get_default_device())
    gen = autograd.Generator(dev).manual_seed(seed)
    model = GAN(conditional=conditional).to(dev)
    opt_d = optim.Adam(model.D.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_g = optim.Adam(model.G.parameters(), lr=lr, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    ones, zeros = autograd.ones(batch, device=dev), autograd.zeros(batch, device=dev)
    for step in range(steps):
        real, k = ring(batch, gen, dev)
        fake = model.generate(batch, k, gen)
        # D: maximise log D(X) + log(1 - D(G(Z)))
        d_loss = bce(model.discriminate(real, k), ones) + \
            bce(model.discriminate(fake.detach(), k), zeros)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        # G: maximise log D(G(Z)) (non-saturating)
        g_loss = bce(model.discriminate(fake, k), ones)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        if log and (step + 1) % 500 == 0:
            log(f'  step {step + 1}: D loss {d_loss.item():.3f}, G loss {g_loss.item():.3f}')
    return model


@autograd.no_grad()
def mode_statistics(model, n=2000, seed=1):
    """(fraction of samples within 0.25 of some mode, number of modes holding at least
    3% of the samples, for a conditional GAN the fraction landing on their own mode)."""
    dev = next(model.parameters()).device
    gen = autograd.Generator(dev).manual_seed(seed)
    k = autograd.randint(0, MODES, (n,), generator=gen, device=dev)
    x = model.generate(n, k if model.conditional else None, gen)
    dist = ((x.unsqueeze(1) - centres(dev).unsqueeze(0)) ** 2).sum(2).sqrt()   # (n, 8)
    nearest = dist.argmin(1)
    close = dist.min(1).values < 0.25
    counts = nn.functional.one_hot(nearest[close], MODES).sum(0) if close.any() else None
    covered = int((counts >= 0.03 * n).sum().item()) if counts is not None else 0
    own = ((nearest == k) & close).float().mean().item() if model.conditional else None
    return close.float().mean().item(), covered, own


def mmd(x, y, scales=(0.5, 1.0, 2.0)):
    """Squared maximum mean discrepancy between samples x (n, d) and y (m, d): the biased
    estimate mean k(x, x') + mean k(y, y') - 2 mean k(x, y), with k a sum of Gaussian kernels
    exp(-|a - b|^2 / (2 s^2)) whose widths s are ``scales`` times the median distance
    within y.  Zero when the two samples coincide; a two-sample statistic."""
    def sq_dist(a, b):
        return ((a * a).sum(1, keepdim=True) + (b * b).sum(1) - 2 * a @ b.T).clamp(min=0)
    dxx, dyy, dxy = sq_dist(x, x), sq_dist(y, y), sq_dist(x, y)
    width2 = dyy.flatten().median()             # the squared median distance within y
    total = 0.0
    for s in scales:
        def k(d2):
            return (-d2 / (2 * s * s * width2)).exp().mean()
        total = total + k(dxx) + k(dyy) - 2 * k(dxy)
    return float(total)


def dcgan(noise=100, image=64, channels=3, start=4, depth=1024, classes=0):
    """The DCGAN of sec. 10.4.3 as (generator, discriminator).

    Generator: (N, noise + classes) -> a linear map reshaped to (N, depth, start, start),
    then transposed convolutions (4 x 4 kernels, stride 2) halving the depth and doubling
    the size up to (N, channels, image, image), batch norm and ReLU between, tanh last.
    Discriminator: (N, channels + classes, image, image) -> strided convolutions doubling
    the depth and halving the size back to (N, depth, start, start), leaky ReLU (0.2) and
    batch norm, and a last convolution over the whole start x start map: (N, 1) logits.
    ``classes`` > 0 makes it conditional (the one-hot label appended to the noise, and to
    the image as constant maps)."""
    g = [nn.Linear(noise + classes, depth * start * start),
         nn.Unflatten(1, (depth, start, start)), nn.BatchNorm2d(depth), nn.ReLU()]
    d, size = depth, start
    while size * 2 < image:
        g += [nn.ConvTranspose2d(d, d // 2, 4, stride=2, padding=1), nn.BatchNorm2d(d // 2),
              nn.ReLU()]
        d, size = d // 2, size * 2
    g += [nn.ConvTranspose2d(d, channels, 4, stride=2, padding=1), nn.Tanh()]
    # the discriminator mirrors it: d is now the generator's last hidden depth
    D = [nn.Conv2d(channels + classes, d, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
    size = image // 2
    while size > start:
        D += [nn.Conv2d(d, d * 2, 4, stride=2, padding=1), nn.BatchNorm2d(d * 2),
              nn.LeakyReLU(0.2)]
        d, size = d * 2, size // 2
    D += [nn.Conv2d(d, 1, start), nn.Flatten()]
    return nn.Sequential(*g), nn.Sequential(*D)


class ConditionalDCGAN(nn.Module):
    """A conditional DCGAN for (1, image, image) pictures of ``classes`` labels."""

    def __init__(self, noise=100, image=8, start=2, depth=128, classes=10):
        super().__init__()
        self.noise, self.classes = noise, classes
        self.G, self.D = dcgan(noise, image, 1, start, depth, classes)

    def generate(self, labels, generator=None):
        """Images (n, 1, image, image) in [-1, 1] of the digits ``labels`` (n,)."""
        p = next(self.parameters())
        z = autograd.randn(len(labels), self.noise, generator=generator, dtype=p.dtype,
                           device=p.device)
        return self.G(autograd.cat([z, nn.functional.one_hot(labels, self.classes)
                                    .to(p.dtype)], 1))

    def discriminate(self, images, labels):
        """D's logits (n,) for (image, label) pairs."""
        n, _, h, w = images.shape
        maps = nn.functional.one_hot(labels, self.classes).to(images.dtype)
        maps = maps.reshape(n, self.classes, 1, 1).expand(n, self.classes, h, w)
        return self.D(autograd.cat([images, maps], 1)).squeeze(1)


def digit_data(device=None):
    """scikit-learn's digits as (images (n, 1, 8, 8) in [-1, 1], labels (n,))."""
    X, y = _data.digits()
    X, y = _data.to_tensors(X * 2 - 1, y, device=device)
    return X.reshape(-1, 1, 8, 8), y


def digit_classifier(X, y, steps=300, seed=0):
    """A softmax classifier on 3/4 of the real digits (a hidden layer of 64): the judge of
    the generated ones.  Returns (model, accuracy on the remaining quarter)."""
    autograd.manual_seed(seed)
    perm = autograd.randperm(len(y), generator=autograd.Generator(X.device).manual_seed(seed))
    perm = perm.to(X.device)
    cut = len(y) * 3 // 4
    train, test = perm[:cut], perm[cut:]
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(),
                          nn.Linear(64, 10)).to(X.device)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        loss = nn.functional.cross_entropy(model(X[train]), y[train])
        opt.zero_grad()
        loss.backward()
        opt.step()
    with autograd.no_grad():
        acc = _data.accuracy(model(X[test]), y[test])
    return model, acc


@autograd.no_grad()
def dcgan_scores(model, judge, X, n_per_class=50, seed=1):
    """(fraction of generated digits that ``judge`` reads as the digit asked for, MMD of
    the generated digits to the real ones X); generated in eval mode (running batch-norm
    statistics)."""
    was_training = model.training
    model.eval()
    dev = X.device
    labels = autograd.arange(10, device=dev).repeat(n_per_class)
    x = model.generate(labels, autograd.Generator(dev).manual_seed(seed))
    model.train(was_training)
    asked = (judge(x).argmax(1) == labels).float().mean().item()
    return asked, mmd(x.flatten(1), X[:len(labels)].flatten(1))


def train_dcgan(steps=3000, batch=64, lr=2e-4, seed=0, device=None, log=print):
    """The conditional DCGAN on the 8 x 8 digits, Adam (lr 2e-4, beta1 0.5, as DCGAN),
    one discriminator and one (non-saturating) generator step per mini-batch.  Returns
    (model, its scores before training, after training, the judge's own accuracy)."""
    dev = autograd.device(device or autograd.get_default_device())
    X, y = digit_data(dev)
    judge, judge_acc = digit_classifier(X, y, seed=seed)
    autograd.manual_seed(seed)
    gen = autograd.Generator(dev).manual_seed(seed)
    model = ConditionalDCGAN().to(dev)
    before = dcgan_scores(model, judge, X)
    opt_d = optim.Adam(model.D.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_g = optim.Adam(model.G.parameters(), lr=lr, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    ones, zeros = autograd.ones(batch, device=dev), autograd.zeros(batch, device=dev)
    for step in range(steps):
        idx = autograd.randint(0, len(y), (batch,), generator=gen, device=dev)
        real, k = X[idx], y[idx]
        fake = model.generate(k, gen)
        d_loss = bce(model.discriminate(real, k), ones) + \
            bce(model.discriminate(fake.detach(), k), zeros)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = bce(model.discriminate(fake, k), ones)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        if log and (step + 1) % 500 == 0:
            asked, dist = dcgan_scores(model, judge, X)
            log(f'  step {step + 1}: D loss {d_loss.item():.3f}, G loss {g_loss.item():.3f}, '
                f'read as asked {asked:.1%}, MMD {dist:.4f}')
    return model, before, dcgan_scores(model, judge, X), judge_acc


def main(argv=None):
    parser = _data.parser('gan', __doc__, epochs=3000, epochs_help='training steps')
    parser.add_argument('--dcgan-steps', type=int, default=1500)
    args = parser.parse_args(argv)
    result = {}
    fig, axes = _data.figure(1, 2, figsize=(10, 5))
    data, _ = ring(2000, autograd.Generator('cpu').manual_seed(0))
    for ax, conditional in zip(axes, (False, True)):
        name = 'conditional GAN' if conditional else 'GAN'
        print(name)
        model = train(args.epochs, conditional, seed=args.seed, device=args.device)
        close, covered, own = mode_statistics(model)
        result[name] = {'near_a_mode': close, 'modes_covered': covered, 'own_mode': own}
        print(f'{name}: {close:.1%} of samples within 0.25 of a mode, {covered} of {MODES} '
              'modes covered' + (f', {own:.1%} on the mode asked for' if conditional else ''))
        d = data.numpy()
        ax.scatter(d[:, 0], d[:, 1], s=2, color='0.75', label='data')
        with autograd.no_grad():
            dev = next(model.parameters()).device
            k = autograd.arange(MODES, device=dev).repeat(100)
            x = model.generate(len(k), k if conditional else None).cpu().numpy()
        ax.scatter(x[:, 0], x[:, 1], s=2, c=k.cpu().numpy() if conditional else 'tab:red',
                   cmap='tab10' if conditional else None, label='generated')
        ax.set(title=name, aspect='equal')
    print('plot:', _data.savefig(fig, args.out, 'samples.png'))

    print('conditional DCGAN on the 8 x 8 digits')
    model, before, after, judge_acc = train_dcgan(args.dcgan_steps, seed=args.seed,
                                                  device=args.device)
    print(f'the judge (a classifier of the real digits) reads {judge_acc:.1%} of held-out '
          'real digits right')
    for name, (asked, dist) in (('untrained', before), ('trained', after)):
        print(f'{name} generator: {asked:.1%} of its digits read as the digit asked for, '
              f'MMD to the real digits {dist:.4f}')
    result['conditional DCGAN'] = {'read_as_asked': after[0], 'mmd': after[1],
                                   'untrained_read_as_asked': before[0],
                                   'untrained_mmd': before[1], 'judge_accuracy': judge_acc}
    with autograd.no_grad():
        model.eval()
        dev = next(model.parameters()).device
        x = model.generate(autograd.arange(10, device=dev).repeat_interleave(8))
    fig, axes = _data.figure(10, 8, figsize=(5, 6.5))
    for ax, img in zip(axes.ravel(), x.reshape(-1, 8, 8).cpu().numpy()):
        ax.imshow(img, cmap='gray_r', vmin=-1, vmax=1)
        ax.axis('off')
    print('plot:', _data.savefig(fig, args.out, 'dcgan_digits.png'))
    return result


if __name__ == '__main__':
    main()
