"""Side-by-side speed benchmark: each workload runs through autograd and PyTorch in one
process, interleaved round by round, and reports the median of the per-round time
ratios (ours / PyTorch) with the absolute medians.

    python tools/benchmark.py                 # every workload
    python tools/benchmark.py tiny-chain -r 11
    python tools/benchmark.py --quick         # fewer iterations and rounds
    python tools/benchmark.py --markdown      # a results table for the README
    python tools/benchmark.py --threads 1 --cpu-time   # steadier on a busy machine
    python tools/benchmark.py memory --memory all      # RSS over 1,000 steps of each

Where tools/benchmark_floors.py has the step written by hand in NumPy (no graph), its time
is printed too: the floor that the engine's bookkeeping sits on.

PyTorch is limited to 2 threads (as the CI machines have 2 cores), and so is NumPy's BLAS
(the thread variables below are read when the BLAS library loads, so they are set before
NumPy is imported, unless already set).  With other processes on the cores,
multi-threaded BLAS and OpenMP regions stall on each other, and the single-thread CPU-time
measurement is the steadier one.
"""
import argparse
import datetime
import math
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

from benchmark_floors import FLOORS  # noqa: E402  (hand-written NumPy steps)

WORKLOADS = {}
TARGETS = {}
GMEAN_TARGET = 0.8        # the geometric mean of the workloads' ratios (issue 19)


def workload(name, iters, target=None):
    """Register ``fn(lib) -> step`` as a workload run ``iters`` times per round; ``target``
    is the ratio to PyTorch it should stay under."""
    def deco(fn):
        WORKLOADS[name] = (fn, iters)
        TARGETS[name] = target
        return fn
    return deco


@workload('tiny-chain', 2000, target=0.6)
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


@workload('mlp-b64', 200, target=1.0)
def mlp_b64(lib):
    """784-256-128-10 ReLU MLP, cross-entropy, SGD with momentum 0.9, batch 64."""
    return _mlp(lib, 64)


@workload('mlp-b512', 40, target=1.0)
def mlp_b512(lib):
    """The same MLP step at batch 512 (GEMM-bound)."""
    return _mlp(lib, 512)


@workload('cnn-b64', 20, target=1.0)
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


@workload('lstm-b32-t32', 10, target=1.0)
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


# ----------------------------------------------------------------------------- programs
# Shaped like the public PyTorch programs people run (issue: speed on real programs).

def _functional(lib):
    return lib.nn.functional if lib is not autograd else __import__('nn').functional


