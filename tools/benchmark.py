"""Side-by-side speed benchmark: each workload runs through autograd and PyTorch in one
process, interleaved round by round, and reports the median of the per-round time
ratios (ours / PyTorch) with the absolute medians.

    python tools/benchmark.py                 # every workload
    python tools/benchmark.py tiny-chain -r 11
    python tools/benchmark.py --quick         # fewer iterations and rounds
    python tools/benchmark.py --markdown      # a results table for the README
    python tools/benchmark.py --threads 1 --cpu-time   # steadier on a busy machine

PyTorch is limited to 2 threads (as the CI machines have 2 cores), and so is NumPy's BLAS
(the thread variables below are read when the BLAS library loads, so they are set before
NumPy is imported, unless already set).  With other processes on the cores,
multi-threaded BLAS and OpenMP regions stall on each other, and the single-thread CPU-time
measurement is the steadier one.
"""
import argparse
import datetime
import os
import platform
import statistics
import sys
import time


def _threads_arg(argv):
    """``--threads N`` from the command line, read before NumPy loads its BLAS."""
    for i, a in enumerate(argv):
        if a == '--threads' and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith('--threads='):
            return a.partition('=')[2]
    return '2'


THREADS = _threads_arg(sys.argv)
for _var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'):
    os.environ.setdefault(_var, THREADS)

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import autograd  # noqa: E402

WORKLOADS = {}
TARGETS = {}


def workload(name, iters, target=None):
    """Register ``fn(lib) -> step`` as a workload run ``iters`` times per round; ``target``
    is the ratio to PyTorch it should stay under."""
    def deco(fn):
        WORKLOADS[name] = (fn, iters)
        TARGETS[name] = target
        return fn
    return deco


@workload('tiny-chain', 2000, target=0.5)
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


# ----------------------------------------------------------------------------- training steps

def _nn(lib):
    """The (nn, optim) packages that go with ``lib``."""
    if lib is autograd:
        import nn
        import optim
        return nn, optim
    return lib.nn, lib.optim


def _same_init(lib, model, seed=0):
    """Overwrite every parameter from one NumPy stream, so both libraries train the same
    network (same ReLU sparsity, same work) from the same start."""
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for p in model.parameters():
            bound = 1.0 / np.sqrt(p.shape[-1]) if p.ndim > 1 else 0.05
            p.copy_(lib.tensor(rng.uniform(-bound, bound, tuple(p.shape)).astype(np.float32)))


def _train_step(lib, model, opt, loss_fn, x, y):
    """One full step: zero_grad, forward, backward, optimizer step."""
    x, y = lib.tensor(x), lib.tensor(y)

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return step


def _mlp(lib, batch):
    nn, optim = _nn(lib)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                          nn.Linear(128, 10))
    _same_init(lib, model)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((batch, 784)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return _train_step(lib, model, opt, nn.CrossEntropyLoss(), x, y)


@workload('mlp-b64', 200, target=0.9)
def mlp_b64(lib):
    """784-256-128-10 ReLU MLP, cross-entropy, SGD with momentum 0.9, batch 64."""
    return _mlp(lib, 64)


@workload('mlp-b512', 40, target=1.0)
def mlp_b512(lib):
    """The same MLP step at batch 512 (GEMM-bound)."""
    return _mlp(lib, 512)


@workload('cnn-b64', 20, target=1.3)
def cnn_b64(lib):
    """conv 1->8 3x3 pad 1, ReLU, maxpool 2, conv 8->16 3x3 pad 1, ReLU, maxpool 2, flatten,
    linear 784->10, cross-entropy, Adam; batch 64 of 1x28x28."""
    nn, optim = _nn(lib)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(16 * 7 * 7, 10))
    _same_init(lib, model)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    return _train_step(lib, model, opt, nn.CrossEntropyLoss(), x, y)


@workload('lstm-b32-t32', 10, target=1.3)
def lstm_b32_t32(lib):
    """LSTM 64->128 (batch_first) over 32 steps, linear head 128->10 on the last step,
    cross-entropy, Adam; batch 32."""
    nn, optim = _nn(lib)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(64, 128, batch_first=True)
            self.head = nn.Linear(128, 10)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.head(out[:, -1])

    model = Net()
    _same_init(lib, model)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((32, 32, 64)).astype(np.float32)
    y = rng.integers(0, 10, 32)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    return _train_step(lib, model, opt, nn.CrossEntropyLoss(), x, y)


# ----------------------------------------------------------------------------- memory

MEMORY_TARGET = 1.0       # per cent growth of RSS from step 100 to step 1,000


def rss_bytes():
    """The resident set size of this process now (/proc/self/statm), or the peak RSS where
    there is no /proc (resource.getrusage; bytes on macOS, kilobytes elsewhere)."""
    try:
        with open('/proc/self/statm') as f:
            return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
    except OSError:
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == 'darwin' else peak * 1024


