"""Sparse coding: dictionary learning with an L1 penalty on the codes, the codes found by
ISTA or by autograd's gradients, the dictionary's atoms drawn as images, and the trade of
sparsity against reconstruction as lambda grows.

The shorter text S0 ("Sparse Coding", L1478-1491); Aggarwal, *Neural Networks and Deep
Learning*, sec. 2.5.5 (sparse feature learning) and sec. 4.10 (sparse autoencoders).

The problem (S0):

    min_D 1/T sum_t min_h(t) 1/2 ||x(t) - D h(t)||_2^2 + lambda ||h(t)||_1,

D a dictionary whose columns (atoms) are kept at norm 1 (otherwise D could grow and the
codes shrink towards zero for free).  D plays the part of an autoencoder's output weights.

* Codes, D fixed: ISTA, the proximal gradient method: a gradient step on the quadratic
  term, h <- h - (1/L) D^T (D h - x), with L = ||D||_2^2 its Lipschitz constant, then the
  L1 term's proximal map, the soft threshold h <- sign(h) max(|h| - lambda/L, 0).  The
  quadratic term's gradient comes from autograd (``autograd.grad``); ``ista(...,
  by_hand=True)`` writes D^T (D h - x) out and gives the same codes.  Plain (sub)gradient
  descent on the whole objective with autograd reaches about the same objective but
  leaves codes that are small, not zero: only the threshold makes them sparse.
* Dictionary, codes fixed: gradient steps on D (autograd through the reconstruction),
  then each column divided by its norm.

Data: MNIST-5k's 28x28 digits (or ``--data digits``, scikit-learn's 8x8), centred.

Run: python examples/sparse_coding.py [--epochs 3] [--device cpu] [--out runs/sparse_coding]
"""
import math

import numpy

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd


def soft_threshold(v, t):
    """The proximal map of t ||.||_1: sign(v) max(|v| - t, 0)."""
    return v.sign() * (v.abs() - t).clamp(min=0)


def lipschitz(D):
    """||D||_2^2, the largest eigenvalue of D^T D: the step 1/L makes ISTA converge."""
    return autograd.linalg.matrix_norm(D, ord=2).item() ** 2


def objective(X, D, H, lam):
    """Mean over the rows of 1/2 ||x - D h||^2 + lambda ||h||_1; X (n, d), D (d, k), H (n, k)."""
    return (0.5 * ((X - H @ D.T) ** 2).sum(1) + lam * H.abs().sum(1)).mean()


def ista(X, D, lam, steps, H=None, by_hand=False):
    """Codes H (n, k) for the rows of X (n, d) under the dictionary D (d, k) by ``steps``
    ISTA iterations from H (zeros by default)."""
    L = lipschitz(D)
    D = D.detach()
    H = autograd.zeros(X.shape[0], D.shape[1], device=X.device, dtype=X.dtype) if H is None \
        else H.detach()
    for _ in range(steps):
        if by_hand:
            grad = (H @ D.T - X) @ D
        else:
            Hg = H.requires_grad_()
            (grad,) = autograd.grad(0.5 * ((X - Hg @ D.T) ** 2).sum(), Hg)
        with autograd.no_grad():
            H = soft_threshold(H.detach() - grad / L, lam / L)
    return H


def subgradient_codes(X, D, lam, steps, lr=None):
    """Codes by plain gradient descent on the whole objective, |h|'s derivative taken by
    autograd (sign(h), 0 at 0): no threshold, so hardly any code is exactly zero."""
    lr = lr or 1.0 / lipschitz(D)
    H = autograd.zeros(X.shape[0], D.shape[1], device=X.device, dtype=X.dtype,
                       requires_grad=True)
    D = D.detach()
    for _ in range(steps):
        (g,) = autograd.grad(objective(X, D, H, lam) * X.shape[0], H)
        with autograd.no_grad():
            H -= lr * g
    return H.detach()


def normalise_columns(D):
    return D / D.norm(dim=0, keepdim=True)


def learn_dictionary(X, k, lam, epochs, generator, batch=250, code_steps=30, lr=None):
    """Alternate: ISTA codes for a mini-batch, then one gradient step on D (autograd) and
    columns renormalised.  D starts as k random training rows.  Returns (D, objective on the
    whole set after each epoch)."""
    n = X.shape[0]
    D = normalise_columns(X[autograd.randperm(n, generator=generator, device=X.device)[:k]].T)
    history = []
    for _ in range(epochs):
        for idx in autograd.randperm(n, generator=generator, device=X.device).split(batch):
            xb = X[idx]
            H = ista(xb, D, lam, code_steps, by_hand=True)     # the fast path; same codes
            Dg = D.detach().requires_grad_()
            (g,) = autograd.grad(objective(xb, Dg, H, lam), Dg)
            with autograd.no_grad():
                # 1 / the Lipschitz constant of the mean objective's gradient in D
                step = lr if lr is not None else xb.shape[0] / max(lipschitz(H), 1e-8)
                D = normalise_columns(D - step * g)
        H = ista(X, D, lam, code_steps, by_hand=True)
        history.append(objective(X, D, H, lam).item())
    return D, history


