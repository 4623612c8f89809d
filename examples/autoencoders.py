"""Autoencoders on handwritten digits: linear (= PCA), deep 2-D, sparse, denoising, contractive.

Aggarwal, *Neural Networks and Deep Learning*, sec. 2.5 and 4.10; Goodfellow, Bengio and
Courville, *Deep Learning*, ch. 14. Data: scikit-learn's 8x8 digits (1,797 images, 64 pixels
in [0, 1]), shipped with scikit-learn.

* Linear: x -> W_e x -> W_d W_e x with squared error on centred data. Its optimum spans the
  same subspace as the top-k principal components (Baldi and Hornik 1989), so the principal
  angles between the decoder's column space and the PCA/SVD subspace go to zero.
* Deep: 64 -> 128 -> 32 -> 2 -> 32 -> 128 -> 64 with ELUs. The 2-D code is drawn as a
  scatter plot coloured by digit; a nonlinear 2-D code reconstructs better than the best
  linear one (PCA with 2 components).
* Sparse: an overcomplete ReLU code (128 units for 64 pixels) with an L1 penalty on the
  activations, lambda * mean |h|: most units are silent for a given input.
* Denoising (Vincent et al. 2008): the input is corrupted (pixels zeroed with probability
  p), the target is the clean image, so the network learns to remove the corruption.
* Contractive (Rifai et al. 2011): a penalty lambda * ||dh/dx||_F^2 on the Jacobian of the
  code. The Jacobian's rows are gradients, so the penalty is computed with
  ``autograd.grad(..., create_graph=True)`` and its own gradient by double backprop.

Run: ``python examples/autoencoders.py [--epochs 200] [--out runs/autoencoders]``
"""
import os

import numpy

import _data  # noqa: I001  (before autograd: it makes a checkout importable)
from _data import digits, split
import autograd
import nn
import optim


class AutoEncoder(nn.Module):
    """encoder: (N, 64) -> (N, k) code; decoder: (N, k) -> (N, 64). forward returns both."""

    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def forward(self, x):
        h = self.encoder(x)
        return h, self.decoder(h)


def linear_autoencoder(n_in, k):
    return AutoEncoder(nn.Linear(n_in, k, bias=False), nn.Linear(k, n_in, bias=False))


def deep_autoencoder(n_in, k=2):
    return AutoEncoder(
        nn.Sequential(nn.Linear(n_in, 128), nn.ELU(), nn.Linear(128, 32), nn.ELU(),
                      nn.Linear(32, k)),
        nn.Sequential(nn.Linear(k, 32), nn.ELU(), nn.Linear(32, 128), nn.ELU(),
                      nn.Linear(128, n_in)))


def shallow_autoencoder(n_in, n_hidden, activation):
    """One hidden layer: the architecture of the sparse, denoising and contractive variants."""
    return AutoEncoder(nn.Sequential(nn.Linear(n_in, n_hidden), activation),
                       nn.Linear(n_hidden, n_in))


# ---------------------------------------------------------------------------------------------
# Penalties and corruptions

def l1_activity(lam):
    """Sparse autoencoder: lam * mean over the batch of sum_j |h_j|."""
    def penalty(model, x, h):
        return lam * h.abs().sum(1).mean()
    return penalty


def jacobian_frobenius(h, x):
    """||dh/dx||_F^2 per example, summed over the batch, by double backprop.

    Row j of example n's Jacobian is d h[n, j] / d x[n]: the gradient of sum_n h[n, j] with
    respect to x (the examples do not interact). Each row is computed with create_graph=True
    so the penalty can itself be differentiated with respect to the weights."""
    total = 0.0
    for j in range(h.shape[1]):
        row, = autograd.grad(h[:, j].sum(), x, create_graph=True)
        total = total + (row ** 2).sum()
    return total


def contractive(lam):
    """Contractive autoencoder: lam * mean over the batch of ||dh/dx||_F^2."""
    def penalty(model, x, h):
        return lam * jacobian_frobenius(h, x) / x.shape[0]
    return penalty


