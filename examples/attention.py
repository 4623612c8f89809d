"""Attention for machine translation: dot, general and concat scores on a synthetic language.

Aggarwal, *Neural Networks and Deep Learning*, sec. 10.2.3 (Luong's global attention).  An
encoder RNN reads the source sentence into hidden states h_s^(1); at each target step t the
decoder's hidden state h_t^(2) scores every source state,

    score(t, s) = h_s . h_t                  (dot)
                  h_s^T W_a h_t              (general)
                  v_a^T tanh(W_a [h_s; h_t]) (concat)

the attention a(t, s) = softmax_s score(t, s) (eq. 10.3) weighs the source states into a
context c_t = sum_s a(t, s) h_s (eq. 10.4), and H_t = tanh(W_c [c_t; h_t]) (eq. 10.5)
predicts the target word.

The synthetic language: a source sentence is 6 to 9 words of a 12-word vocabulary; its
translation says the same words through a fixed dictionary, in reverse order.  Each target
word depends on exactly one source word, so a trained model's attention map is the
anti-diagonal alignment (plotted in ``runs/attention/maps.png``).  A decoder without
attention (the context left out) is trained alongside for comparison.

Run: python examples/attention.py [--epochs 300] [--out runs/attention]
(``--epochs`` is the number of training mini-batches.)
"""
import numpy

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn
import optim

PAD, BOS, EOS = 0, 1, 2
WORDS = 12                                   # source words 3..14, target words 3..14


def make_batch(batch, rng, lengths=(6, 9)):
    """(source (B, S), target input (B, S + 1), target output (B, S + 1)) int64 arrays: the
    source padded with PAD, the target BOS + reversed dictionary words, then EOS."""
    dictionary = numpy.random.default_rng(1234).permutation(WORDS) + 3   # fixed
    S = lengths[1]
    src = numpy.full((batch, S), PAD)
    tgt_in = numpy.full((batch, S + 1), PAD)
    tgt_out = numpy.full((batch, S + 1), PAD)
    for i in range(batch):
        n = int(rng.integers(lengths[0], lengths[1] + 1))
        words = rng.integers(0, WORDS, n)
        src[i, :n] = words + 3
        translation = dictionary[words[::-1]]
        tgt_in[i, :n + 1] = numpy.concatenate([[BOS], translation])
        tgt_out[i, :n + 1] = numpy.concatenate([translation, [EOS]])
    return src, tgt_in, tgt_out


class Translator(nn.Module):
    """GRU encoder, GRU decoder with global attention (``score`` 'dot', 'general',
    'concat') or none (``score=None``: the decoder sees only the encoder's last state)."""

    def __init__(self, score='dot', vocab=WORDS + 3, embed=32, hidden=64):
        super().__init__()
        self.score_kind = score
        self.src_embed = nn.Embedding(vocab, embed, padding_idx=PAD)
        self.tgt_embed = nn.Embedding(vocab, embed, padding_idx=PAD)
        self.encoder = nn.GRU(embed, hidden, batch_first=True)
        self.decoder = nn.GRU(embed, hidden, batch_first=True)
        if score == 'general':
            self.W_a = nn.Linear(hidden, hidden, bias=False)
        elif score == 'concat':
            self.W_a = nn.Linear(2 * hidden, hidden, bias=False)
            self.v_a = nn.Linear(hidden, 1, bias=False)
        self.W_c = nn.Linear(2 * hidden if score else hidden, hidden)
        self.out = nn.Linear(hidden, vocab)

    def scores(self, h_dec, h_enc):
        """score(t, s) for decoder states (B, T, H) and encoder states (B, S, H): (B, T, S)."""
        if self.score_kind == 'dot':
            return h_dec @ h_enc.transpose(1, 2)
        if self.score_kind == 'general':
            return self.W_a(h_dec) @ h_enc.transpose(1, 2)
        T, S = h_dec.shape[1], h_enc.shape[1]
        pairs = autograd.cat([h_enc.unsqueeze(1).expand(-1, T, -1, -1),
                              h_dec.unsqueeze(2).expand(-1, -1, S, -1)], dim=3)
        return self.v_a(self.W_a(pairs).tanh()).squeeze(3)

    def forward(self, src, tgt_in):
        """Teacher-forced logits (B, T, vocab) and the attention (B, T, S) (None without)."""
        h_enc, h_last = self.encoder(self.src_embed(src))
        h_dec, _ = self.decoder(self.tgt_embed(tgt_in), h_last)
        return self._predict(src, h_enc, h_dec)

    def _predict(self, src, h_enc, h_dec):
        if self.score_kind is None:
            return self.out(self.W_c(h_dec).tanh()), None
        s = self.scores(h_dec, h_enc)
        s = s.masked_fill((src == PAD).unsqueeze(1), float('-inf'))
        a = s.softmax(-1)                                        # eq. 10.3
        context = a @ h_enc                                      # eq. 10.4
        H = self.W_c(autograd.cat([context, h_dec], dim=2)).tanh()  # eq. 10.5
        return self.out(H), a

    @autograd.no_grad()
    def translate(self, src, max_len):
        """Greedy decoding: (B, max_len) word ids and the attention (B, max_len, S)."""
        h_enc, h = self.encoder(self.src_embed(src))
        word = autograd.full((src.shape[0], 1), BOS, dtype=autograd.int64, device=src.device)
        words, maps = [], []
        for _ in range(max_len):
            h_dec, h = self.decoder(self.tgt_embed(word), h)
            logits, a = self._predict(src, h_enc, h_dec)
            word = logits.argmax(-1)
            words.append(word)
            maps.append(a)
        return autograd.cat(words, 1), (autograd.cat(maps, 1) if maps[0] is not None else None)


