"""Everything that needs a GPU, in one go, for the day one is available:

1. the test suite on the ``cuda`` device (``AUTOGRAD_DEVICE=cuda python -m pytest tests``),
   which on a real GPU also runs the GPU-only tests (tests/cuda/test_gpu.py);
2. the benchmark workloads of tools/benchmark.py (the README's table) on the GPU, through
   autograd and, when PyTorch's CUDA build is installed, through PyTorch on CUDA, in one
   process, printed as one table: time per step of each, their ratio, and (on the CuPy
   stand-in, which counts them) how often a step made the host wait for the device.

    python tools/gpu_check.py                    # a real GPU: suite, then every workload
    python tools/gpu_check.py --quick mlp-b64    # fewer iterations, some workloads
    python tools/gpu_check.py --stand-in         # no GPU: the same on the CuPy stand-in
    python tools/gpu_check.py --no-tests         # the benchmark alone

The exit status is the test suite's (0 when it passed or did not run).
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STAND_IN = os.path.join(ROOT, 'tests', 'cuda', 'stand_in')


def run_suite(tests, stand_in):
    """Run pytest on ``tests`` on the cuda device in a child process; its exit status."""
    env = dict(os.environ, AUTOGRAD_DEVICE='cuda')
    if stand_in:
        env['CUNUMPY_FAKE_CUPY'] = '1'
    cmd = [sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', *tests]
    print('$', 'AUTOGRAD_DEVICE=cuda', 'CUNUMPY_FAKE_CUPY=1' * stand_in, ' '.join(cmd[1:]),
          flush=True)
    return subprocess.call(cmd, cwd=ROOT, env=env)


def _install_stand_in():
    os.environ['CUNUMPY_FAKE_CUPY'] = '1'
    sys.path.insert(0, STAND_IN)
    import cupy_stand_in
    cupy_stand_in.install()
    return cupy_stand_in


def _timed(step, iters, sync):
    """Seconds per step: ``iters`` steps queued, then one synchronisation (the GPU's time)."""
    step()
    sync()
    t0 = time.perf_counter()
    for _ in range(iters):
        step()
    sync()
    return (time.perf_counter() - t0) / iters


def bench(names, rounds, scale, stand_in):
    """One row per workload: (name, ours, PyTorch's or None, ratio or None, waits per step or None)."""
    counter = _install_stand_in() if stand_in else None
    sys.path.insert(0, os.path.join(ROOT, 'tools'))
    import benchmark
    import autograd
    import autograd.cuda
    if not autograd.cuda.is_available():
        raise SystemExit('no cuda device: no GPU with CuPy (use --stand-in to run on the stand-in)')
    torch = None
    try:
        import torch
        if not torch.cuda.is_available():
            torch = None            # PyTorch without CUDA: autograd's times alone
    except ImportError:
        pass
    autograd.set_default_device('cuda')
    if torch is not None:
        torch.set_default_device('cuda')
    rows = []
    for name in names:
        make, iters = benchmark.WORKLOADS[name]
        iters = max(1, int(iters * scale))
        ours = make(autograd)
        theirs = make(torch) if torch is not None else None
        waits = None
        if counter is not None:
            ours()
            with counter.count_syncs() as c:
                ours()
            waits = c.count()
        t_ours, t_theirs = [], []
        for _ in range(rounds):
            t_ours.append(_timed(ours, iters, autograd.cuda.synchronize))
            if theirs is not None:
                t_theirs.append(_timed(theirs, iters, torch.cuda.synchronize))
        mine = statistics.median(t_ours)
        other = statistics.median(t_theirs) if t_theirs else None
        rows.append((name, mine, other, mine / other if other else None, waits))
    return rows, torch


def _fmt(seconds):
    if seconds is None:
        return 'n/a'
    return f'{seconds * 1e6:.1f} us' if seconds < 1e-3 else f'{seconds * 1e3:.2f} ms'


def print_table(rows, device, torch):
    print(f'\nBenchmark on {device}; PyTorch: '
          f'{torch.__version__ + " CUDA" if torch is not None else "no CUDA build, not run"}\n')
    print('| workload | autograd | PyTorch CUDA | ratio | host waits per step |')
    print('|---|---:|---:|---:|---:|')
    for name, mine, other, ratio, waits in rows:
        print(f'| {name} | {_fmt(mine)} | {_fmt(other)} | '
              f'{"n/a" if ratio is None else f"{ratio:.2f}"} | '
              f'{"not counted" if waits is None else waits} |')


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('workloads', nargs='*', help='benchmark workloads (default: all of '
                   'tools/benchmark.py)')
    p.add_argument('--stand-in', action='store_true',
                   help='run on the CuPy stand-in (no GPU needed; times are NumPy\'s)')
    p.add_argument('--tests', action='append', metavar='PATH',
                   help='a test path for pytest (repeatable; default: tests)')
    p.add_argument('--no-tests', action='store_true', help='skip the test suite')
    p.add_argument('--no-bench', action='store_true', help='skip the benchmark')
    p.add_argument('--quick', action='store_true', help='a quarter of the iterations')
    p.add_argument('-r', '--rounds', type=int, default=None, help='rounds (default 5, 2 quick)')
    args = p.parse_args(argv)
    status = 0 if args.no_tests else run_suite(args.tests or ['tests'], args.stand_in)
    if not args.no_bench:
        sys.path.insert(0, os.path.join(ROOT, 'tools'))
        import benchmark
        names = args.workloads or list(benchmark.WORKLOADS)
        unknown = [n for n in names if n not in benchmark.WORKLOADS]
        if unknown:
            p.error(f'unknown workload(s): {", ".join(unknown)}')
        rows, torch = bench(names, args.rounds or (2 if args.quick else 5),
                            0.25 if args.quick else 1.0, args.stand_in)
        import autograd.cuda
        device = ('the CuPy stand-in (NumPy on the CPU)' if args.stand_in
                  else autograd.cuda.get_device_name())
        print_table(rows, device, torch)
    return status


if __name__ == '__main__':
    sys.exit(main())
