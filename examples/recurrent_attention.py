"""The recurrent attention model: glimpses placed by a policy trained with REINFORCE.

Aggarwal, *Neural Networks and Deep Learning*, sec. 10.2.1 (recurrent models of visual
attention, Mnih et al. [338]).  The modules of the text:

1. Glimpse sensor rho(X, l_(t-1)): only a small portion of the image around l_(t-1) is
   seen at high resolution, the resolution dropping with the distance from l_(t-1): here
   ``scales`` square patches of side g, g f, g f^2 ... centred on l_(t-1), each averaged
   down to g x g pixels (zero outside the canvas).  l in [-1, 1]^2 as (row, col);
   (-1, -1) is the top-left corner.  The default retina: g = 8 at full resolution and
   32 x 32 at a quarter of it (f = 4).
2. Glimpse network: the glimpse rho and the location l_(t-1) are encoded into hidden spaces
   by linear layers, and the two are combined into one hidden representation g_t by another
   linear layer.
3. Recurrent network: h_t = RNN(g_t, h_(t-1)) (a GRU cell by default, ``core='rnn'`` the
   plain ReLU cell).  At each time-stamp it outputs a class (softmax, the action a_t) and
   the next location l_t from the location policy pi(l | h_t): by default a softmax over
   the centres of the 16 cells of a 4 x 4 partition of the canvas
   (``autograd.distributions.Categorical``; the text's "probability implemented with the
   softmax function"), or Mnih et al.'s Gaussian ``Normal(tanh(W h_t), sigma)`` with sigma
   fixed (``policy='gaussian'``).

Training (the hybrid loss): the reward is 1 if the classification is correct, 0 otherwise,
given after the last glimpse only (Mnih et al.; ``final_reward=False``: after every
glimpse, R_t the sum of the future rewards, as the text puts it).  The locations are
trained by REINFORCE, grad E[R_t] = R_t grad log pi(a_t) (eq. 10.1), with a baseline b_t
per step subtracted from the reward (its own squared-error loss on the detached core
state, detached in REINFORCE's term).  REINFORCE's gradient reaches the locator AND the
core and glimpse network (the text: the recurrent network is trained with REINFORCE's
objective; ``detach=True`` keeps it to the locator).  The classifier is trained by backprop
of the cross-entropy at every time-stamp (a class label is output at each time-stamp, so
the accuracy can improve as more glimpses are used).  The text's model uses six to eight
glimpses; the default here is 6.  Adam, batches of 32, the locator's rate 3e-3, the rest 1e-3.

The task, where where-to-look matters: scikit-learn's 8x8 digits, each filling one of the
16 cells of a 4 x 4 partition of a 32 x 32 canvas (``--cells 0``: anywhere; ``--clutter``
adds 3x3 fragments of other digits).  The first glimpse is at the centre, where the coarse
scale sees the whole canvas at a quarter of its resolution (the digit a 2 x 2 blob: where
it is, hardly what); only a glimpse on the digit's cell reads it at full resolution.  Three
policies are trained and compared: the learned one, uniformly random cells for glimpses
2..T (trained by backprop only), and an oracle glimpsing at the digit's centre (the
diagnostic: it shows that the sensor and the classifier can read a digit once they look
at it).

Why the earlier version failed (its learned glimpses landed on the digit 3% of the time,
worse than random): (1) its locator read the core's state detached, and that state, shaped
by the cross-entropy alone, hardly encodes WHERE the digit is: a supervised probe (an MLP
regressing the digit's centre from the detached state after the first glimpse) reached
about 20% of glimpses on the digit after 8 epochs, while the same probe with its gradient
let into the core reached 73% after one epoch and 99% after two; REINFORCE, far noisier,
could not learn a map from an input that lacks the information.  (2) Its retina's middle
scale (16 x 16 at half resolution) reads a digit from a cell away: with digits in cells
and that 3-scale retina the central first glimpse alone read 0.6 of the test digits, and
learned and random glimpses trained to the same reward (0.8), so where to look hardly
mattered.  With
REINFORCE's gradient in the core and the 2-scale retina (a hit reads the digit, a miss
sees a 2 x 2 blob), the policy learns where the digit is.  With digits anywhere
(``--cells 0``, a 7 x 7 lattice) these settings fail: the learned model stays at chance
(0.10 after 30 epochs, seed 0; its 2nd glimpse on the digit in 2% of the canvases) while
random glimpses reach 0.43: REINFORCE's noisy gradient in the core keeps the classifier
from learning before the policy finds the digit among 49 cells (the Gaussian policy stays
at chance too; a detached locator reaches 0.35 and the curriculum 0.21, with 6% of
second glimpses on the digit, the rate of random ones).

What it reaches (CPU, 30 epochs; chance 0.1, a random glimpse on the digit 1/16):
seed 0, test accuracy after glimpses 1..6 of 0.36, 0.83, 0.87, 0.88, 0.87, 0.87 with the
learned locations (its 2nd glimpse on the digit's cell in 75% of the test canvases, some
glimpse in 83%), 0.59, 0.63, 0.63, 0.66, 0.68, 0.69 with random cells, 0.56 -> 0.98 with
the oracle; seed 1: 0.30 -> 0.79 learned (46% and 64% on the digit), 0.55 -> 0.71 random,
0.56 -> 0.97 oracle.  The learned model reads its first (central, shared) glimpse worse
(its core also serves the policy) and beats random glimpses from the second on; it stays
below the oracle because it misses the digit's cell on a fifth to a third of the canvases.

Run: python examples/recurrent_attention.py [--epochs 30] [--cells 4] [--policy grid|gaussian]
                                         [--out runs/recurrent_attention]
"""
import os

