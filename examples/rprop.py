"""Resilient backpropagation (Rprop) exactly as the shorter text defines it, written by
hand on tensors, against ``optim.Rprop``.

The shorter text S0 ("Resilient backpropagation (Rprop)", L1039-1057); Aggarwal, *Neural
Networks and Deep Learning*, sec. 3.5.3 (parameter-specific learning rates).

The text's rule: only the sign of dJ/dW is used.  Each weight keeps its own step size
Delta; when the gradient's sign changes between two iterations Delta <- Delta eta^-, when it
does not Delta <- Delta eta^+ (eta^+ = 1.2, eta^- = 0.5), Delta is kept in a range, and
W <- W - sign(dJ/dW) Delta.  Rprop is meant for full-batch learning, so every step here
uses the whole training set.

Three variants, one function (:class:`HandRprop`):

* ``'text'``: the text's rule as written: after a sign flip the weight still moves, by the
  shrunk Delta, against the new gradient.
* ``'irprop-'``: what ``torch.optim.Rprop`` (and so ``optim.Rprop``) does: after a flip
  the gradient is treated as zero, so the weight does not move this iteration and the next
  iteration multiplies Delta by 1.  Written by hand it reproduces ``optim.Rprop`` bit for
  bit.
* ``'rprop+'``: Riedmiller and Braun's original rule with weight backtracking: after a flip
  the previous weight change is undone.

Until the first sign flip of a weight, all three are the same rule (first step: Delta_0 =
``lr``), so they follow the same trajectory; they part at the first flip.  On
f(w) = (w - 3)^2 from w = 0 with Delta_0 = 1 the text's variant goes 0, 1, 2.2, 3.64, 2.92,
3.28 ..., ``optim.Rprop`` waits one iteration at 3.64 before 2.92, and Rprop+ steps back
to 2.2 first.

Task: a 64-32-10 tanh network on scikit-learn's 8x8 digits, full-batch cross-entropy.

Run: python examples/rprop.py [--epochs 150] [--device cpu] [--out runs/rprop]
"""
import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn
import optim

VARIANTS = ('text', 'irprop-', 'rprop+')


class HandRprop:
    """Rprop on a list of tensors that require grad, the text's rule (S0 L1039-1057).

    ``lr`` is the first step size Delta_0, ``etas`` = (eta^-, eta^+), ``step_sizes`` the range
    Delta is kept in; ``variant`` is one of :data:`VARIANTS` (see the module docstring).
    ``flips`` counts the elements whose gradient changed sign, step by step.
    """

    def __init__(self, params, lr=0.01, etas=(0.5, 1.2), step_sizes=(1e-6, 50),
                 variant='text'):
        if variant not in VARIANTS:
            raise ValueError(f'variant must be one of {VARIANTS}, got {variant!r}')
        self.params = list(params)
        self.etaminus, self.etaplus = etas
        self.lo, self.hi = step_sizes
        self.variant = variant
        self.delta = [autograd.full_like(p, lr) for p in self.params]
        self.prev = [autograd.zeros_like(p) for p in self.params]
        self.last_change = [autograd.zeros_like(p) for p in self.params]
        self.flips = []

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @autograd.no_grad()
    def step(self):
        flips = 0
        for i, p in enumerate(self.params):
            g = p.grad
            agree = g * self.prev[i]
            flipped = agree < 0
            flips += int(flipped.sum().item())
            # the text: x eta^+ when the sign did not change; x 1 where there is no previous
            # sign to compare with (the first step, or after irprop-/rprop+ forgot it)
            factor = autograd.where(agree > 0, self.etaplus, 1.0)
            if self.variant == 'text':
                factor = autograd.where(agree < 0, self.etaminus,
                                        autograd.where(self.prev[i] == 0, 1.0, self.etaplus))
            else:
                factor = autograd.where(flipped, self.etaminus, factor)
            factor = factor.to(p.dtype)
            self.delta[i] = (self.delta[i] * factor).clamp(self.lo, self.hi)
            if self.variant == 'text':
                change = -g.sign() * self.delta[i]
            else:
                g = g.masked_fill(flipped, 0)        # flipped: forget this gradient's sign
                change = -g.sign() * self.delta[i]
                if self.variant == 'rprop+':         # weight backtracking: undo the last move
                    change = autograd.where(flipped, -self.last_change[i], change)
            p.add_(change)
            self.last_change[i] = change
            self.prev[i] = g.clone()
        self.flips.append(flips)


