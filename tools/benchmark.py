"""Side-by-side speed benchmark: each workload runs through autograd and PyTorch in one
process, interleaved round by round, and reports the median of the per-round time
ratios (ours / PyTorch) with the absolute medians.

    python tools/benchmark.py                 # every workload
    python tools/benchmark.py tiny-chain -r 11

PyTorch is limited to 2 threads (as the CI machines have 2 cores).
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import autograd  # noqa: E402

WORKLOADS = {}


def workload(name, iters):
    """Register ``fn(lib) -> step`` as a workload run ``iters`` times per round."""
    def deco(fn):
        WORKLOADS[name] = (fn, iters)
        return fn
    return deco


@workload('tiny-chain', 2000)
def tiny_chain(lib):
    """Six elementwise ops on 4-element float32 tensors, forward + backward: the engine's
    per-op overhead."""
    rng = np.random.default_rng(0)
    a = lib.tensor(rng.standard_normal(4).astype(np.float32), requires_grad=True)
    b = lib.tensor(rng.standard_normal(4).astype(np.float32), requires_grad=True)

    def step():
        y = (a * b + a).exp().tanh() * b - a
        y.sum().backward()
    return step


def _time(step, iters):
    t0 = time.perf_counter()
    for _ in range(iters):
        step()
    return (time.perf_counter() - t0) / iters


def run(name, rounds, torch):
    make, iters = WORKLOADS[name]
    ours, theirs = make(autograd), make(torch)
    for _ in range(max(1, iters // 10)):          # warm up both
        ours()
        theirs()
    t_ours, t_theirs, ratios = [], [], []
    for _ in range(rounds):
        a = _time(ours, iters)
        b = _time(theirs, iters)
        t_ours.append(a)
        t_theirs.append(b)
        ratios.append(a / b)
    return statistics.median(t_ours), statistics.median(t_theirs), statistics.median(ratios)


def _fmt(seconds):
    return f'{seconds * 1e6:9.1f} us' if seconds < 1e-3 else f'{seconds * 1e3:9.2f} ms'


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('workloads', nargs='*', help=f'subset of: {", ".join(WORKLOADS)}')
    p.add_argument('-r', '--rounds', type=int, default=7)
    args = p.parse_args(argv)
    import torch
    torch.set_num_threads(2)
    names = args.workloads or list(WORKLOADS)
    print(f'{"workload":<14} {"autograd":>12} {"pytorch":>12} {"ratio":>7}   (median of '
          f'{args.rounds} rounds; ratio < 1: faster than PyTorch)')
    for name in names:
        mine, theirs, ratio = run(name, args.rounds, torch)
        print(f'{name:<14} {_fmt(mine):>12} {_fmt(theirs):>12} {ratio:7.2f}')


if __name__ == '__main__':
    main()
