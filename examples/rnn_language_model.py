"""Recurrent language models: the book's toy sentence, then character-level RNN, LSTM and GRU
models with truncated backpropagation through time, gradient clipping, temperature sampling
and beam search.

Aggarwal, *Neural Networks and Deep Learning*, sec. 7.2 (the RNN language model and its
toy example, 7.2.1; generating a sample with beam search, 7.2.1.1), 7.2.3 (truncated BPTT,
"the values in the final time-layer of the segment are used for computing the state values
in the next segment"), 7.4 (norm-based gradient clipping), 7.5-7.6 (LSTM, GRU).

1. **The toy sentence** "The cat chased the mouse" on the four-word lexicon {the, cat,
   chased, mouse}, with the book's dimensions: d = 4 (one-hot words), p = 2 hidden units,
   W_xh 2 x 4, W_hh 2 x 2, W_hy 4 x 2 and no biases (h_t = tanh(W_xh x_t + W_hh h_{t-1}),
   y_t = W_hy h_t, softmax on top).  "the" is followed by "cat" the first time and by
   "mouse" the second, so only the recurrence can get all four predictions right.
2. **Character-level models** on the prose of Python's own standard library (docstrings and
   comments, ``_text.py``: on every machine, nothing downloads).  The training text is cut
   into ``batch`` parallel streams; each step trains on the next ``bptt`` characters of every
   stream, starting from the previous segment's final state detached from its graph
   (truncated BPTT), and clips the gradient's norm to ``clip`` (the fraction of clipped
   steps is reported).  Validation perplexity exp(mean cross-entropy per character) is
   measured on held-out text every ``eval_every`` steps and compared with the unigram
   (character-frequency) model's.
3. **Generation**: sampling from softmax(y / T) at temperatures T, and beam search keeping
   the ``beam`` most likely prefixes of each length (T -> 0 and beam = 1 are greedy
   decoding).

Run: ``python examples/rnn_language_model.py [--steps 300] [--hidden 64]``
"""
import math
import os
import time

import numpy

import _data  # noqa: I001  (before autograd: they make a source checkout importable)
import _text
import autograd
import nn
import nn.functional as F
import optim

TOY_WORDS = ['the', 'cat', 'chased', 'mouse']
TOY_SENTENCE = ['the', 'cat', 'chased', 'the', 'mouse']
CELLS = {'rnn': nn.RNN, 'lstm': nn.LSTM, 'gru': nn.GRU}


# ---------------------------------------------------------------------------------------------
# 1. The toy sentence (sec. 7.2.1)

class ToyRNN(nn.Module):
    """The book's RNN: h_t = tanh(W_xh x_t + W_hh h_{t-1}), y_t = W_hy h_t, no biases.
    ``rnn.weight_ih_l0`` is W_xh (p x d), ``rnn.weight_hh_l0`` W_hh (p x p),
    ``out.weight`` W_hy (d x p)."""

    def __init__(self, d=4, p=2):
        super().__init__()
        self.d = d
        self.rnn = nn.RNN(d, p, bias=False)
        self.out = nn.Linear(p, d, bias=False)

    def forward(self, words):
        """words: (T,) indices -> scores y_t (T, d) for the word after each one."""
        x = F.one_hot(words, self.d).float().unsqueeze(1)      # (T, 1, d): one-hot x_t
        h, _ = self.rnn(x)                                     # (T, 1, p)
        return self.out(h.squeeze(1))