def masking_noise(p):
    """Denoising autoencoder corruption: each pixel set to 0 with probability p."""
    def corrupt(x):
        return x * (autograd.rand_like(x) >= p).to(x.dtype)
    return corrupt


# ---------------------------------------------------------------------------------------------

def fit(model, X, epochs, lr, batch_size=None, penalty=None, corrupt=None, log=None, name=''):
    """Minimise mean squared reconstruction error (+ penalty) with Adam.

    X: (N, D) tensor. ``corrupt`` maps a clean batch to the network's input (the target stays
    clean); ``penalty(model, x, h)`` adds a regulariser on the code h of input x. Returns the
    per-epoch mean training loss."""
    opt = optim.Adam(model.parameters(), lr=lr)
    batch_size = batch_size or len(X)
    curve = []
    for epoch in range(epochs):
        total = 0.0
        for idx in autograd.randperm(len(X)).to(X.device).split(batch_size):
            x = X[idx]  # a shuffled minibatch, gathered in one indexing op
            inp = corrupt(x) if corrupt else x
            if penalty is not None:
                inp = inp.detach().requires_grad_()  # a penalty may need dh/dx (contractive)
            h, x_hat = model(inp)
            loss = nn.functional.mse_loss(x_hat, x)
            if penalty is not None:
                loss = loss + penalty(model, inp, h)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(x)
        curve.append(total / len(X))
        if log and (epoch + 1) % max(1, epochs // 5) == 0:
            log(f'  {name} epoch {epoch + 1:4d}  loss {curve[-1]:.5f}')
    return curve


def reconstruction_mse(model, X):
    with autograd.no_grad():
        return nn.functional.mse_loss(model(X)[1], X).item()


# ---------------------------------------------------------------------------------------------
# PCA by SVD, the reference for the linear autoencoder (NumPy: the library has no linalg yet)

def pca(X, k):
    """Top-k principal directions of the rows of X (already centred): (D, k), orthonormal."""
    _, _, vt = numpy.linalg.svd(X, full_matrices=False)
    return vt[:k].T


def principal_angles(A, B):
    """Principal angles (degrees, ascending) between the column spaces of A and B (D, k):
    the arccosines of the singular values of Q_A^T Q_B (Bjorck and Golub 1973)."""
    qa, _ = numpy.linalg.qr(A)
    qb, _ = numpy.linalg.qr(B)
    cosines = numpy.linalg.svd(qa.T @ qb, compute_uv=False)
    return numpy.degrees(numpy.arccos(numpy.clip(cosines, -1.0, 1.0)))  # cosines descend


def pca_reconstruction_mse(X_train, X_test, k):
    """Test MSE of the best rank-k linear reconstruction fitted on the training set."""
    mean = X_train.mean(0)
    V = pca(X_train - mean, k)
    rec = (X_test - mean) @ V @ V.T + mean
    return float(((rec - X_test) ** 2).mean())


# ---------------------------------------------------------------------------------------------
# The five experiments

def run_linear(X_train, k=4, epochs=500, lr=0.01, device=None, log=print):
    """Linear autoencoder vs PCA on centred data: principal angles and both errors."""
    device = device or autograd.get_default_device()  # Module.to(None) is refused here
    Xc = X_train - X_train.mean(0)
    model = linear_autoencoder(Xc.shape[1], k).to(device)
    data = autograd.tensor(Xc, device=device)
    curve = fit(model, data, epochs, lr, log=log, name='linear')
    decoder = model.decoder.weight.detach().cpu().numpy().astype(numpy.float64)  # (D, k)
    V = pca(Xc.astype(numpy.float64), k)
    angles = principal_angles(decoder, V)
    pca_mse = float(((Xc - Xc @ V @ V.T) ** 2).mean())
    return dict(model=model, curve=curve, angles=angles, ae_mse=reconstruction_mse(model, data),
                pca_mse=pca_mse, components=V)


def run_deep(X_train, X_test, y_test, epochs=200, lr=0.003, batch_size=128, device=None,
             log=print):
    """Deep 2-D autoencoder vs 2-component PCA on held-out digits."""
    device = device or autograd.get_default_device()  # Module.to(None) is refused here
    model = deep_autoencoder(X_train.shape[1], 2).to(device)
    curve = fit(model, autograd.tensor(X_train, device=device), epochs, lr, batch_size,
                log=log, name='deep')
    model.eval()
    test = autograd.tensor(X_test, device=device)
    with autograd.no_grad():
        codes = model.encoder(test).cpu().numpy()
    return dict(model=model, curve=curve, codes=codes, labels=y_test,
                test_mse=reconstruction_mse(model, test),
                pca_mse=pca_reconstruction_mse(X_train, X_test, 2))


def active_fraction(model, X):
    """Fraction of (example, unit) pairs whose code is non-zero (> 1e-3)."""
    with autograd.no_grad():
        return (model.encoder(X) > 1e-3).float().mean().item()


def run_sparse(X_train, X_test, lam=0.003, n_hidden=128, epochs=100, lr=0.003, batch_size=128,
               device=None, log=print):
    """An overcomplete ReLU autoencoder with and without the L1 activity penalty."""
    device = device or autograd.get_default_device()  # Module.to(None) is refused here
    train = autograd.tensor(X_train, device=device)
    test = autograd.tensor(X_test, device=device)
    out = {}
    for name, penalty in (('plain', None), ('sparse', l1_activity(lam))):
        model = shallow_autoencoder(X_train.shape[1], n_hidden, nn.ReLU()).to(device)
        fit(model, train, epochs, lr, batch_size, penalty=penalty, log=log, name=name)
        out[name] = dict(model=model, active=active_fraction(model, test),
                         test_mse=reconstruction_mse(model, test))
    return out


def run_denoising(X_train, X_test, p=0.3, n_hidden=64, epochs=100, lr=0.003, batch_size=128,
                  device=None, log=print):
    """Train on masked inputs with clean targets; measure on masked held-out digits."""
    device = device or autograd.get_default_device()  # Module.to(None) is refused here
    corrupt = masking_noise(p)
    model = shallow_autoencoder(X_train.shape[1], n_hidden, nn.Sigmoid()).to(device)
    fit(model, autograd.tensor(X_train, device=device), epochs, lr, batch_size,
        corrupt=corrupt, log=log, name='denoising')
    clean = autograd.tensor(X_test, device=device)
    noisy = corrupt(clean)
    with autograd.no_grad():
        denoised = model(noisy)[1]
    mse = nn.functional.mse_loss
    return dict(model=model, clean=clean, noisy=noisy, denoised=denoised,
                noisy_mse=mse(noisy, clean).item(), denoised_mse=mse(denoised, clean).item())


def mean_jacobian_norm(model, X):
    """Mean over examples of ||dh/dx||_F^2 (the contractive penalty, without gradients)."""
    x = X.detach().requires_grad_()
    h = model.encoder(x)
    return jacobian_frobenius(h, x).item() / len(X)


def run_contractive(X_train, X_test, lam=0.01, n_hidden=32, epochs=100, lr=0.003,
                    batch_size=128, device=None, log=print):
    """A sigmoid autoencoder with and without the Jacobian penalty."""
    device = device or autograd.get_default_device()  # Module.to(None) is refused here
    train = autograd.tensor(X_train, device=device)
    test = autograd.tensor(X_test, device=device)
    out = {}
    for name, penalty in (('plain', None), ('contractive', contractive(lam))):
        autograd.manual_seed(0)  # the same initial weights for both
        model = shallow_autoencoder(X_train.shape[1], n_hidden, nn.Sigmoid()).to(device)
        fit(model, train, epochs, lr, batch_size, penalty=penalty, log=log, name=name)
        out[name] = dict(model=model, jacobian=mean_jacobian_norm(model, test),
                         test_mse=reconstruction_mse(model, test))
    return out


# ---------------------------------------------------------------------------------------------

def plots(results, out):
    deep = results['deep']
    fig, ax = _data.figure(figsize=(6, 5))
    points = ax.scatter(deep['codes'][:, 0], deep['codes'][:, 1], c=deep['labels'], s=8,
                        cmap='tab10')
    fig.colorbar(points, ax=ax, label='digit')
    ax.set_title('Deep autoencoder: 2-D codes of held-out digits')
    _data.savefig(fig, out, 'deep_2d_codes.png', dpi=120)

    linear = results['linear']
    decoder = linear['model'].decoder.weight.detach().cpu().numpy()
    V = linear['components']
    proj = V @ (V.T @ decoder)  # the decoder columns are in span(V): compare the images
    k = V.shape[1]
    fig, axes = _data.figure(2, k, figsize=(1.6 * k, 3.4))
    for j in range(k):
        axes[0, j].imshow(V[:, j].reshape(8, 8), cmap='RdBu')
        axes[1, j].imshow(proj[:, j].reshape(8, 8), cmap='RdBu')
        axes[0, j].set_axis_off()
        axes[1, j].set_axis_off()
    axes[0, 0].set_title('PCA', loc='left')
    axes[1, 0].set_title('linear AE decoder', loc='left')
    _data.savefig(fig, out, 'linear_vs_pca.png', dpi=120)

    den = results['denoising']
    rows = [('clean', den['clean']), ('masked', den['noisy']), ('denoised', den['denoised'])]
    fig, axes = _data.figure(3, 10, figsize=(10, 3.3))
    for r, (label, images) in enumerate(rows):
        images = images.detach().cpu().numpy()
        for c in range(10):
            axes[r, c].imshow(images[c].reshape(8, 8), cmap='gray_r', vmin=0, vmax=1)
            axes[r, c].set_axis_off()
        axes[r, 0].set_title(label, loc='left', fontsize=8)
    _data.savefig(fig, out, 'denoising.png', dpi=120)


def main(argv=None):
    p = _data.parser('autoencoders', __doc__, epochs=200,
                     epochs_help='epochs of the deep autoencoder; the one-hidden-layer '
                     'variants train for half as many')
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    autograd.manual_seed(args.seed)
    X, y = digits()
    X_train, _, X_test, y_test = split(X, y, n_test=400, seed=args.seed)
    dev, half = args.device, max(1, args.epochs // 2)

    print('linear autoencoder (k = 4) vs PCA')
    linear = run_linear(X_train, device=dev)
    print('  principal angles to the PCA subspace (degrees): '
          + ', '.join(f'{a:.1e}' for a in linear['angles'])
          + f'; MSE {linear["ae_mse"]:.5f} vs PCA optimum {linear["pca_mse"]:.5f}')
    print('deep autoencoder to 2-D')
    deep = run_deep(X_train, X_test, y_test, epochs=args.epochs, device=dev)
    print(f'  held-out MSE {deep["test_mse"]:.5f} vs 2-component PCA {deep["pca_mse"]:.5f}')
    print('sparse autoencoder (L1 on activations)')
    sparse = run_sparse(X_train, X_test, epochs=half, device=dev)
    for name, r in sparse.items():
        print(f'  {name:7s} active units {100 * r["active"]:5.1f}%  held-out MSE '
              f'{r["test_mse"]:.5f}')
    print('denoising autoencoder (30% of pixels masked)')
    den = run_denoising(X_train, X_test, epochs=half, device=dev)
    print(f'  held-out MSE to the clean digits: masked input {den["noisy_mse"]:.5f}, '
          f'denoised {den["denoised_mse"]:.5f}')
    print('contractive autoencoder (Jacobian penalty by double backprop)')
    con = run_contractive(X_train, X_test, epochs=half, device=dev)
    for name, r in con.items():
        print(f'  {name:11s} mean ||dh/dx||_F^2 {r["jacobian"]:.4f}  held-out MSE '
              f'{r["test_mse"]:.5f}')
    results = dict(linear=linear, deep=deep, sparse=sparse, denoising=den, contractive=con)
    plots(results, args.out)
    print(f'plots written to {args.out}')
    return results


if __name__ == '__main__':
    main()
