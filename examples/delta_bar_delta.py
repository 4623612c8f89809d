"""Delta-bar-delta: a separate, adaptive gain for every weight, compared with plain gradient
descent and momentum on the same network.

The shorter text S0 ("Separate adaptive learning rates", L456-478); Aggarwal, *Neural
Networks and Deep Learning*, sec. 3.5.3 (parameter-specific learning rates, the
delta-bar-delta method).

Each weight's step is the global learning rate times its own gain g_ij:

    g_ij(t) = g_ij(t-1) + 0.05    if dE/dw_ij(t) * dE/dw_ij(t-1) > 0
              0.95 g_ij(t-1)      otherwise

(an additive increase and a multiplicative decrease, so big gains decay quickly once the
weight starts to oscillate), the gains limited to [0.1, 10], and
w_ij <- w_ij - lr g_ij dE/dw_ij.  Like Rprop the rule is meant for full-batch learning: in
mini-batches the gradient's sign changes by sampling error alone.  ``compare='bar'`` is
Jacobs' original "bar" (1988): the current gradient is compared with an exponential
average of the past ones (the delta-bar, theta = 0.7) instead of the last gradient alone;
``momentum`` > 0 combines the gains with momentum, comparing the gradient with the
velocity, the text's last suggestion.

Task: a 64-32-10 tanh network on scikit-learn's 8x8 digits, full-batch cross-entropy, the
same initial weights and the same global learning rate for every method.

Run: python examples/delta_bar_delta.py [--epochs 200] [--device cpu] [--out runs/delta_bar_delta]
"""
import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn
import optim


class DeltaBarDelta:
    """Gradient descent with a gain per weight (S0 L456-478).

    ``params``: tensors that require grad; ``lr`` the global learning rate; ``increase`` and
    ``decay`` the text's 0.05 and 0.95; ``gain_range`` the limits (the text's [0.1, 10]);
    ``compare``: ``'last'`` (the text: the previous gradient) or ``'bar'`` (an exponential
    average with weight ``theta``); ``momentum``: 0 for the text's rule, else the gradient's
    sign is compared with the velocity's.
    """

    def __init__(self, params, lr=0.1, increase=0.05, decay=0.95, gain_range=(0.1, 10.0),
                 compare='last', theta=0.7, momentum=0.0):
        if compare not in ('last', 'bar'):
            raise ValueError(f"compare must be 'last' or 'bar', got {compare!r}")
        self.params = list(params)
        self.lr, self.increase, self.decay = lr, increase, decay
        self.lo, self.hi = gain_range
        self.compare, self.theta, self.momentum = compare, theta, momentum
        self.gains = [autograd.ones_like(p) for p in self.params]
        self.memory = [autograd.zeros_like(p) for p in self.params]    # last grad / delta-bar
        self.velocity = [autograd.zeros_like(p) for p in self.params]

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @autograd.no_grad()
    def step(self):
        for i, p in enumerate(self.params):
            g = p.grad
            before = self.velocity[i] if self.momentum else self.memory[i]
            # momentum: agreement of the descent direction -g with the velocity
            agree = (-g * before > 0) if self.momentum else (g * before > 0)
            self.gains[i] = autograd.where(agree, self.gains[i] + self.increase,
                                           self.gains[i] * self.decay).clamp(self.lo, self.hi)
            change = -self.lr * self.gains[i] * g
            if self.momentum:
                change = self.momentum * self.velocity[i] + change
                self.velocity[i] = change
            p.add_(change)
            self.memory[i] = (g.clone() if self.compare == 'last'
                              else (1 - self.theta) * g + self.theta * self.memory[i])


def digits_task(device=None, seed=0):
    """scikit-learn's digits, 1,297 training and 500 held-out images, as tensors."""
    X, y = _data.digits()
    return _data.to_tensors(*_data.split(X, y, 500, seed=seed), device=device)


def net(seed, device=None):
    autograd.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 10)).to(device)


def train(make_opt, data, epochs, seed, device=None):
    """Full-batch training; returns (optimizer, loss per epoch, final held-out accuracy)."""
    Xtr, ytr, Xte, yte = data
    model = net(seed, device)
    opt = make_opt(model.parameters())
    losses = []
    for _ in range(epochs):
        loss = nn.functional.cross_entropy(model(Xtr), ytr)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    with autograd.no_grad():
        acc = _data.accuracy(model(Xte), yte)
    return opt, losses, acc


def epochs_to(losses, level):
    """The first epoch (1-based) whose training loss is below ``level``, or None."""
    return next((t + 1 for t, v in enumerate(losses) if v < level), None)


def main(argv=None):
    args = _data.parser('delta_bar_delta', __doc__, epochs=200,
                        epochs_help='full-batch iterations on digits').parse_args(argv)
    dev = args.device
    lr = 0.1
    data = digits_task(dev, args.seed)
    methods = {
        'gradient descent': lambda ps: optim.SGD(ps, lr=lr),
        'momentum 0.9': lambda ps: optim.SGD(ps, lr=lr, momentum=0.9),
        'delta-bar-delta (text)': lambda ps: DeltaBarDelta(ps, lr=lr),
        'delta-bar-delta (Jacobs bar)': lambda ps: DeltaBarDelta(ps, lr=lr, compare='bar'),
        'delta-bar-delta + momentum': lambda ps: DeltaBarDelta(ps, lr=lr, momentum=0.9),
    }
    results, curves = {}, {}
    for name, make in methods.items():
        opt, losses, acc = train(make, data, args.epochs, args.seed, dev)
        curves[name] = losses
        results[name] = {'loss': losses[-1], 'accuracy': acc,
                         'epochs to loss 0.2': epochs_to(losses, 0.2)}
        if isinstance(opt, DeltaBarDelta):
            gains = autograd.cat([g.flatten() for g in opt.gains])
            results[name]['mean gain'] = gains.mean().item()
            results[name]['gains at the limits'] = (
                (gains <= opt.lo + 1e-6).float().mean().item(),
                (gains >= opt.hi - 1e-6).float().mean().item())
        print(f'{name:29s} loss {losses[-1]:.4f}  held-out accuracy {acc:.3f}  '
              f'epochs to loss 0.2: {results[name]["epochs to loss 0.2"]}'
              + (f'  mean gain {results[name]["mean gain"]:.2f}' if 'mean gain' in results[name]
                 else ''))

    fig, ax = _data.figure(figsize=(6, 4))
    for name, losses in curves.items():
        ax.semilogy(losses, label=name)
    ax.set(xlabel='full-batch iteration', ylabel='training cross-entropy',
           title=f'digits, 64-32-10 tanh, global lr {lr}')
    print('plot:', _data.savefig(fig, args.out, 'delta_bar_delta.png', legend_fontsize=8))
    return results


if __name__ == '__main__':
    main()
