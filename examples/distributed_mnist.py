"""Data-parallel training of the MNIST MLP over MPI ranks (torch.distributed's API).

    mpirun -np 2 python -m mpi4py examples/distributed_mnist.py [--epochs 5]
    python examples/distributed_mnist.py            # the same program as a world of one

Every rank holds a replica of the model (``DistributedDataParallel`` broadcasts rank 0's
weights at construction) and trains on its own shard of the 4,000 training digits
(``DistributedSampler``); after each backward the gradients are averaged over the ranks,
so the replicas stay identical, and one step with ``--batch-size`` b per rank on N ranks is
one step of ordinary training on a batch of N*b.  Only rank 0 prints, evaluates and writes
the checkpoint (``--out``); the others wait for it at a barrier.  ``python -m mpi4py`` makes
an exception in any rank end the whole job (``init_process_group`` does so too).
"""
import argparse
import os
import sys
import time

os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')   # one BLAS thread per rank

import numpy  # noqa: E402

try:
    import autograd
except ImportError:     # run from a checkout that is not pip-installed
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import autograd
import autograd.distributed as dist  # noqa: E402
import nn  # noqa: E402
import optim  # noqa: E402
from autograd.datasets import load_mnist_5k  # noqa: E402
from autograd.utils.data import DataLoader, DistributedSampler, TensorDataset  # noqa: E402


def make_model():
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(),
                         nn.Linear(256, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def log(*args):
    """Print from rank 0 only (every rank computes the same averaged numbers)."""
    if dist.get_rank() == 0:
        print(*args, flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--epochs', type=int, default=5)
    p.add_argument('--batch-size', type=int, default=64, help='per rank')
    p.add_argument('--lr', type=float, default=0.05)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--limit', type=int, default=None, help='use only this many training digits')
    p.add_argument('--out', default=None, help='rank 0 writes checkpoint.pt here')
    args = p.parse_args(argv)

    dist.init_process_group('mpi')
    rank, world = dist.get_rank(), dist.get_world_size()
    autograd.manual_seed(args.seed)
    X, y = load_mnist_5k()              # (5000, 784) in [0, 1], labels 0-9
    order = numpy.random.default_rng(args.seed).permutation(len(y))
    train, held = order[:4000], order[4000:]
    if args.limit:
        train = train[:args.limit]
    data = TensorDataset(autograd.tensor(X[train]), autograd.tensor(y[train]))
    sampler = DistributedSampler(data, shuffle=True, seed=args.seed)
    loader = DataLoader(data, batch_size=args.batch_size, sampler=sampler)
    model = nn.parallel.DistributedDataParallel(make_model())
    opt = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    log(f'{world} rank(s), {len(train)} digits, batch {args.batch_size} per rank '
        f'({args.batch_size * world} per step)')
    history = []
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        model.train()
        total = autograd.zeros(2, dtype=autograd.float64)
        steps, start = 0, time.perf_counter()
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += autograd.tensor([loss.item() * len(yb), len(yb)], dtype=autograd.float64)
            steps += 1
        seconds = time.perf_counter() - start
        dist.all_reduce(total)          # the epoch's mean loss over every rank's samples
        mean_loss = (total[0] / total[1]).item()
        model.eval()
        with autograd.no_grad():
            acc = (model(autograd.tensor(X[held])).argmax(1)
                   == autograd.tensor(y[held])).float().mean().item()
        history.append((mean_loss, acc, seconds / steps))
        log(f'epoch {epoch + 1}: loss {mean_loss:.4f}, held-out accuracy {acc:.3f}, '
            f'{1e3 * seconds / steps:.2f} ms/step')
    if args.out and rank == 0:
        os.makedirs(args.out, exist_ok=True)
        autograd.save({'model': model.module.state_dict(), 'optimizer': opt.state_dict()},
                      os.path.join(args.out, 'checkpoint.pt'))
    dist.barrier()                      # the others wait until rank 0 has written
    dist.destroy_process_group()
    return history


if __name__ == '__main__':
    main()