@workload('gpt-block', 10, target=1.0)
def gpt_block(lib):
    """minGPT-style: token + position embeddings, 2 pre-LN blocks (causal self-attention
    written out with a tril mask, masked_fill, softmax; GELU MLP), n_embd 64, 4 heads,
    block 32, batch 8, vocabulary 65, cross-entropy over every position, AdamW."""
    nn, optim = _nn(lib)
    F = _functional(lib)
    n_embd, n_head, block, vocab, batch = 64, 4, 32, 65, 8

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(n_embd, 3 * n_embd)
            self.c_proj = nn.Linear(n_embd, n_embd)
            self.register_buffer('bias', lib.tril(lib.ones(block, block)).view(1, 1, block, block))

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(n_embd, dim=2)
            k = k.view(B, T, n_head, C // n_head).transpose(1, 2)
            q = q.view(B, T, n_head, C // n_head).transpose(1, 2)
            v = v.view(B, T, n_head, C // n_head).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float('-inf'))
            att = F.softmax(att, dim=-1)
            y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
            return self.c_proj(y)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(n_embd)
            self.attn = Attention()
            self.ln_2 = nn.LayerNorm(n_embd)
            self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.GELU(),
                                     nn.Linear(4 * n_embd, n_embd))

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(vocab, n_embd)
            self.wpe = nn.Embedding(block, n_embd)
            self.blocks = nn.Sequential(Block(), Block())
            self.ln_f = nn.LayerNorm(n_embd)
            self.head = nn.Linear(n_embd, vocab, bias=False)

        def forward(self, idx):
            pos = lib.arange(0, idx.size(1), dtype=lib.long)
            x = self.blocks(self.wte(idx) + self.wpe(pos))
            return self.head(self.ln_f(x))

    model = GPT()
    _same_init(lib, model)
    rng = np.random.default_rng(1)
    idx = lib.tensor(rng.integers(0, vocab, (batch, block)))
    targets = lib.tensor(rng.integers(0, vocab, (batch, block)))
    opt = optim.AdamW(model.parameters(), lr=3e-4)

    def step():
        opt.zero_grad()
        logits = model(idx)
        F.cross_entropy(logits.view(-1, vocab), targets.view(-1)).backward()
        opt.step()
    return step


@workload('lenet-sigmoid', 10, target=1.0)
def lenet_sigmoid(lib):
    """LeNet-5 as a textbook companion writes it: conv 5x5 (pad 2) -> sigmoid -> avg pool,
    conv 5x5 -> sigmoid -> avg pool, 400-120-84-10 with sigmoids, SGD; batch 64 of 28x28."""
    nn, optim = _nn(lib)
    model = nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(2, stride=2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(), nn.Linear(120, 84),
        nn.Sigmoid(), nn.Linear(84, 10))
    _same_init(lib, model)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    opt = optim.SGD(model.parameters(), lr=0.9)
    return _train_step(lib, model, opt, nn.CrossEntropyLoss(), x, y)


@workload('regression-mlp', 1000, target=1.0)
def regression_mlp(lib):
    """A small-batch regression MLP on tiny tensors: 4 features -> 32 -> 32 -> 1 with ReLU,
    MSE, SGD; batch 16 (per-op overhead on real layers)."""
    nn, optim = _nn(lib)
    model = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(),
                          nn.Linear(32, 1))
    _same_init(lib, model)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((16, 4)).astype(np.float32)
    y = rng.standard_normal((16, 1)).astype(np.float32)
    opt = optim.SGD(model.parameters(), lr=0.01)
    return _train_step(lib, model, opt, nn.MSELoss(), x, y)


@workload('char-mlp', 200, target=1.0)
def char_mlp(lib):
    """makemore's MLP: an embedding table 27x10, 3 characters of context flattened, 30 -> 200
    tanh -> 27, cross-entropy, SGD; batch 32."""
    nn, optim = _nn(lib)
    F = _functional(lib)
    model = nn.Sequential(nn.Embedding(27, 10), nn.Flatten(), nn.Linear(30, 200), nn.Tanh(),
                          nn.Linear(200, 27))
    _same_init(lib, model)
    rng = np.random.default_rng(1)
    x = lib.tensor(rng.integers(0, 27, (32, 3)))
    y = lib.tensor(rng.integers(0, 27, 32))
    opt = optim.SGD(model.parameters(), lr=0.1)

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return step


def _recurrent_lm(lib, cell):
    nn, optim = _nn(lib)
    F = _functional(lib)
    vocab, batch, steps, hidden = 65, 16, 32, 128

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, 64)
            self.rnn = getattr(nn, cell)(64, hidden, batch_first=True)
            self.head = nn.Linear(hidden, vocab)

        def forward(self, x):
            out, _ = self.rnn(self.embed(x))
            return self.head(out)

    model = LM()
    _same_init(lib, model)
    rng = np.random.default_rng(1)
    x = lib.tensor(rng.integers(0, vocab, (batch, steps)))
    y = lib.tensor(rng.integers(0, vocab, (batch, steps)))
    opt = optim.Adam(model.parameters(), lr=2e-3)

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x).reshape(-1, vocab), y.reshape(-1)).backward()
        opt.step()
    return step


@workload('gru-lm', 10, target=1.0)
def gru_lm(lib):
    """A character GRU language model: embedding 65x64, GRU 64->128 over 32 steps, linear
    head at every step, cross-entropy, Adam; batch 16."""
    return _recurrent_lm(lib, 'GRU')


@workload('rnn-lm', 10, target=1.0)
def rnn_lm(lib):
    """The same language model with a tanh RNN."""
    return _recurrent_lm(lib, 'RNN')