def toy_sentence(steps=300, lr=0.1, seed=0, device=None):
    """Train :class:`ToyRNN` on the sentence; returns the model, the loss before and after,
    the predicted probabilities of the next word at each of the 4 time-stamps (4, 4) and
    how many of the 4 next words are the most likely prediction."""
    autograd.manual_seed(seed)
    index = {w: i for i, w in enumerate(TOY_WORDS)}
    ids = autograd.tensor([index[w] for w in TOY_SENTENCE], device=device)
    inputs, targets = ids[:-1], ids[1:]
    model = ToyRNN().to(device or autograd.get_default_device())
    opt = optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = F.cross_entropy(model(inputs), targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    with autograd.no_grad():
        probs = model(inputs).softmax(-1)
        correct = int((probs.argmax(-1) == targets).sum().item())
    return dict(model=model, first_loss=losses[0], last_loss=losses[-1],
                probs=probs.cpu().numpy(), correct=correct)


# ---------------------------------------------------------------------------------------------
# 2. Character-level models

def stdlib_text(n_chars, root=None):
    """The first ``n_chars`` characters of the standard library's prose blocks (one per
    line, runs of white space squeezed, non-ASCII characters dropped)."""
    pieces, total = [], 0
    for path in _text.stdlib_files(root):
        with open(path, encoding='utf-8', errors='replace') as f:
            source = f.read()
        for block in _text.prose(source):
            line = ' '.join(block.encode('ascii', 'ignore').decode().split())
            if line:
                pieces.append(line + '\n')
                total += len(line) + 1
        if total >= n_chars:
            break
    return ''.join(pieces)[:n_chars]


class CharVocab:
    """Characters <-> indices, in sorted order."""

    def __init__(self, text):
        self.chars = sorted(set(text))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        return numpy.array([self.index[c] for c in text], dtype=numpy.int64)

    def decode(self, ids):
        return ''.join(self.chars[i] for i in ids)


class CharLM(nn.Module):
    """Embedding (= W_xh on one-hot characters) -> RNN/LSTM/GRU -> linear scores."""

    def __init__(self, vocab_size, cell='lstm', embed=32, hidden=128, num_layers=1):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed)
        self.rnn = CELLS[cell](embed, hidden, num_layers=num_layers, batch_first=True)
        self.out = nn.Linear(hidden, vocab_size)

    def forward(self, x, state=None):
        """x: (B, T) character indices; returns scores (B, T, V) and the final state."""
        h, state = self.rnn(self.embed(x), state)
        return self.out(h), state


def detach_state(state):
    """The state carried into the next segment, cut from the graph (truncated BPTT)."""
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def streams(ids, batch):
    """A 1-D index array cut into ``batch`` equal parallel streams: (batch, n // batch)."""
    n = len(ids) // batch
    return ids[:n * batch].reshape(batch, n)


def unigram_perplexity(train_ids, test_ids, vocab_size):
    """Perplexity of predicting each test character by its training frequency (add-one)."""
    counts = numpy.bincount(train_ids, minlength=vocab_size) + 1.0
    logp = numpy.log(counts / counts.sum())
    return float(numpy.exp(-logp[test_ids].mean()))


def perplexity(model, data, bptt):
    """exp(mean cross-entropy per predicted character) over ``data`` (B, n), run segment by
    segment with the state carried over."""
    total, count, state = 0.0, 0, None
    with autograd.no_grad():
        for start in range(0, data.shape[1] - 1, bptt):
            x = data[:, start:start + bptt]
            y = data[:, start + 1:start + bptt + 1]
            x = x[:, :y.shape[1]]
            scores, state = model(x, state)
            total += F.cross_entropy(scores.reshape(-1, scores.shape[-1]), y.reshape(-1),
                                     reduction='sum').item()
            count += y.numel()
    return math.exp(total / count)