# small matrices: one BLAS thread (spinning threads slow training many times over on a busy
# machine); it must be set before NumPy loads
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')

import _data  # noqa: E402,F401  (first: makes the repository importable from a checkout)
import numpy  # noqa: E402
import autograd  # noqa: E402
import nn  # noqa: E402
import optim  # noqa: E402
from autograd.distributions import Categorical, Normal  # noqa: E402


# ----------------------------------------------------------------------------- data
def make_canvases(X, size, rng, clutter=0, spread=None, cells=0):
    """Place each 8x8 digit (rows of X, (n, 64)) at a random position of a ``size`` x
    ``size`` canvas (within its central ``spread`` x ``spread`` square when given: the
    curriculum), or with ``cells`` centred in a random cell of a ``cells`` x ``cells``
    partition of the canvas; ``clutter`` 3x3 fragments of random other digits are added at
    random positions first.  Returns (n, size, size) float32 and the digits' top-left
    corners (n, 2)."""
    n = len(X)
    digits = X.reshape(n, 8, 8)
    canvas = numpy.zeros((n, size, size), dtype=numpy.float32)
    for _ in range(clutter):
        src = rng.integers(0, n, n)
        fr, fc = rng.integers(0, 6, n), rng.integers(0, 6, n)
        r, c = rng.integers(0, size - 2, n), rng.integers(0, size - 2, n)
        for i in range(n):
            patch = digits[src[i], fr[i]:fr[i] + 3, fc[i]:fc[i] + 3]
            canvas[i, r[i]:r[i] + 3, c[i]:c[i] + 3] = numpy.maximum(
                canvas[i, r[i]:r[i] + 3, c[i]:c[i] + 3], patch)
    spread = size if spread is None else min(max(int(spread), 8), size)
    lo = (size - spread) // 2
    pos = rng.integers(lo, lo + spread - 7, (n, 2))
    if cells:
        if size // cells < 8:
            raise ValueError(f'make_canvases: {cells} x {cells} cells of a {size}-pixel '
                             f'canvas are smaller than the 8x8 digits')
        pos = rng.integers(0, cells, (n, 2)) * (size // cells) + (size // cells - 8) // 2
    for i in range(n):
        r, c = pos[i]
        canvas[i, r:r + 8, c:c + 8] = numpy.maximum(canvas[i, r:r + 8, c:c + 8], digits[i])
    return canvas, pos


# ----------------------------------------------------------------------------- glimpse sensor
def glimpse(canvas, loc, g=6, scales=3, factor=2):
    """The glimpse sensor rho(X, l): canvas (B, H, W), loc (B, 2) in [-1, 1] as (row, col).
    Scale k (0-based) is the g f^k square (f = ``factor``) centred on pixel
    round((l + 1) / 2 * H) (its top-left corner g f^k / 2 above and left of it),
    zero-padded, average-pooled f^k x f^k down to g x g.  Returns (B, scales, g, g); no
    gradient flows to ``loc`` (the sensor is not differentiable in the location: that is
    what REINFORCE is for)."""
    B, H, W = canvas.shape
    big = g * factor ** (scales - 1)
    half = big // 2
    padded = nn.functional.pad(canvas, (half, half, half, half))
    scale = autograd.tensor([H, W], device=canvas.device, dtype=loc.dtype)
    centre = ((loc.detach() + 1) / 2 * scale).round().long()          # (B, 2) pixels
    b = autograd.arange(B, device=canvas.device).reshape(B, 1, 1)
    out = []
    for k in range(scales):
        side = g * factor ** k
        top = centre - side // 2 + half                                 # in padded coords
        offs = autograd.arange(side, device=canvas.device)
        rows = (top[:, 0:1] + offs).reshape(B, side, 1)
        cols = (top[:, 1:2] + offs).reshape(B, 1, side)
        patch = padded[b, rows, cols]                                  # (B, side, side)
        f = factor ** k
        out.append(patch.reshape(B, g, f, g, f).mean((2, 4)))
    return autograd.stack(out, 1)


# ----------------------------------------------------------------------------- the model
class RecurrentAttention(nn.Module):
    """Glimpse network + RNN core + location policy + baseline + classifier.

    The first glimpse is at the centre of the canvas, where the coarsest scale sees the
    whole canvas (at a quarter of its resolution).  The later locations l_t come from the
    location policy pi(l | h_t): ``policy='grid'`` a softmax over the centres of the cells
    of a ``grid`` x ``grid`` partition of the canvas (``aligned``; otherwise the lattice
    of the fractions (i + 1) / (grid + 1)) (pi implemented with the softmax, as the text
    says of policy networks), ``'gaussian'`` Mnih et al.'s Normal(tanh(W h_t), sigma) with
    sigma fixed.  ``detach``: the locator reads the core's state detached, so that REINFORCE
    trains the locator alone; by default its gradient also trains the core and the glimpse
    network (the text's "training of the recurrent network ... using the objective function
    of the REINFORCE framework").  Random glimpses ('random') are uniform on the lattice, or
    (Gaussian policy) on [-span, span]^2."""

    def __init__(self, g=8, scales=2, hidden=128, classes=10, sigma=0.15, core='gru',
                 policy='grid', grid=4, detach=False, aligned=True, factor=4, span=1.0):
        super().__init__()
        self.detach = detach
        self.g, self.scales, self.factor, self.sigma, self.gain = g, scales, factor, sigma, 4.0
        self.policy, self.span = policy, span
        self.what = nn.Linear(scales * g * g, hidden)      # glimpse rho -> hidden
        self.where = nn.Linear(2, hidden)                  # location l -> hidden
        self.combine = nn.Linear(2 * hidden, hidden)       # -> g_t
        self.core = (nn.GRUCell(hidden, hidden) if core == 'gru' else
                     nn.RNNCell(hidden, hidden, nonlinearity='relu'))
        # the lattice's centres in [-1, 1]
        c = [(2 * i + 1) / grid - 1 if aligned else 2 * (i + 1) / (grid + 1) - 1
             for i in range(grid)]
        self.register_buffer('cells', autograd.tensor([[r, q] for r in c for q in c]))
        self.locator = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(),
                                     nn.Linear(hidden, grid * grid if policy == 'grid' else 2))
        self.baseline = nn.Linear(hidden, 1)               # b_t
        self.classifier = nn.Linear(hidden, classes)       # softmax action a_t

    def glimpse_network(self, canvas, loc):
        rho = glimpse(canvas, loc, self.g, self.scales, self.factor).flatten(1) * self.gain
        hg = nn.functional.relu(self.what(rho))
        hl = nn.functional.relu(self.where(loc))
        return nn.functional.relu(self.combine(autograd.cat([hg, hl], 1)))

    def location_policy(self, h):
        """pi(l | h_t) as a distribution, and a map from its samples to locations."""
        out = self.locator(h.detach() if self.detach else h)
        if self.policy == 'grid':
            return Categorical(logits=out), (lambda cell: self.cells[cell])
        return Normal(autograd.tanh(out), self.sigma), (lambda l: l.clamp(-1, 1))

    def forward(self, canvas, steps=6, glimpses='learned', generator=None, greedy=False,
                targets=None):
        """One roll-out of ``steps`` glimpses.  Returns (logits (T, B, C), log pi(l_t) (T-1, B)
        of the locations chosen by the policy after glimpses 1..T-1, baselines b_t (T-1, B)).
        ``glimpses='random'``: the later glimpses are uniform on the lattice (or the square
        of side 2 span); ``'oracle'``: at ``targets`` (B, 2); for both the last two are None.
        ``greedy`` takes the policy's mode."""
        B = canvas.shape[0]
        h = autograd.zeros(B, self.core.hidden_size, device=canvas.device)
        loc = autograd.zeros(B, 2, device=canvas.device)
        logits, logps, bases = [], [], []
        for t in range(steps):
            h = self.core(self.glimpse_network(canvas, loc), h)
            logits.append(self.classifier(h))
            if t == steps - 1:
                break
            if glimpses == 'oracle':
                loc = targets
            elif glimpses == 'random' and self.policy == 'grid':
                cell = autograd.randint(0, self.cells.shape[0], (B,), generator=generator,
                                        device=canvas.device)
                loc = self.cells[cell]
            elif glimpses == 'random':
                loc = (autograd.rand(B, 2, device=canvas.device, generator=generator) * 2
                       - 1) * self.span
            else:
                policy, place = self.location_policy(h)
                if greedy:
                    loc = place(policy.mode)
                    continue
                action = policy.sample()
                logps.append(policy.log_prob(action).reshape(B, -1).sum(1))
                bases.append(self.baseline(h.detach()).squeeze(1))
                loc = place(action)
        stack = (lambda xs: autograd.stack(xs)) if logps else (lambda xs: None)
        return autograd.stack(logits), stack(logps), stack(bases)


