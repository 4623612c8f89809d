"""Sequence-to-sequence translation of a synthetic language: a GRU encoder, a GRU decoder
started from the encoder's last state, trained with teacher forcing; the source read in
reverse; an end token; greedy and beam decoding.

Aggarwal, *Neural Networks and Deep Learning*, sec. 7.7.2 (machine translation): "the RNN
on the left is the encoder ... its final state is the input to the decoder"; the decoder is
a language model conditioned on it, fed the true previous word during training (teacher
forcing) and its own previous output at test time, until it emits <EOS>; Sutskever et al.
(2014), whose choice the book reports, feed the source sentence in reverse, so that the
first words of the two sentences, which correspond, are close together; beam search as in
sec. 7.2.1.1.

The language (synthetic, so that the correct translation is known): source sentences are
3-8 words from a lexicon of 12; word w translates to target token w, except words 8-11,
which translate to two tokens (w, w + 4), like a noun that takes an article.  Target
sentences are therefore longer than their sources by a varying amount, and the decoder must
decide when to stop.  The same network is trained twice, on the source read forwards and
reversed, with the same batches; the held-out exact-match rates are compared.

Run: ``python examples/seq2seq.py [--steps 1000] [--beam 4]``
"""

import numpy

import _data  # noqa: I001  (before autograd: it makes a source checkout importable)
import autograd
import nn
import nn.functional as F
import optim

SOURCE_WORDS = 12
PAD, BOS, EOS = 0, 1, 2               # target specials; target token t is stored as t + 3
TARGET_VOCAB = 3 + 16


def translate(sentence):
    """The correct translation of a source sentence (list of words) as target tokens
    (specials excluded): w -> w, and w >= 8 -> w, w + 4."""
    out = []
    for w in sentence:
        out += [w + 3] if w < 8 else [w + 3, w + 4 + 3]
    return out


def make_batch(n, length, rng):
    """n source sentences of one ``length`` (n, length) and their targets padded with PAD:
    decoder inputs <BOS> y_1 .. y_m and outputs y_1 .. y_m <EOS>, both (n, max m + 1)."""
    src = rng.integers(0, SOURCE_WORDS, (n, length))
    targets = [translate(s) for s in src]
    width = max(map(len, targets)) + 1
    dec_in = numpy.full((n, width), PAD)
    dec_out = numpy.full((n, width), PAD)
    for i, t in enumerate(targets):
        dec_in[i, :len(t) + 1] = [BOS] + t
        dec_out[i, :len(t) + 1] = t + [EOS]
    return src, dec_in, dec_out


class Seq2Seq(nn.Module):
    """Encoder GRU over the (optionally reversed) source; its final state starts the decoder
    GRU, whose states are mapped to target-token scores."""

    def __init__(self, embed=32, hidden=128, reverse_source=True):
        super().__init__()
        self.reverse_source = reverse_source
        self.src_embed = nn.Embedding(SOURCE_WORDS, embed)
        self.tgt_embed = nn.Embedding(TARGET_VOCAB, embed, padding_idx=PAD)
        self.encoder = nn.GRU(embed, hidden, batch_first=True)
        self.decoder = nn.GRU(embed, hidden, batch_first=True)
        self.out = nn.Linear(hidden, TARGET_VOCAB)

    def encode(self, src):
        """src: (B, S) words -> the decoder's initial state (1, B, hidden)."""
        if self.reverse_source:
            src = src.flip(1)
        _, h = self.encoder(self.src_embed(src))
        return h

    def decode(self, tokens, h):
        """tokens: (B, T) decoder inputs, h: (1, B, hidden) -> scores (B, T, V), new state."""
        states, h = self.decoder(self.tgt_embed(tokens), h)
        return self.out(states), h

    def forward(self, src, dec_in):
        """Teacher forcing: the true previous target token is each step's input."""
        return self.decode(dec_in, self.encode(src))[0]


def greedy_decode(model, src, max_len=20):
    """The most likely token at each step, fed back, until <EOS>; src: (B, S).  Returns a
    list of B token lists (without <EOS>) and their log-probabilities."""
    B = src.shape[0]
    with autograd.no_grad():
        h = model.encode(src)
        tok = autograd.full((B, 1), BOS, dtype=autograd.int64, device=src.device)
        out, logp, done = [[] for _ in range(B)], numpy.zeros(B), numpy.zeros(B, bool)
        for _ in range(max_len):
            scores, h = model.decode(tok, h)
            lp = scores[:, -1].log_softmax(-1)
            best = lp.argmax(-1)
            best_lp = lp.gather(1, best.unsqueeze(1)).squeeze(1).cpu().numpy()
            for i, t in enumerate(best.tolist()):
                if not done[i]:
                    logp[i] += best_lp[i]
                    if t == EOS:
                        done[i] = True
                    else:
                        out[i].append(t)
            if done.all():
                break
            tok = best.unsqueeze(1)
    return out, logp


