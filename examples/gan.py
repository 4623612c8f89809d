"""Generative adversarial networks on a 2-D distribution, and a conditional GAN.

Aggarwal, *Neural Networks and Deep Learning*, sec. 10.4.  A generator G maps noise z to
samples; a discriminator D scores how likely a sample is real.  D maximises

    sum_real log D(X) + sum_synthetic log(1 - D(G(Z)))                 (sec. 10.4, the minimax game)

and G minimises log(1 - D(G(Z))); as the text notes, that loss saturates early in training,
so G maximises log D(G(Z)) instead (the non-saturating form).  Both losses are
``nn.BCEWithLogitsLoss`` on D's logits; the two networks take turns, one Adam step each.

The conditional GAN (10.4.3) feeds a condition (here the one-hot index of the mixture
component) to both networks: G(z, c) must produce samples of component c, and D judges
(sample, c) pairs.

The data: eight Gaussians (standard deviation 0.05) on the unit circle.  The plain GAN's
samples should land near the circle's modes; the conditional GAN's samples for condition c
near mode c.  ``runs/gan/samples.png`` shows both.

Run: python examples/gan.py [--epochs 3000] [--out runs/gan]
(``--epochs`` is the number of alternating training steps.)
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


def main(argv=None):
    args = _data.parser('gan', __doc__, epochs=3000, epochs_help='training steps'
                        ).parse_args(argv)
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
    return result


if __name__ == '__main__':
    main()
