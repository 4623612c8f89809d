"""Autoencoders on handwritten digits: linear (= PCA), deep 2-D, sparse, denoising, contractive.

Aggarwal, *Neural Networks and Deep Learning*, sec. 2.5 and 4.10; Goodfellow, Bengio and
Courville, *Deep Learning*, ch. 14. Data: scikit-learn's 8x8 digits (1,797 images, 64 pixels
in [0, 1]), shipped with scikit-learn.

* Linear: x -> W_e x -> W_d W_e x with squared error on centred data. Its optimum spans the
  same subspace as the top-k principal components (Baldi and Hornik 1989), so the principal
  angles between the decoder's column space and the PCA/SVD subspace go to zero. The basis
  differs: the loss sees only W_d W_e, unchanged by W_d M, M^-1 W_e, so the decoder's columns
  are some basis of that subspace (neither orthonormal nor ordered by variance); rotated by
  the orthogonal Procrustes rotation after orthonormalising, they are PCA's components
  (``linear_vs_pca.png`` shows the three bases, the angles and the cosines).
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
* Tied weights (sec. 2.5.1.3, Fig. 2.8, eq. 2.41): one D x k matrix V encodes (h = x V) and
  decodes (x^ = h V^T). Half the parameters, and at the optimum V^T V = I: the columns of V
  are an orthonormal basis of the PCA subspace (exactly what SVD gives, Exercise 14).
* Competitive sparsity (sec. 2.5.5): the r-sparse autoencoder keeps each example's r largest
  code values and zeroes the rest; the winner-take-all autoencoder keeps each unit's largest
  fraction f of values over the mini-batch. Backprop goes through the kept units only.
* Outlier scores (sec. 2.5.4): the squared reconstruction errors of a row (an example) or a
  column (a feature) of D - D^; digits with scrambled pixels and a pixel replaced by noise
  are found by them.

Run: ``python examples/autoencoders.py [--epochs 200] [--out runs/autoencoders]``
"""
import os

import _data  # noqa: I001  (first: fixes the BLAS threads, makes a checkout importable)
from _data import digits, split
import numpy
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


def procrustes(A, B):
    """The orthogonal Q (k, k) minimising ||A Q - B||_F (orthogonal Procrustes, Schonemann
    1966): Q = U W^T from the SVD A^T B = U S W^T."""
    u, _, wt = numpy.linalg.svd(A.T @ B)
    return u @ wt


def compare_bases(decoder, V):
    """Why the linear autoencoder's basis (the decoder's columns, (D, k)) is not PCA's V
    (D, k) although it spans the same subspace.  The loss sees only the product W_d W_e, so
    W_d M, M^-1 W_e is as good for any invertible M: any basis of the subspace is optimal and
    the one found depends on the initialisation.  Orthonormalised (the polar factor
    W_d (W_d^T W_d)^-1/2) and rotated by the Procrustes rotation onto V, it becomes V.

    Returns the principal angles (degrees), the decoder's Gram matrix W_d^T W_d (not I), the
    cosines |cos| between each decoder column and each principal direction (k, k), the
    rotated basis (D, k) and its largest distance to V."""
    gram = decoder.T @ decoder
    evals, evecs = numpy.linalg.eigh(gram)
    orthonormal = decoder @ evecs @ numpy.diag(evals ** -0.5) @ evecs.T   # the polar factor
    rotated = orthonormal @ procrustes(orthonormal, V)
    norms = numpy.linalg.norm(decoder, axis=0)
    return dict(angles=principal_angles(decoder, V), gram=gram,
                cosines=numpy.abs(V.T @ decoder) / norms, rotated=rotated,
                rotation_error=float(numpy.abs(rotated - V).max()))


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
    pca_mse = float(((Xc - Xc @ V @ V.T) ** 2).mean())
    return dict(model=model, curve=curve, ae_mse=reconstruction_mse(model, data),
                pca_mse=pca_mse, components=V, decoder=decoder, **compare_bases(decoder, V))


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
# Tied weights, competitive sparsity and outlier scores (sec. 2.5.1.3, 2.5.4, 2.5.5)