def beam_decode(model, src, beam=4, max_len=20):
    """Beam search for one source sentence src (1, S): keep the ``beam`` most likely
    unfinished prefixes; a prefix that emits <EOS> is finished.  Returns the most likely
    finished translation (tokens without <EOS>) and its log-probability."""
    with autograd.no_grad():
        h = model.encode(src)
        prefixes, totals = [[]], numpy.zeros(1)
        tok = autograd.full((1, 1), BOS, dtype=autograd.int64, device=src.device)
        finished = []
        for _ in range(max_len):
            scores, h = model.decode(tok, h)
            lp = scores[:, -1].log_softmax(-1).cpu().numpy()         # (beams, V)
            cand = (totals[:, None] + lp).ravel()
            order = numpy.argsort(-cand)[:beam]
            rows, toks = order // TARGET_VOCAB, order % TARGET_VOCAB
            keep_rows, keep_toks, new_prefixes, new_totals = [], [], [], []
            for r, t, total in zip(rows, toks, cand[order]):
                if t == EOS:
                    finished.append((total, prefixes[r]))
                else:
                    keep_rows.append(r)
                    keep_toks.append(t)
                    new_prefixes.append(prefixes[r] + [int(t)])
                    new_totals.append(total)
            best_finished = max((f[0] for f in finished), default=-numpy.inf)
            # stop when no open prefix can still beat the best finished one
            if not new_prefixes or max(new_totals) < best_finished:
                break
            prefixes, totals = new_prefixes, numpy.array(new_totals)
            rows_t = autograd.tensor(keep_rows, device=src.device)
            h = h[:, rows_t]
            tok = autograd.tensor(keep_toks, device=src.device).unsqueeze(1)
    total, tokens = max(finished, key=lambda f: f[0]) if finished else (totals[0], prefixes[0])
    return tokens, float(total)


def sequence_logprob(model, src, tokens):
    """log P(tokens, <EOS> | src) for one source sentence src (1, S)."""
    dec_in = autograd.tensor([[BOS] + tokens], device=src.device)
    target = autograd.tensor([tokens + [EOS]], device=src.device)
    with autograd.no_grad():
        lp = model(src, dec_in).log_softmax(-1)[0]
        return lp.gather(1, target[0].unsqueeze(1)).sum().item()


def train(reverse_source=True, steps=1500, batch=64, hidden=128, lr=3e-3, min_len=3,
          max_len=8, seed=0, device=None, log=print):
    """Train by teacher forcing on fresh batches (each of one random source length);
    returns the model and its loss curve."""
    device = device or autograd.get_default_device()
    autograd.manual_seed(seed)
    model = Seq2Seq(hidden=hidden, reverse_source=reverse_source).to(device)
    opt = optim.Adam(model.parameters(), lr=lr)
    rng = numpy.random.default_rng(seed + 1)    # the same batches for both source orders
    losses = []
    for step in range(steps):
        src, dec_in, dec_out = make_batch(batch, int(rng.integers(min_len, max_len + 1)), rng)
        src, dec_in, dec_out = _data.to_tensors(src, dec_in, dec_out, device=device)
        scores = model(src, dec_in)
        loss = F.cross_entropy(scores.reshape(-1, TARGET_VOCAB), dec_out.reshape(-1),
                               ignore_index=PAD)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
        if log and (step + 1) % 250 == 0:
            log(f'  {"reversed" if reverse_source else "forward"} source, step {step + 1}: '
                f'loss {numpy.mean(losses[-250:]):.4f}')
    return model, losses


def evaluate(model, n_per_length=100, min_len=3, max_len=8, seed=1234, device=None):
    """Exact-match rate of greedy decoding on held-out sentences of each length; returns
    {length: rate} and the overall rate."""
    device = device or autograd.get_default_device()
    rng = numpy.random.default_rng(seed)
    rates = {}
    for length in range(min_len, max_len + 1):
        src = rng.integers(0, SOURCE_WORDS, (n_per_length, length))
        out, _ = greedy_decode(model, _data.to_tensors(src, device=device)[0])
        rates[length] = float(numpy.mean([o == translate(s) for o, s in zip(out, src)]))
    return rates, float(numpy.mean(list(rates.values())))


def plot(curves, out):
    fig, ax = _data.figure(figsize=(6, 4))
    for name, rates in curves.items():
        ax.plot(list(rates), list(rates.values()), marker='o', label=name)
    ax.set_xlabel('source length (words)')
    ax.set_ylabel('held-out exact-match rate (greedy)')
    return _data.savefig(fig, out, 'exact_match.png', legend_fontsize=8)


def main(argv=None):
    p = _data.parser('seq2seq', __doc__, epochs=0, epochs_help='unused')
    p.add_argument('--steps', type=int, default=1000)
    p.add_argument('--hidden', type=int, default=64)
    p.add_argument('--beam', type=int, default=4)
    args = p.parse_args(argv)
    results = {}
    for reverse in (True, False):
        name = 'reversed source' if reverse else 'forward source'
        model, losses = train(reverse, args.steps, hidden=args.hidden, seed=args.seed,
                              device=args.device)
        rates, overall = evaluate(model, device=args.device)
        results[name] = dict(model=model, losses=losses, rates=rates, overall=overall)
    plot({k: r['rates'] for k, r in results.items()}, args.out)
    model = results['reversed source']['model']
    rng = numpy.random.default_rng(7)
    beam_better, n = 0, 50
    for _ in range(n):
        src = _data.to_tensors(rng.integers(0, SOURCE_WORDS, (1, 8)), device=args.device)[0]
        (g,), (g_lp,) = greedy_decode(model, src)
        b, b_lp = beam_decode(model, src, args.beam)
        beam_better += b_lp > g_lp + 1e-6
    print(', '.join(f'{k}: {100 * r["overall"]:.1f}% exact (8 words: '
                    f'{100 * r["rates"][8]:.0f}%)' for k, r in results.items()))
    print(f'beam {args.beam} found a more likely translation than greedy for {beam_better} '
          f'of {n} 8-word sentences')
    results['beam_better'] = beam_better
    return results


if __name__ == '__main__':
    main()