def returns(rewards, gamma=1.0):
    """R_t = sum_(k >= t) gamma^(k-t) r_k along the first axis of ``rewards`` (T, B)."""
    out, acc = [], autograd.zeros_like(rewards[0])
    for t in range(rewards.shape[0] - 1, -1, -1):
        acc = rewards[t] + gamma * acc
        out.append(acc)
    return autograd.stack(out[::-1])


def hybrid_loss(logits, logps, bases, y, final_reward=True, gamma=1.0):
    """Cross-entropy at every time-stamp (backprop) + the REINFORCE loss of the locations
    - sum_t (R_(t+1) - b_t) log pi(l_t) (eq. 10.1 with a baseline; l_t is used by glimpse
    t+1, so the rewards from t+1 on are its return) + the baselines' squared error.  The
    reward is 1 for a correct class: with ``final_reward`` (Mnih et al.'s choice) only after
    the last glimpse, so R_(t+1) = r_T for every t; otherwise after every glimpse, R_(t+1)
    summing them discounted by ``gamma``.  Returns (loss, per-step rewards (T, B))."""
    T, B, C = logits.shape
    ce = nn.functional.cross_entropy(logits.reshape(T * B, C), y.repeat(T))
    rewards = (logits.argmax(2) == y).to(logits.dtype).detach()
    if logps is None:
        return ce, rewards
    R = rewards[-1].expand(T - 1, B) if final_reward else returns(rewards[1:], gamma)
    advantage = (R - bases).detach()
    reinforce = -(advantage * logps).sum(0).mean()
    return ce + reinforce + ((bases - R) ** 2).mean(), rewards