def trajectory(variant, w0=0.0, target=3.0, lr=1.0, steps=8, device=None):
    """Rprop on f(w) = (w - target)^2 in float64 from ``w0``: the list of iterates.
    ``variant`` is one of :data:`VARIANTS` or ``'optim'`` (``optim.Rprop``)."""
    w = autograd.tensor([w0], dtype=autograd.float64, device=device, requires_grad=True)
    opt = (optim.Rprop([w], lr=lr) if variant == 'optim'
           else HandRprop([w], lr=lr, variant=variant))
    path = [w.item()]
    for _ in range(steps):
        opt.zero_grad()
        ((w - target) ** 2).sum().backward()
        opt.step()
        path.append(w.item())
    return path


def digits_task(device=None, seed=0):
    """scikit-learn's digits, 1,297 training and 500 held-out images, as tensors."""
    X, y = _data.digits()
    Xtr, ytr, Xte, yte = _data.split(X, y, 500, seed=seed)
    return _data.to_tensors(Xtr, ytr, Xte, yte, device=device)


def net(seed, device=None):
    autograd.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 10)).to(device)


def train(make_opt, data, epochs, seed, device=None):
    """Full-batch training of :func:`net` with the optimizer ``make_opt(params)``; returns
    (model, optimizer, training loss per epoch, held-out accuracy per epoch)."""
    Xtr, ytr, Xte, yte = data
    model = net(seed, device)
    opt = make_opt(model.parameters())
    losses, accs = [], []
    for _ in range(epochs):
        loss = nn.functional.cross_entropy(model(Xtr), ytr)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        with autograd.no_grad():
            accs.append(_data.accuracy(model(Xte), yte))
    return model, opt, losses, accs


def max_weight_difference(a, b):
    return max((p - q).abs().max().item() for p, q in zip(a.parameters(), b.parameters()))


def main(argv=None):
    args = _data.parser('rprop', __doc__, epochs=150,
                        epochs_help='full-batch iterations on digits').parse_args(argv)
    dev = args.device
    results = {}

    # one weight, f(w) = (w - 3)^2: where the variants part
    paths = {v: trajectory(v, device=dev) for v in VARIANTS + ('optim',)}
    for v, path in paths.items():
        print(f'(w - 3)^2, {v:8s}', ' '.join(f'{w:.4f}' for w in path))
    results['paths'] = paths

    data = digits_task(dev, args.seed)
    runs = {'optim.Rprop': lambda ps: optim.Rprop(ps, lr=0.01)}
    for v in VARIANTS:
        runs[f'hand {v}'] = lambda ps, v=v: HandRprop(ps, lr=0.01, variant=v)
    runs['SGD lr 0.5'] = lambda ps: optim.SGD(ps, lr=0.5)
    models, curves = {}, {}
    for name, make in runs.items():
        model, opt, losses, accs = train(make, data, args.epochs, args.seed, dev)
        models[name], curves[name] = model, (losses, accs)
        results[name] = {'loss': losses[-1], 'accuracy': accs[-1]}
        flips = sum(opt.flips) if isinstance(opt, HandRprop) else None
        results[name]['sign flips'] = flips
        print(f'{name:13s} loss {losses[-1]:.4f}  held-out accuracy {accs[-1]:.3f}'
              + (f'  sign flips {flips}' if flips is not None else ''))
    results['hand irprop- vs optim.Rprop: max |weight difference|'] = max_weight_difference(
        models['hand irprop-'], models['optim.Rprop'])
    results['hand text vs optim.Rprop: max |weight difference|'] = max_weight_difference(
        models['hand text'], models['optim.Rprop'])
    for k in list(results)[-2:]:
        print(f'{k}: {results[k]:.3g}')

    fig, axes = _data.figure(1, 3, figsize=(15, 4))
    for v, path in paths.items():
        axes[0].plot(path, 'o-', label=v, ms=4)
    axes[0].axhline(3.0, color='0.6', ls='--')
    axes[0].set(xlabel='iteration', ylabel='w', title='(w - 3)^2 from 0, Delta_0 = 1')
    for name, (losses, accs) in curves.items():
        ls = '--' if name == 'hand irprop-' else '-'
        axes[1].semilogy(losses, ls, label=name)
        axes[2].plot(accs, ls, label=name)
    axes[1].set(xlabel='full-batch iteration', ylabel='training cross-entropy', title='digits')
    axes[2].set(xlabel='full-batch iteration', ylabel='held-out accuracy', title='digits')
    print('plot:', _data.savefig(fig, args.out, 'rprop.png', legend_fontsize=8))
    return results


if __name__ == '__main__':
    main()