class TiedAutoEncoder(nn.Module):
    """h = x V, x^ = h V^T with one parameter V (n_in, k): eq. 2.41, W = V^T."""

    def __init__(self, n_in, k):
        super().__init__()
        self.V = nn.Parameter(autograd.empty(n_in, k))
        nn.init.normal_(self.V, std=n_in ** -0.5)

    def forward(self, x):
        h = x @ self.V
        return h, h @ self.V.T


def run_tied(X_train, k=4, epochs=300, lr=0.01, device=None, log=print):
    """The tied linear autoencoder on centred data: principal angles of V to the PCA basis,
    how far V^T V is from the identity, both errors and the parameter counts."""
    device = device or autograd.get_default_device()
    Xc = X_train - X_train.mean(0)
    model = TiedAutoEncoder(Xc.shape[1], k).to(device)
    data = autograd.tensor(Xc, device=device)
    curve = fit(model, data, epochs, lr, log=log, name='tied')
    V = model.V.detach().cpu().numpy().astype(numpy.float64)
    P = pca(Xc.astype(numpy.float64), k)
    return dict(model=model, curve=curve, angles=principal_angles(V, P),
                gram_error=float(numpy.abs(V.T @ V - numpy.eye(k)).max()),
                ae_mse=reconstruction_mse(model, data),
                pca_mse=float(((Xc - Xc @ P @ P.T) ** 2).mean()),
                parameters=sum(p.numel() for p in model.parameters()),
                untied_parameters=sum(p.numel() for p in linear_autoencoder(Xc.shape[1], k)
                                      .parameters()))


def top_r(h, r):
    """r-sparse code: each row of h (N, k) keeps its r largest values, the rest become 0.
    The mask is a constant, so backprop flows through the kept units only."""
    threshold = h.topk(r, dim=1).values[:, -1:]                 # (N, 1) the r-th largest
    return h * (h >= threshold).to(h.dtype)


def winner_take_all(h, fraction):
    """Lifetime sparsity: each column (unit) of h (N, k) keeps its ceil(fraction N) largest
    values over the mini-batch, the rest become 0."""
    n = max(1, int(numpy.ceil(fraction * h.shape[0])))
    threshold = h.topk(n, dim=0).values[-1:]                    # (1, k) per-unit thresholds
    return h * (h >= threshold).to(h.dtype)


class CompetitiveAutoEncoder(nn.Module):
    """A linear code z = W x + b made sparse by ``select`` (top_r or winner_take_all, applied
    with its ``amount``; winner-take-all thresholds come from the batch at hand, at test time
    too), decoded by a linear layer."""

    def __init__(self, n_in, n_hidden, select, amount):
        super().__init__()
        self.encode = nn.Linear(n_in, n_hidden)
        self.decoder = nn.Linear(n_hidden, n_in)
        self.select, self.amount = select, amount

    def encoder(self, x):
        return self.select(self.encode(x), self.amount)

    def forward(self, x):
        h = self.encoder(x)
        return h, self.decoder(h)


def run_competitive(X_train, X_test, r=10, fraction=0.1, n_hidden=100, epochs=100, lr=0.003,
                    batch_size=128, device=None, log=print):
    """The r-sparse and the winner-take-all autoencoders: the fraction of non-zero codes and
    the held-out error, next to PCA with r components (a dense r-dimensional code)."""
    device = device or autograd.get_default_device()
    train = autograd.tensor(X_train, device=device)
    test = autograd.tensor(X_test, device=device)
    out = {}
    for name, select, amount in (('r-sparse', top_r, r), ('winner-take-all', winner_take_all,
                                                          fraction)):
        model = CompetitiveAutoEncoder(X_train.shape[1], n_hidden, select, amount).to(device)
        fit(model, train, epochs, lr, batch_size, log=log, name=name)
        model.eval()
        with autograd.no_grad():
            active = (model.encoder(test) != 0).float().mean().item()
        out[name] = dict(model=model, active=active, test_mse=reconstruction_mse(model, test))
    out['pca_mse'] = pca_reconstruction_mse(X_train, X_test, r)
    return out