# ----------------------------------------------------------------------------- training
def train(epochs=30, canvas=32, steps=6, clutter=0, glimpses='learned', seed=0, device=None,
          n_train=None, batch=32, lr=1e-3, policy_lr=3e-3, hidden=128, sigma=0.15, g=8,
          scales=2, factor=4, cells=4, final_reward=True, curriculum=0, start=12, core='gru',
          policy='grid', detach=False, log=None):
    """Train on translated digits (new positions every epoch) and evaluate on a fixed,
    seeded test set of 297 canvases.  ``glimpses``: 'learned' (the location policy, trained
    by REINFORCE), 'random' (glimpses 2..T uniform on the lattice, or the digits' range of
    the canvas) or 'oracle' (at the digit's centre: the diagnostic of the sensor and the
    classifier).  ``cells``: the digits fill one cell of a cells x cells partition of the
    canvas (0: anywhere, the policy then a ``grid`` of 7 x 7).  The curriculum (off by
    default): over the first ``curriculum`` of the epochs the digits' positions spread from
    the central ``start`` x ``start`` square to the whole canvas.  ``log(epoch, reward)`` is
    called after each epoch.  Returns (model, per-epoch train reward, test accuracy after
    each glimpse (T,) of the final model, test canvases, their digits' centres (B, 2) in
    [-1, 1])."""
    X, y = _data.digits()
    Xtr, ytr, Xte, yte = _data.split(X, y, 297, seed=seed)
    if n_train:
        Xtr, ytr = Xtr[:n_train], ytr[:n_train]
    rng = numpy.random.default_rng(seed)
    test_canvas, tpos = make_canvases(Xte, canvas, numpy.random.default_rng(seed + 1), clutter,
                                      cells=cells)
    Cte, Yte, Lte = _data.to_tensors(test_canvas, yte, centres(tpos, canvas), device=device)
    autograd.manual_seed(seed)
    gen = autograd.Generator(autograd.device(device or autograd.get_default_device()))
    gen.manual_seed(seed)
    model = RecurrentAttention(g=g, scales=scales, factor=factor, hidden=hidden, sigma=sigma,
                               core=core, policy=policy, grid=cells or 7, aligned=bool(cells),
                               detach=detach, span=1 - 8 / canvas).to(device)
    policy = [*model.locator.parameters(), *model.baseline.parameters()]
    rest = [p for p in model.parameters() if all(p is not q for q in policy)]
    opt = optim.Adam([{'params': rest}, {'params': policy, 'lr': policy_lr}], lr=lr)
    history = []
    for epoch in range(epochs):
        ramp = max(curriculum * epochs, 1)
        spread = start + (canvas - start) * min(epoch / ramp, 1) if curriculum else canvas
        cv, pos = make_canvases(Xtr, canvas, rng, clutter, spread, cells)
        C, Y, L = _data.to_tensors(cv, ytr, centres(pos, canvas), device=device)
        rewards = []
        order = autograd.randperm(len(Y), generator=gen, device=C.device)
        for s in range(0, len(Y), batch):
            idx = order[s:s + batch]
            out = model(C[idx], steps, glimpses, generator=gen, targets=L[idx])
            loss, r = hybrid_loss(*out, Y[idx], final_reward=final_reward)
            opt.zero_grad()
            loss.backward()
            opt.step()
            rewards.append(r[-1].mean().item())
        history.append(float(numpy.mean(rewards)))
        if log:
            log(epoch, history[-1])
    acc = evaluate(model, Cte, Yte, steps, glimpses, gen, Lte)
    return model, history, acc, Cte, Lte