def train_char_model(cell, train_ids, valid_ids, vocab_size, steps=600, batch=32, bptt=64,
                     hidden=128, embed=32, lr=3e-3, clip=1.0, eval_every=100, seed=0,
                     device=None, log=print):
    """Train a :class:`CharLM` by truncated BPTT with norm clipping.

    Returns the model, the training-loss curve (per step), the validation perplexity curve
    [(step, perplexity)], and the fraction of steps whose gradient norm was clipped."""
    device = device or autograd.get_default_device()
    autograd.manual_seed(seed)
    model = CharLM(vocab_size, cell, embed, hidden).to(device)
    opt = optim.Adam(model.parameters(), lr=lr)
    data = autograd.as_tensor(streams(train_ids, batch)).to(device)
    valid = autograd.as_tensor(streams(valid_ids, 8)).to(device)
    losses, curve, clipped, state, start, t0 = [], [], 0, None, 0, time.perf_counter()
    for step in range(1, steps + 1):
        if start + bptt + 1 > data.shape[1]:       # the end of the streams: start over
            start, state = 0, None
        x = data[:, start:start + bptt]
        y = data[:, start + 1:start + bptt + 1]
        start += bptt
        scores, state = model(x, state)
        state = detach_state(state)
        loss = F.cross_entropy(scores.reshape(-1, vocab_size), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        norm = nn.utils.clip_grad_norm_(model.parameters(), clip)
        clipped += bool(norm.item() > clip)
        opt.step()
        losses.append(loss.item())
        if step % eval_every == 0 or step == steps:
            model.eval()
            curve.append((step, perplexity(model, valid, bptt)))
            model.train()
            if log:
                log(f'  {cell} step {step}: train loss {numpy.mean(losses[-eval_every:]):.3f}, '
                    f'validation perplexity {curve[-1][1]:.2f} '
                    f'({time.perf_counter() - t0:.0f} s)')
    return dict(model=model, losses=losses, curve=curve, clipped=clipped / steps)


# ---------------------------------------------------------------------------------------------
# 3. Generation

def _next_scores(model, ids, state):
    """Scores for the character after the last of ``ids`` (B, T) and the new state."""
    scores, state = model(ids, state)
    return scores[:, -1], state


def sample(model, vocab, prime, length, temperature=1.0, generator=None):
    """``prime`` followed by ``length`` characters drawn from softmax(scores / temperature)."""
    device = next(model.parameters()).device
    ids = vocab.encode(prime).tolist()
    with autograd.no_grad():
        scores, state = _next_scores(model, autograd.tensor([ids], device=device), None)
        for _ in range(length):
            probs = (scores / temperature).softmax(-1)
            nxt = autograd.multinomial(probs.cpu(), 1, generator=generator).item()
            ids.append(nxt)
            scores, state = _next_scores(model, autograd.tensor([[nxt]], device=device), state)
    return vocab.decode(ids)


def greedy(model, vocab, prime, length):
    """``prime`` followed by the most likely character at each step; returns (text, log P)."""
    device = next(model.parameters()).device
    ids, logp = vocab.encode(prime).tolist(), 0.0
    with autograd.no_grad():
        scores, state = _next_scores(model, autograd.tensor([ids], device=device), None)
        for _ in range(length):
            lp = scores.log_softmax(-1)[0]
            nxt = int(lp.argmax().item())
            logp += lp[nxt].item()
            ids.append(nxt)
            scores, state = _next_scores(model, autograd.tensor([[nxt]], device=device), state)
    return vocab.decode(ids), logp


def _select_state(state, rows):
    if isinstance(state, tuple):
        return tuple(s[:, rows] for s in state)
    return state[:, rows]


def beam_search(model, vocab, prime, length, beam=5):
    """Beam search (sec. 7.2.1.1): keep the ``beam`` most likely continuations of each length;
    returns the best ``prime`` + ``length`` characters and its log-probability."""
    device = next(model.parameters()).device
    prefix = vocab.encode(prime).tolist()
    with autograd.no_grad():
        scores, state = _next_scores(model, autograd.tensor([prefix], device=device), None)
        seqs, totals = [[]], autograd.zeros(1, device=device)
        for _ in range(length):
            # every (beam, next character) pair scored by its total log-probability
            cand = (totals.unsqueeze(1) + scores.log_softmax(-1)).reshape(-1)
            totals, flat = cand.topk(min(beam, cand.numel()))
            rows, chars = flat // len(vocab), flat % len(vocab)
            rows_l, chars_l = rows.tolist(), chars.tolist()
            seqs = [seqs[r] + [c] for r, c in zip(rows_l, chars_l)]
            state = _select_state(state, rows)
            scores, state = _next_scores(model, chars.unsqueeze(1), state)
    return vocab.decode(prefix + seqs[0]), totals[0].item()


def sequence_logprob(model, vocab, prime, continuation):
    """log P(continuation | prime) under the model."""
    device = next(model.parameters()).device
    ids = vocab.encode(prime + continuation)
    x = autograd.tensor(ids[None, :-1], device=device)
    with autograd.no_grad():
        lp = model(x)[0].log_softmax(-1)[0]
        targets = autograd.tensor(ids[1:], device=device)
        picked = lp.gather(1, targets.unsqueeze(1)).squeeze(1)
    return picked[len(prime) - 1:].sum().item()


# ---------------------------------------------------------------------------------------------

def char_models(n_chars=400000, cells=('rnn', 'lstm', 'gru'), valid_fraction=0.1, log=print,
                **kw):
    """Train one character model per cell on the same text, batches and start; returns
    {cell: result}, the vocabulary, and the unigram perplexity of the validation text."""
    text = stdlib_text(n_chars)
    vocab = CharVocab(text)
    ids = vocab.encode(text)
    n_valid = int(len(ids) * valid_fraction)
    train_ids, valid_ids = ids[:-n_valid], ids[-n_valid:]
    unigram = unigram_perplexity(train_ids, valid_ids, len(vocab))
    if log:
        log(f'{len(train_ids)} training characters, {n_valid} validation, '
            f'{len(vocab)} symbols; unigram perplexity {unigram:.2f}')
    results = {cell: train_char_model(cell, train_ids, valid_ids, len(vocab), log=log, **kw)
               for cell in cells}
    return results, vocab, unigram


def plot(results, unigram, out):
    fig, ax = _data.figure(figsize=(6, 4))
    for cell, r in results.items():
        steps, ppl = zip(*r['curve'])
        ax.plot(steps, ppl, marker='o', label=cell.upper())
    ax.axhline(unigram, color='k', ls='--', label='unigram')
    ax.set_xlabel('training step (truncated BPTT segments)')
    ax.set_ylabel('validation perplexity per character')
    ax.set_yscale('log')
    return _data.savefig(fig, out, 'perplexity.png', legend_fontsize=8)


def main(argv=None):
    p = _data.parser('rnn_language_model', __doc__, epochs=1,
                     epochs_help='unused: training length is --steps')
    p.add_argument('--steps', type=int, default=300)
    p.add_argument('--hidden', type=int, default=64)
    p.add_argument('--batch-size', type=int, default=16)
    p.add_argument('--bptt', type=int, default=64)
    p.add_argument('--chars', type=int, default=400000)
    p.add_argument('--clip', type=float, default=1.0)
    p.add_argument('--cells', default='rnn,lstm,gru')
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    toy = toy_sentence(seed=args.seed, device=args.device)
    print(f'toy sentence (d=4, p=2): loss {toy["first_loss"]:.3f} -> {toy["last_loss"]:.3f}, '
          f'{toy["correct"]} of 4 next words predicted')

    results, vocab, unigram = char_models(
        args.chars, tuple(args.cells.split(',')), steps=args.steps, hidden=args.hidden,
        batch=args.batch_size, bptt=args.bptt, clip=args.clip, seed=args.seed,
        device=args.device, eval_every=max(1, args.steps // 6))
    plot(results, unigram, args.out)
    best = min(results, key=lambda c: results[c]['curve'][-1][1])
    model = results[best]['model']
    model.eval()
    g = autograd.Generator().manual_seed(args.seed)
    prime = 'Return the '
    samples = {t: sample(model, vocab, prime, 120, t, g) for t in (0.5, 1.0)}
    text_b, logp_b = beam_search(model, vocab, prime, 40, beam=5)
    text_g, logp_g = greedy(model, vocab, prime, 40)
    with open(os.path.join(args.out, 'samples.txt'), 'w') as f:
        for t, s in samples.items():
            f.write(f'--- {best}, temperature {t}\n{s}\n')
        f.write(f'--- greedy (log P {logp_g:.2f})\n{text_g}\n')
        f.write(f'--- beam 5 (log P {logp_b:.2f})\n{text_b}\n')
    for t, s in samples.items():
        print(f'[{best} T={t}] {s!r}')
    print(f'[greedy, log P {logp_g:.2f}] {text_g!r}')
    print(f'[beam 5, log P {logp_b:.2f}] {text_b!r}')
    print('validation perplexity: unigram {:.2f}; '.format(unigram) + ', '.join(
        f'{c.upper()} {r["curve"][-1][1]:.2f} (clipped {100 * r["clipped"]:.0f}% of steps)'
        for c, r in results.items()))
    return dict(toy=toy, results=results, unigram=unigram, samples=samples,
                beam=(text_b, logp_b), greedy=(text_g, logp_g))


if __name__ == '__main__':
    main()