def outlier_scores(model, X):
    """Sec. 2.5.4: the squared entries of D - D^ summed over each row (one score per example)
    and over each column (one per feature). X (N, D) -> (N,), (D,) NumPy arrays."""
    with autograd.no_grad():
        err = ((model(X)[1] - X) ** 2).cpu().numpy().astype(numpy.float64)
    return err.sum(1), err.sum(0)


def run_outliers(X_train, X_test, k=8, n_outliers=20, noisy_pixel=27, epochs=300, lr=0.01,
                 seed=0, device=None, log=print):
    """Scores from a tied linear autoencoder fitted to the training digits, on held-out digits
    among which ``n_outliers`` have their pixels scrambled (a random permutation each) and in
    all of which pixel ``noisy_pixel`` is replaced by uniform noise.  Returns the rank AUC of
    the row scores (outliers vs the rest) and the feature with the largest column score."""
    device = device or autograd.get_default_device()
    rng = numpy.random.default_rng(seed)
    mean = X_train.mean(0)
    model = TiedAutoEncoder(X_train.shape[1], k).to(device)
    fit(model, autograd.tensor(X_train - mean, device=device), epochs, lr, log=log,
        name='outliers')
    D = X_test.copy()
    outliers = rng.choice(len(D), n_outliers, replace=False)
    for i in outliers:
        D[i] = D[i, rng.permutation(D.shape[1])]
    D[:, noisy_pixel] = rng.random(len(D))
    rows, cols = outlier_scores(model, autograd.tensor(D - mean, device=device))
    is_outlier = numpy.zeros(len(D), dtype=bool)
    is_outlier[outliers] = True
    auc = float((rows[is_outlier][:, None] > rows[~is_outlier][None, :]).mean())
    return dict(model=model, row_scores=rows, column_scores=cols, is_outlier=is_outlier,
                auc=auc, worst_feature=int(cols.argmax()), noisy_pixel=noisy_pixel)


# ---------------------------------------------------------------------------------------------

def plots(results, out):
    deep = results['deep']
    fig, ax = _data.figure(figsize=(6, 5))
    points = ax.scatter(deep['codes'][:, 0], deep['codes'][:, 1], c=deep['labels'], s=8,
                        cmap='tab10')
    fig.colorbar(points, ax=ax, label='digit')
    ax.set_title('Deep autoencoder: 2-D codes of held-out digits')
    _data.savefig(fig, out, 'deep_2d_codes.png', dpi=120)

    linear = plot_linear_vs_pca(results['linear'])
    _data.savefig(linear, out, 'linear_vs_pca.png', dpi=120)

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
    return {'linear_vs_pca': linear}