def centres(pos, size):
    """The digits' centres (top-left corner + 4 pixels) as locations in [-1, 1]."""
    return ((pos + 4) / size * 2 - 1).astype(numpy.float32)


def evaluate(model, C, Y, steps, glimpses='learned', generator=None, targets=None):
    """Test accuracy after each glimpse (a list of T floats); the policy's locations are
    its modes (no exploration)."""
    with autograd.no_grad():
        logits = model(C, steps, glimpses, generator=generator, greedy=True,
                       targets=targets)[0]
    return [(logits[t].argmax(1) == Y).float().mean().item() for t in range(steps)]


def trajectory(model, C, steps):
    """The greedy policy's glimpse locations (steps, B, 2) in [-1, 1] on canvases C."""
    B = C.shape[0]
    locs = []
    with autograd.no_grad():
        h = autograd.zeros(B, model.core.hidden_size, device=C.device)
        loc = autograd.zeros(B, 2, device=C.device)
        for _ in range(steps):
            locs.append(loc)
            h = model.core(model.glimpse_network(C, loc), h)
            policy, place = model.location_policy(h)
            loc = place(policy.mode)
    return autograd.stack(locs).cpu().numpy()


def on_target(paths, targets, size, tol=2):
    """Which of the glimpses 2..T of ``paths`` (T, B, 2) are centred within ``tol`` pixels
    (in both coordinates) of the digit's centre ``targets`` (B, 2), both in [-1, 1]:
    a (T-1, B) bool array."""
    d = numpy.abs(paths[1:] - targets[None]) / 2 * size
    return (d <= tol).all(2)