def memory(first=100, last=1000):
    """RSS after ``first`` and after ``last`` cnn-b64 training steps through autograd:
    a leak (graphs or buffers kept alive by the step) shows as growth between the two."""
    step = cnn_b64(autograd)
    for _ in range(first):
        step()
    before = rss_bytes()
    for _ in range(last - first):
        step()
    after = rss_bytes()
    return before, after


# ----------------------------------------------------------------------------- timing

def _time(step, iters, clock=time.perf_counter):
    step()          # untimed: the other library's worker threads may still be spinning
    t0 = clock()
    for _ in range(iters):
        step()
    return (clock() - t0) / iters


def run(name, rounds, torch, scale=1.0, clock=time.perf_counter):
    """Median seconds per step (ours, PyTorch) and the median of the per-round ratios.
    Rounds alternate which library goes first, so a load change on the machine biases
    neither side.  (Finer alternation would bias it: after each switch the other library's
    BLAS/OpenMP threads keep spinning for up to ~0.2 s and slow down the next one, which
    measured a third slower for PyTorch with four switches per round.)"""
    make, iters = WORKLOADS[name]
    iters = max(1, int(iters * scale))
    ours, theirs = make(autograd), make(torch)
    for _ in range(max(1, iters // 10)):          # warm up both
        ours()
        theirs()
    t_ours, t_theirs, ratios = [], [], []
    for r in range(rounds):
        if r % 2:
            b = _time(theirs, iters, clock)
            a = _time(ours, iters, clock)
        else:
            a = _time(ours, iters, clock)
            b = _time(theirs, iters, clock)
        t_ours.append(a)
        t_theirs.append(b)
        ratios.append(a / b)
    return statistics.median(t_ours), statistics.median(t_theirs), statistics.median(ratios)


def _fmt(seconds):
    return f'{seconds * 1e6:9.1f} us' if seconds < 1e-3 else f'{seconds * 1e3:9.2f} ms'


def machine(torch):
    """One line describing the machine and the library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next(line.split(':', 1)[1].strip() for line in f
                       if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    return (f'{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, NumPy '
            f'{np.__version__}, PyTorch {torch.__version__}; threads: PyTorch '
            f'{torch.get_num_threads()}, OPENBLAS_NUM_THREADS='
            f'{os.environ.get("OPENBLAS_NUM_THREADS")}')


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('workloads', nargs='*', help=f'subset of: {", ".join(WORKLOADS)}, memory')
    p.add_argument('-r', '--rounds', type=int, default=None,
                   help='interleaved rounds (default 7, 3 with --quick)')
    p.add_argument('--quick', action='store_true', help='a quarter of the iterations')
    p.add_argument('--markdown', action='store_true', help='print a markdown table')
    p.add_argument('--threads', type=int, default=2,
                   help='PyTorch and BLAS threads (default 2; read before NumPy loads)')
    p.add_argument('--cpu-time', action='store_true',
                   help='time by this process\'s CPU time, not the wall clock (meaningful '
                        'with --threads 1: spinning threads count too)')
    args = p.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 7)
    scale = 0.25 if args.quick else 1.0
    clock = time.process_time if args.cpu_time else time.perf_counter
    import torch
    torch.set_num_threads(args.threads)
    names = args.workloads or list(WORKLOADS) + ['memory']
    unknown = [n for n in names if n not in WORKLOADS and n != 'memory']
    if unknown:
        p.error(f'unknown workload(s): {", ".join(unknown)}')
    what = 'CPU time' if args.cpu_time else 'wall time'
    if args.markdown:
        print(f'{machine(torch)}; {datetime.date.today().isoformat()}; {what}, median of '
              f'{rounds} interleaved rounds.\n')
        print('| workload | autograd | PyTorch | ratio | target |')
        print('|---|---:|---:|---:|---:|')
    else:
        print(f'{"workload":<14} {"autograd":>12} {"pytorch":>12} {"ratio":>7} {"target":>7}'
              f'   ({what}, median of {rounds} rounds; ratio < 1: faster than PyTorch)')
    for name in names:
        if name == 'memory':
            before, after = memory(25, 250) if args.quick else memory()
            growth = 100.0 * (after - before) / before
            steps = '25 -> 250' if args.quick else '100 -> 1000'
            if args.markdown:
                print(f'| memory (RSS, cnn-b64 steps {steps}) | {before / 2**20:.1f} -> '
                      f'{after / 2**20:.1f} MB | | {growth:+.2f}% | < {MEMORY_TARGET:g}% |')
            else:
                print(f'{"memory":<14} RSS {before / 2**20:.1f} MB -> {after / 2**20:.1f} MB '
                      f'after steps {steps}: {growth:+.2f}% (target < {MEMORY_TARGET:g}%)')
            continue
        mine, theirs, ratio = run(name, rounds, torch, scale, clock)
        target = TARGETS[name]
        if args.markdown:
            print(f'| {name} | {_fmt(mine).strip()} | {_fmt(theirs).strip()} | {ratio:.2f} | '
                  f'<= {target:g} |')
        else:
            print(f'{name:<14} {_fmt(mine):>12} {_fmt(theirs):>12} {ratio:7.2f} '
                  f'{target:7g}')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