@workload('seq2seq-attn', 10, target=1.0)
def seq2seq_attn(lib):
    """A seq2seq decoder with additive (Bahdanau) attention, teacher-forced: GRU encoder
    32->64 over 10 steps, then 10 decoder steps of score = v . tanh(W h + U enc), context,
    GRUCell, linear head; cross-entropy, Adam; batch 16."""
    nn, optim = _nn(lib)
    F = _functional(lib)
    vocab, batch, steps, hidden = 40, 16, 10, 64

    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.src_embed = nn.Embedding(vocab, 32)
            self.tgt_embed = nn.Embedding(vocab, 32)
            self.encoder = nn.GRU(32, hidden, batch_first=True)
            self.W = nn.Linear(hidden, hidden, bias=False)
            self.U = nn.Linear(hidden, hidden, bias=False)
            self.v = nn.Linear(hidden, 1, bias=False)
            self.cell = nn.GRUCell(32 + hidden, hidden)
            self.head = nn.Linear(hidden, vocab)

        def forward(self, src, tgt):
            enc, h = self.encoder(self.src_embed(src))
            h = h[0]
            keys = self.U(enc)
            logits = []
            for t in range(tgt.size(1)):
                score = self.v(lib.tanh(self.W(h).unsqueeze(1) + keys))      # (B, S, 1)
                weights = F.softmax(score, dim=1)
                context = (weights * enc).sum(1)
                h = self.cell(lib.cat([self.tgt_embed(tgt[:, t]), context], 1), h)
                logits.append(self.head(h))
            return lib.stack(logits, 1)

    model = Seq2Seq()
    _same_init(lib, model)
    rng = np.random.default_rng(1)
    src = lib.tensor(rng.integers(0, vocab, (batch, steps)))
    tgt = lib.tensor(rng.integers(0, vocab, (batch, steps)))
    out = lib.tensor(rng.integers(0, vocab, (batch, steps)))
    opt = optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        F.cross_entropy(model(src, tgt).reshape(-1, vocab), out.reshape(-1)).backward()
        opt.step()
    return step


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