def plot_linear_vs_pca(linear):
    """Three rows of k images: PCA's components, the linear autoencoder's decoder columns as
    learned (another basis of the same subspace), and that basis orthonormalised and rotated
    onto PCA's by the Procrustes rotation (it becomes PCA's, up to the principal angles);
    beside them the principal angles and |cos| between decoder columns and components.
    Returns the figure (3 k image axes, then the angles and the cosines)."""
    import matplotlib.gridspec as gridspec
    V, decoder, rotated = linear['components'], linear['decoder'], linear['rotated']
    k = V.shape[1]
    fig, _ = _data.figure(figsize=(1.5 * k + 6.5, 4.6))
    fig.delaxes(fig.axes[0])
    grid = gridspec.GridSpec(3, k + 2, figure=fig, width_ratios=[1] * k + [2.2, 2.2])
    rows = (('PCA components', V), ('AE decoder columns', decoder),
            ('AE basis, Procrustes-rotated', rotated))
    for r, (label, basis) in enumerate(rows):
        for j in range(k):
            ax = fig.add_subplot(grid[r, j])
            column = basis[:, j]
            lim = numpy.abs(column).max()
            ax.imshow(column.reshape(8, 8), cmap='RdBu', vmin=-lim, vmax=lim)
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(label, fontsize=7)
            if r == 0:
                ax.set_title(f'{j + 1}', fontsize=8)
    ax = fig.add_subplot(grid[:, k])
    ax.bar(numpy.arange(1, k + 1), numpy.maximum(linear['angles'], 1e-9), color='tab:blue')
    ax.set_yscale('log')
    ax.set_title('principal angles (degrees)\nsubspace: the same', fontsize=8)
    ax.set_xlabel('angle', fontsize=8)
    ax.tick_params(labelsize=7)
    ax = fig.add_subplot(grid[:, k + 1])
    ax.imshow(linear['cosines'], cmap='Greys', vmin=0, vmax=1)
    for (i, j), c in numpy.ndenumerate(linear['cosines']):
        ax.text(j, i, f'{c:.2f}', ha='center', va='center', fontsize=7,
                color='white' if c > 0.6 else 'black')
    ax.set(xticks=range(k), xticklabels=range(1, k + 1), yticks=range(k),
           yticklabels=range(1, k + 1), xlabel='decoder column', ylabel='PCA component')
    ax.set_title('|cos| column vs component\nbasis: mixed', fontsize=8)
    ax.tick_params(labelsize=7)
    fig.suptitle(f'linear autoencoder vs PCA (k = {k}): the same subspace in another basis; '
                 f'orthonormalised and rotated it is PCA\'s to {linear["rotation_error"]:.0e}',
                 fontsize=9)
    return fig


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
    print('  the same subspace in another basis: decoder column norms '
          + ', '.join(f'{n:.2f}' for n in numpy.sqrt(numpy.diag(linear['gram'])))
          + '; largest |cos| between a column and a PCA component '
          + ', '.join(f'{c:.2f}' for c in linear['cosines'].max(0))
          + f'; orthonormalised and Procrustes-rotated it is PCA\'s basis to '
          f'{linear["rotation_error"]:.1e}')
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
    print('tied linear autoencoder (k = 4): one matrix V encodes and decodes')
    tied = run_tied(X_train, device=dev, log=None)
    print(f'  {tied["parameters"]} parameters (untied: {tied["untied_parameters"]}); '
          f'max |V^T V - I| {tied["gram_error"]:.1e}; largest principal angle to PCA '
          f'{max(tied["angles"]):.1e} degrees; MSE {tied["ae_mse"]:.5f} vs PCA '
          f'{tied["pca_mse"]:.5f}')
    print('competitive sparsity: r-sparse (r = 10 of 100 units) and winner-take-all (10%)')
    comp = run_competitive(X_train, X_test, epochs=half, device=dev, log=None)
    for name in ('r-sparse', 'winner-take-all'):
        print(f'  {name:15s} non-zero codes {100 * comp[name]["active"]:5.1f}%  held-out MSE '
              f'{comp[name]["test_mse"]:.5f} (PCA with 10 components '
              f'{comp["pca_mse"]:.5f})')
    print('outlier scores of a tied linear autoencoder (k = 8)')
    outl = run_outliers(X_train, X_test, device=dev, log=None)
    print(f'  20 scrambled digits among {len(X_test)}: row-score AUC {outl["auc"]:.3f}; '
          f'largest column score: pixel {outl["worst_feature"]} (the noisy one: '
          f'{outl["noisy_pixel"]})')
    results.update(tied=tied, competitive=comp, outliers=outl)
    results['figures'] = plots(results, args.out)
    print(f'plots written to {args.out}')
    return results


if __name__ == '__main__':
    main()