def main(argv=None):
    p = _data.parser('recurrent_attention', __doc__, epochs=30)
    p.add_argument('--canvas', type=int, default=32)
    p.add_argument('--glimpses', type=int, default=6)
    p.add_argument('--cells', type=int, default=4,
                   help='digits in the cells of a CELLS x CELLS partition (0: anywhere)')
    p.add_argument('--clutter', type=int, default=0)
    p.add_argument('--policy', choices=['grid', 'gaussian'], default='grid')
    args = p.parse_args(argv)
    kw = dict(epochs=args.epochs, canvas=args.canvas, steps=args.glimpses, cells=args.cells,
              clutter=args.clutter, seed=args.seed, device=args.device, policy=args.policy)
    model, history, acc, Cte, Lte = train(**kw)
    paths = trajectory(model, Cte, args.glimpses)
    hits = on_target(paths, Lte.cpu().numpy(), args.canvas)
    print(f'recurrent attention (REINFORCE locations): test accuracy after glimpses 1..'
          f'{args.glimpses}: {[round(a, 3) for a in acc]}; the 2nd glimpse on the digit '
          f'in {hits[0].mean():.2f} of the canvases, some glimpse in {hits.any(0).mean():.2f}')
    _, rhistory, racc, _, _ = train(glimpses='random', **kw)
    print(f'random glimpse locations: {[round(a, 3) for a in racc]}  (chance 0.1)')
    _, ohistory, oacc, _, _ = train(glimpses='oracle', **kw)
    print(f'oracle (at the digit): {[round(a, 3) for a in oacc]}')

    fig, axes = _data.figure(2, 4, figsize=(14, 7))
    ax_c = axes[0][0]
    for h, label in [(history, 'learned'), (rhistory, 'random'), (ohistory, 'oracle')]:
        ax_c.plot(h, label=f'{label} locations')
    ax_c.set(xlabel='epoch', ylabel='train reward (last glimpse correct)')
    ax_c.legend()
    ax_a = axes[1][0]
    steps = range(1, args.glimpses + 1)
    for a, m, label in [(acc, 'o-', 'learned'), (racc, 's-', 'random'), (oacc, '^-', 'oracle')]:
        ax_a.plot(steps, a, m, label=f'{label} locations')
    ax_a.set(xlabel='glimpses', ylabel='test accuracy', ylim=(0, 1))
    ax_a.legend()
    pix = (paths[:, :6] + 1) / 2 * args.canvas                         # pixels (T, 6, 2)
    side = model.g
    from matplotlib.patches import Rectangle
    for k, ax in enumerate([*axes[0][1:], *axes[1][1:]]):
        ax.imshow(Cte[k].cpu().numpy(), cmap='gray')
        ax.plot(pix[:, k, 1], pix[:, k, 0], 'o-', color='tab:red', ms=3)
        for t, (r, c) in enumerate(pix[:, k]):        # the finest scale's square
            ax.add_patch(Rectangle((c - side / 2 - 0.5, r - side / 2 - 0.5),
                                   side, side, fill=False, lw=0.8,
                                   color='tab:red' if t else 'tab:blue'))
        ax.set(xticks=[], yticks=[], title=f'glimpse path {k}')
    print('plot:', _data.savefig(fig, args.out, 'recurrent_attention.png'))
    return {'accuracy': acc, 'random_accuracy': racc, 'oracle_accuracy': oacc,
            'train_reward': history, 'random_train_reward': rhistory,
            'second_glimpse_on_digit': float(hits[0].mean()),
            'any_glimpse_on_digit': float(hits.any(0).mean())}


if __name__ == '__main__':
    main()