def code_stats(X, D, H):
    """(mean non-zeros per code, reconstruction error ||X - H D^T||^2 / ||X||^2)."""
    nnz = (H != 0).float().sum(1).mean().item()
    rel = (((X - H @ D.T) ** 2).sum() / (X ** 2).sum()).item()
    return nnz, rel


def load(name, device=None, seed=0):
    if name == 'mnist':
        X, _ = _data.mnist5k()
        side = 28
    else:
        X, _ = _data.digits()
        side = 8
    X = X - X.mean(0)                 # centred: the atoms model the variation
    (X,) = _data.to_tensors(X, device=device)
    return X, side


def main(argv=None):
    p = _data.parser('sparse_coding', __doc__, epochs=3, epochs_help='passes over the data')
    p.add_argument('--data', choices=('mnist', 'digits'), default='mnist')
    p.add_argument('--atoms', type=int, default=100)
    p.add_argument('--lams', default='0.1,0.3,1.0',
                   help='lambdas for the sparsity/reconstruction sweep')
    args = p.parse_args(argv)
    dev = autograd.device(args.device)
    gen = autograd.Generator(dev).manual_seed(args.seed)
    X, side = load(args.data, dev)
    lams = [float(v) for v in args.lams.split(',')]
    scale = (X ** 2).sum(1).mean().sqrt().item()     # lambda in units of a typical ||x||
    results = {'data': args.data, 'sweep': {}}
    dictionaries = {}
    for lam in lams:
        D, history = learn_dictionary(X, args.atoms, lam * scale / math.sqrt(args.atoms),
                                      args.epochs, gen)
        H = ista(X, D, lam * scale / math.sqrt(args.atoms), 100, by_hand=True)
        nnz, rel = code_stats(X, D, H)
        results['sweep'][lam] = {'non-zeros per code': nnz, 'relative reconstruction error': rel,
                                 'objective': history}
        dictionaries[lam] = D
        print(f'lambda {lam:5.2f} (x {scale / math.sqrt(args.atoms):.3f}): objective '
              f'{history[0]:.3f} -> {history[-1]:.3f}; {nnz:5.1f} of {args.atoms} codes '
              f'non-zero, relative reconstruction error {rel:.3f}')

    # codes for one dictionary: ISTA against autograd's (sub)gradient descent
    lam = lams[len(lams) // 2]
    lam_abs = lam * scale / math.sqrt(args.atoms)
    D = dictionaries[lam]
    Xs = X[:300]
    H_ista = ista(Xs, D, lam_abs, 100)
    H_hand = ista(Xs, D, lam_abs, 100, by_hand=True)
    H_sub = subgradient_codes(Xs, D, lam_abs, 100)
    results['ISTA by autograd vs by hand: max |difference|'] = (H_ista - H_hand).abs().max().item()
    for name, H in (('ISTA', H_ista), ('subgradient', H_sub)):
        results[f'{name}: objective'] = objective(Xs, D, H, lam_abs).item()
        results[f'{name}: exact zeros'] = (H == 0).float().mean().item()
        results[f'{name}: |h| < 1e-3'] = (H.abs() < 1e-3).float().mean().item()
        print(f'codes by {name:11s}: objective {results[f"{name}: objective"]:.4f}, '
              f'exactly zero {results[f"{name}: exact zeros"]:.3f}, '
              f'|h| < 1e-3 {results[f"{name}: |h| < 1e-3"]:.3f}')

    fig, axes = _data.figure(1, 2, figsize=(11, 4.5))
    atoms = D.T.cpu().numpy().reshape(-1, side, side)
    cols = int(math.ceil(math.sqrt(len(atoms))))
    grid = numpy.ones((cols * (side + 1), cols * (side + 1))) * atoms.min()
    for i, a in enumerate(atoms):
        r, c = divmod(i, cols)
        grid[r * (side + 1):r * (side + 1) + side, c * (side + 1):c * (side + 1) + side] = a
    axes[0].imshow(grid, cmap='gray')
    axes[0].set_axis_off()
    axes[0].set_title(f'{len(atoms)} atoms, lambda {lam}')
    sw = results['sweep']
    axes[1].plot([sw[v]['non-zeros per code'] for v in lams],
                 [sw[v]['relative reconstruction error'] for v in lams], 'o-')
    for v in lams:
        axes[1].annotate(f'lambda {v}', (sw[v]['non-zeros per code'],
                                         sw[v]['relative reconstruction error']), fontsize=8)
    axes[1].set(xlabel='non-zero codes per image', ylabel='relative reconstruction error',
                title='sparsity against reconstruction')
    print('plot:', _data.savefig(fig, args.out, 'sparse_coding.png'))
    return results


if __name__ == '__main__':
    main()
