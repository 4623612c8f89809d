"""A bidirectional, multi-layer recurrent tagger on a labelling task that the right-hand
context decides, against the same network reading left to right only.

Aggarwal, *Neural Networks and Deep Learning*, sec. 7.2.3-7.2.4: the bidirectional network
keeps separate forward states h_t^(f) and backward states h_t^(b), both fed x_t and both
feeding the output y_t = W_fy h_t^(f) + W_by h_t^(b) ("any property of the current word can
be predicted more effectively ... because it uses the context on both sides"); the
multilayer network stacks recurrent layers, the states of layer k being the inputs of layer
k+1.

The task (synthetic, so that the answer is known): sequences of ``length`` symbols drawn
uniformly from ``vocab``; the tag of position t is 1 when x_t occurs nowhere after t (its
last occurrence), else 0.  Everything that decides a tag lies to its right, at any
distance.  A left-to-right network can only guess from what it has seen and from the
position; its best is the Bayes rate of that guess, which :func:`left_only_bayes_accuracy`
computes exactly.  The bidirectional network reads the right context and can be right
every time.

Run: ``python examples/bidirectional_tagger.py [--steps 600] [--cell gru]``
"""

import numpy

import _data  # noqa: I001  (before autograd: it makes a source checkout importable)
import autograd
import nn
import nn.functional as F
import optim

CELLS = {'rnn': nn.RNN, 'lstm': nn.LSTM, 'gru': nn.GRU}


def last_occurrence_tags(x):
    """x: (n, T) symbols -> (n, T) tags, 1 where x[:, t] does not occur in x[:, t+1:]."""
    later = x[:, :, None] == x[:, None, :]                    # [i, t, s]: x_t == x_s
    after = numpy.triu(numpy.ones(x.shape[1:] * 2, dtype=bool), 1)
    return (~(later & after).any(-1)).astype(numpy.int64)


def make_data(n, length=20, vocab=8, seed=0):
    """n sequences (n, length) of uniform symbols and their tags (n, length)."""
    x = numpy.random.default_rng(seed).integers(0, vocab, (n, length))
    return x, last_occurrence_tags(x)


def left_only_bayes_accuracy(length, vocab):
    """The best expected accuracy of any tagger that sees only x_1..x_t.  Seeing the past
    tells nothing about the future (the symbols are independent), so the best guess at
    position t is the likelier tag: P(last) = (1 - 1/vocab)^(length - t)."""
    remaining = length - numpy.arange(1, length + 1)
    p_last = (1 - 1 / vocab) ** remaining
    return float(numpy.maximum(p_last, 1 - p_last).mean())


class Tagger(nn.Module):
    """Embedding -> ``num_layers`` recurrent layers (bidirectional or not) -> per-position
    scores of the 2 tags."""

    def __init__(self, vocab, embed=16, hidden=32, num_layers=2, bidirectional=True,
                 cell='gru'):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.rnn = CELLS[cell](embed, hidden, num_layers=num_layers, batch_first=True,
                               bidirectional=bidirectional)
        self.out = nn.Linear(hidden * (2 if bidirectional else 1), 2)

    def forward(self, x):
        """x: (B, T) symbols -> tag scores (B, T, 2)."""
        h, _ = self.rnn(self.embed(x))
        return self.out(h)


def train_tagger(bidirectional, steps=600, batch=64, length=20, vocab=8, hidden=32,
                 num_layers=2, cell='gru', lr=1e-2, n_test=1000, seed=0, device=None,
                 log=print):
    """Train on fresh random batches; returns the model, the loss curve and the held-out
    per-position accuracy (overall, and per position as a NumPy array)."""
    device = device or autograd.get_default_device()
    autograd.manual_seed(seed)
    model = Tagger(vocab, hidden=hidden, num_layers=num_layers, bidirectional=bidirectional,
                   cell=cell).to(device)
    opt = optim.Adam(model.parameters(), lr=lr)
    rng = numpy.random.default_rng(seed + 1)
    losses = []
    for step in range(steps):
        x, y = make_data(batch, length, vocab, seed=int(rng.integers(2 ** 31)))
        x, y = _data.to_tensors(x, y, device=device)
        loss = F.cross_entropy(model(x).reshape(-1, 2), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
        if log and (step + 1) % 100 == 0:
            log(f'  {"bi" if bidirectional else "uni"}directional step {step + 1}: '
                f'loss {numpy.mean(losses[-100:]):.4f}')
    x, y = make_data(n_test, length, vocab, seed=seed + 12345)
    x, y = _data.to_tensors(x, y, device=device)
    with autograd.no_grad():
        right = (model(x).argmax(-1) == y).float()
    return dict(model=model, losses=losses, accuracy=right.mean().item(),
                per_position=right.mean(0).cpu().numpy())


def plot(results, bayes, out):
    """Held-out accuracy by position, with the left-only Bayes rate per position ``bayes``."""
    fig, ax = _data.figure(figsize=(6, 4))
    for name, r in results.items():
        ax.plot(numpy.arange(1, len(r['per_position']) + 1), r['per_position'], marker='o',
                label=f'{name} ({100 * r["accuracy"]:.1f}%)')
    ax.plot(numpy.arange(1, len(bayes) + 1), bayes, 'k--', label='best left-only guess')
    ax.set_xlabel('position t')
    ax.set_ylabel('held-out tag accuracy')
    return _data.savefig(fig, out, 'accuracy_by_position.png', legend_fontsize=8)


def main(argv=None):
    p = _data.parser('bidirectional_tagger', __doc__, epochs=0, epochs_help='unused')
    p.add_argument('--steps', type=int, default=600)
    p.add_argument('--length', type=int, default=20)
    p.add_argument('--vocab', type=int, default=8)
    p.add_argument('--layers', type=int, default=2)
    p.add_argument('--cell', choices=sorted(CELLS), default='gru')
    args = p.parse_args(argv)
    kw = dict(steps=args.steps, length=args.length, vocab=args.vocab, num_layers=args.layers,
              cell=args.cell, seed=args.seed, device=args.device)
    results = {'bidirectional': train_tagger(True, **kw),
               'left to right': train_tagger(False, **kw)}
    remaining = args.length - numpy.arange(1, args.length + 1)
    p_last = (1 - 1 / args.vocab) ** remaining
    plot(results, numpy.maximum(p_last, 1 - p_last), args.out)
    bayes = left_only_bayes_accuracy(args.length, args.vocab)
    print(f'{args.layers}-layer {args.cell.upper()} taggers, held-out accuracy: '
          f'bidirectional {100 * results["bidirectional"]["accuracy"]:.1f}%, '
          f'left to right {100 * results["left to right"]["accuracy"]:.1f}% '
          f'(best possible without the right context {100 * bayes:.1f}%)')
    results['bayes'] = bayes
    return results


if __name__ == '__main__':
    main()
