"""Time chosen functional calls inside a workload's training step: this project's calls
against PyTorch's, in one process, rounds of steps interleaved.

    python tools/inplace.py gpt-block --functions layer_norm,gelu,softmax

For each function it prints the time spent in its calls per step on each side (the median
over the rounds), the ratio of the two sides' totals over all rounds, and the range of the
per-round ratios.  It shows
where a step's time goes against PyTorch's as the step runs: inside a step an op also pays
for its code and data having left the caches, which a loop of its own hides (NumPy calls
there cost 30-100% more than in isolation).  On a shared machine its ratios move from run
to run too (gpt-block's layer_norm: 2.50 and 2.51 in one sitting, 2.30 and 2.19 in
another), so compare two trees in one sitting, runs interleaved.

The functions are looked up in ``nn.functional`` and ``torch.nn.functional`` and wrapped
there, so they are timed where the workload or its modules call them through those
modules (``F.layer_norm(...)``), with everything they call; a side that binds the function
at import (a loss module's ``_fn = F.mse_loss``) reads 0 and gets no ratio.  Threads as
benchmark.py's ``--threads 1``.
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')
import benchmark            # noqa: E402  (the workloads; it puts the project on the path)

DEFAULT = 'linear,layer_norm,gelu,softmax,cross_entropy,embedding'


def _wrap(module, names, spent):
    """Replace each function ``names[i]`` of ``module`` by a timed wrapper adding its
    seconds to ``spent[i]``; returns a function that restores them."""
    saved = {}
    for i, name in enumerate(names):
        f = getattr(module, name)
        saved[name] = f

        def timed(*args, _f=f, _i=i, **kwargs):
            t0 = time.perf_counter()
            try:
                return _f(*args, **kwargs)
            finally:
                spent[_i] += time.perf_counter() - t0
        setattr(module, name, timed)
    return lambda: [setattr(module, n, f) for n, f in saved.items()]


def measure(name, names, steps, rounds, torch):
    """Per function: (our seconds per step, PyTorch's (medians over the rounds), the ratio of
    the two sides' totals, (min, max) of the per-round ratios)."""
    import nn.functional as ours_f
    make = benchmark.WORKLOADS[name][0]
    ours, theirs = make(benchmark.autograd), make(torch)
    for _ in range(3):
        ours()
        theirs()
    spent = {'ours': [0.0] * len(names), 'theirs': [0.0] * len(names)}
    restore = [_wrap(ours_f, names, spent['ours']),
               _wrap(torch.nn.functional, names, spent['theirs'])]
    per_round = []
    try:
        for r in range(rounds):         # alternating which side goes first, as benchmark.py
            order = (('ours', ours), ('theirs', theirs))
            got = {}
            for side, step in (order if r % 2 == 0 else order[::-1]):
                before = list(spent[side])
                for _ in range(steps):
                    step()
                got[side] = [(a - b) / steps for a, b in zip(spent[side], before)]
            per_round.append((got['ours'], got['theirs']))
    finally:
        for undo in restore:
            undo()
    results = []
    for i in range(len(names)):
        a = [o[i] for o, _ in per_round]
        b = [t[i] for _, t in per_round]
        ratios = [x / y for x, y in zip(a, b) if y > 0]
        total = sum(b)
        results.append((statistics.median(a), statistics.median(b),
                        sum(a) / total if total else float('nan'),
                        (min(ratios), max(ratios)) if ratios else (float('nan'),) * 2))
    return results


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('workload', help=f'one of: {", ".join(benchmark.WORKLOADS)}')
    p.add_argument('--functions', default=DEFAULT,
                   help=f'comma-separated names in nn.functional (default {DEFAULT}; those '
                        'the workload does not call read 0)')
    p.add_argument('--steps', type=int, default=5, help='steps a side per round (default 5)')
    p.add_argument('--rounds', type=int, default=20, help='interleaved rounds (default 20)')
    args = p.parse_args(argv)
    if args.workload not in benchmark.WORKLOADS:
        p.error(f'unknown workload {args.workload!r}')
    import torch
    torch.set_num_threads(1)
    names = [n for n in args.functions.split(',') if n]
    import nn.functional as ours_f
    missing = [n for n in names if not hasattr(ours_f, n) or not hasattr(torch.nn.functional, n)]
    if missing:
        p.error(f'not a function of both nn.functional modules: {", ".join(missing)}')
    print(f'{benchmark.machine(torch)}; {args.workload}, {args.rounds} rounds of '
          f'{args.steps} steps a side; time in each function\'s calls per step')
    print(f'{"function":<16} {"autograd":>12} {"pytorch":>12} {"ratio":>7} {"range":>11}')
    for n, (a, b, ratio, (lo, hi)) in zip(names, measure(args.workload, names, args.steps,
                                                          args.rounds, torch)):
        if a and b:
            print(f'{n:<16} {a * 1e6:9.1f} us {b * 1e6:9.1f} us {ratio:7.2f} {lo:5.2f}-{hi:<5.2f}')
        else:       # not called, or not through the module (a name bound at import)
            print(f'{n:<16} {a * 1e6:9.1f} us {b * 1e6:9.1f} us {"-":>7} {"-":>11}')


if __name__ == '__main__':
    main()