def train(score, steps=600, batch=64, lr=3e-3, seed=0, device=None, log=print, hidden=64,
          lengths=(6, 9)):
    """Train a :class:`Translator` with cross-entropy on teacher-forced targets."""
    autograd.manual_seed(seed)
    rng = numpy.random.default_rng(seed)
    model = Translator(score, hidden=hidden).to(device)
    opt = optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss(ignore_index=PAD)
    for step in range(steps):
        src, tgt_in, tgt_out = (autograd.tensor(x, device=device) for x in make_batch(batch, rng, lengths))
        logits, _ = model(src, tgt_in)
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        if log and (step + 1) % 100 == 0:
            log(f'  {score}: step {step + 1}, loss {loss.item():.3f}')
    return model


def evaluate(model, n=500, seed=99, device=None, lengths=(6, 9)):
    """Greedy translation of ``n`` held-out sentences: (word accuracy, sentence accuracy,
    alignment accuracy: how often the most-attended source word is the one translated)."""
    rng = numpy.random.default_rng(seed)
    src, _, tgt_out = make_batch(n, rng, lengths)
    words, maps = model.translate(autograd.tensor(src, device=device), tgt_out.shape[1])
    words = words.cpu().numpy()
    mask = tgt_out != PAD
    word_acc = float(((words == tgt_out) & mask).sum() / mask.sum())
    sent_acc = float(numpy.mean([(w[m] == t[m]).all() for w, t, m in zip(words, tgt_out, mask)]))
    align = None
    if maps is not None:
        focus = maps.argmax(-1).cpu().numpy()                   # (n, T)
        lengths = (src != PAD).sum(1)
        hits = total = 0
        for i, n_i in enumerate(lengths):
            expected = numpy.arange(n_i - 1, -1, -1)            # target t reads source n-1-t
            hits += int((focus[i, :n_i] == expected).sum())
            total += int(n_i)
        align = hits / total
    return word_acc, sent_acc, align


def main(argv=None):
    args = _data.parser('attention', __doc__, epochs=600, epochs_help='training mini-batches'
                        ).parse_args(argv)
    result = {}
    fig, axes = _data.figure(1, 3, figsize=(12, 4))
    src, _, tgt_out = make_batch(1, numpy.random.default_rng(7))
    for score in (None, 'dot', 'general', 'concat'):
        model = train(score, args.epochs, seed=args.seed, device=args.device)
        result[score or 'none'] = evaluate(model, device=args.device)
        word, sent, align = result[score or 'none']
        print(f'attention {score or "none":8s}: held-out word accuracy {word:.3f}, sentence '
              f'accuracy {sent:.3f}' + (f', alignment {align:.3f}' if align is not None else ''))
        if score:
            n = int((src != PAD).sum())
            _, maps = model.translate(autograd.tensor(src, device=args.device), n + 1)
            ax = axes[['dot', 'general', 'concat'].index(score)]
            ax.imshow(maps[0, :n + 1, :n].cpu().numpy(), cmap='gray_r', vmin=0, vmax=1)
            ax.set(title=f'{score} score', xlabel='source position', ylabel='target position')
    print('plot:', _data.savefig(fig, args.out, 'maps.png'))
    return result


if __name__ == '__main__':
    main()