def memory(first=100, last=1000, name='cnn-b64'):
    """RSS after ``first`` and after ``last`` training steps of workload ``name`` through
    autograd: a leak (graphs or buffers kept alive by the step) shows as growth between
    the two."""
    step = WORKLOADS[name][0](autograd)
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
    """Median seconds per step (ours, PyTorch), the median of the per-round ratios and
    their range (the spread within the run).
    Rounds alternate which library goes first, so a load change on the machine biases
    neither side.  (Finer alternation would bias it: after each switch the other library's
    BLAS/OpenMP threads keep spinning for up to ~0.2 s and slow down the next one, which
    measured a third slower for PyTorch with four switches per round.)"""
    make, iters = WORKLOADS[name]
    iters = max(1, int(iters * scale))
    ours, theirs = make(autograd), make(torch)
    floor = FLOORS[name]() if name in FLOORS else None
    for _ in range(max(1, iters // 10)):          # warm up both
        ours()
        theirs()
    t_ours, t_theirs, t_floor, ratios = [], [], [], []
    for r in range(rounds):
        if r % 2:
            b = _time(theirs, iters, clock)
            a = _time(ours, iters, clock)
        else:
            a = _time(ours, iters, clock)
            b = _time(theirs, iters, clock)
        if floor is not None:
            t_floor.append(_time(floor, iters, clock))
        t_ours.append(a)
        t_theirs.append(b)
        ratios.append(a / b)
    return statistics.median(t_ours), statistics.median(t_theirs), statistics.median(ratios), \
        (min(ratios), max(ratios)), statistics.median(t_floor) if t_floor else None


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
            f'{np.__version__}{blas()}, PyTorch {torch.__version__}; threads: PyTorch '
            f'{torch.get_num_threads()}, OPENBLAS_NUM_THREADS='
            f'{os.environ.get("OPENBLAS_NUM_THREADS")}')


def blas():
    """NumPy's BLAS library, version and kernel as threadpoolctl reads them (if installed)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return ''
    for lib in threadpool_info():
        if lib.get('user_api') == 'blas':
            kernel = lib.get('architecture')
            return (f' with {lib.get("internal_api")} {lib.get("version")}'
                    + (f' ({kernel} kernel)' if kernel else ''))
    return ''


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('workloads', nargs='*', help=f'subset of: {", ".join(WORKLOADS)}, memory')
    p.add_argument('-r', '--rounds', type=int, default=None,
                   help='interleaved rounds (default 7, 3 with --quick)')
    p.add_argument('--quick', action='store_true', help='a quarter of the iterations')
    p.add_argument('--markdown', action='store_true', help='print a markdown table')
    p.add_argument('--threads', type=int, default=2,
                   help='PyTorch and BLAS threads (default 2; read before NumPy loads)')
    p.add_argument('--memory', metavar='WORKLOADS', default='cnn-b64',
                   help='the workloads the memory check steps (comma-separated, or "all"; '
                        'default cnn-b64)')
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
    leak_checked = list(WORKLOADS) if args.memory == 'all' else args.memory.split(',')
    unknown += [n for n in leak_checked if n not in WORKLOADS]
    if unknown:
        p.error(f'unknown workload(s): {", ".join(unknown)}')
    what = 'CPU time' if args.cpu_time else 'wall time'
    if args.markdown:
        print(f'{machine(torch)}; {datetime.date.today().isoformat()}; {what}, median of '
              f'{rounds} interleaved rounds.\n')
        print('| workload | autograd | PyTorch | ratio (range over rounds) | target | '
              'NumPy floor |')
        print('|---|---:|---:|---:|---:|---:|')
    else:
        print(machine(torch))
        print(f'{"workload":<14} {"autograd":>12} {"pytorch":>12} {"ratio":>7} {"range":>11} '
              f'{"target":>7} {"numpy floor":>12}   ({what}, median of {rounds} rounds; '
              'ratio < 1: faster than PyTorch; the floor: the step hand-written in NumPy)')
    log_ratios = []
    for name in names:
        if name == 'memory':
            for checked in leak_checked:
                before, after = memory(25, 250, checked) if args.quick else memory(name=checked)
                growth = 100.0 * (after - before) / before
                steps = '25 -> 250' if args.quick else '100 -> 1000'
                if args.markdown:
                    print(f'| memory (RSS, {checked} steps {steps}) | {before / 2**20:.1f} -> '
                          f'{after / 2**20:.1f} MB | | {growth:+.2f}% | < {MEMORY_TARGET:g}% | |')
                else:
                    print(f'{"memory":<14} RSS {before / 2**20:.1f} MB -> {after / 2**20:.1f} '
                          f'MB after {checked} steps {steps}: {growth:+.2f}% (target < '
                          f'{MEMORY_TARGET:g}%)')
                sys.stdout.flush()
            continue
        mine, theirs, ratio, (lo, hi), floor = run(name, rounds, torch, scale, clock)
        log_ratios.append(math.log(ratio))
        target = TARGETS[name]
        floor = _fmt(floor).strip() if floor is not None else ''
        if args.markdown:
            print(f'| {name} | {_fmt(mine).strip()} | {_fmt(theirs).strip()} | {ratio:.2f} '
                  f'({lo:.2f}-{hi:.2f}) | <= {target:g} | {floor} |')
        else:
            print(f'{name:<14} {_fmt(mine):>12} {_fmt(theirs):>12} {ratio:7.2f} '
                  f'{lo:5.2f}-{hi:<5.2f} {target:7g} {floor:>12}')
        sys.stdout.flush()
    if len(log_ratios) > 1:
        gmean = math.exp(sum(log_ratios) / len(log_ratios))
        if args.markdown:
            print(f'| geometric mean of the {len(log_ratios)} ratios | | | {gmean:.2f} | '
                  f'<= {GMEAN_TARGET:g} | |')
        else:
            print(f'{"geomean":<14} {"":>12} {"":>12} {gmean:7.2f} {"":>11} {GMEAN_TARGET:7g}')


if __name__ == '__main__':
    main()
