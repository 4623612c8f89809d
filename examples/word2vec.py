"""word2vec: skip-gram and CBOW with negative sampling, on the standard library's prose.

Mikolov et al., "Distributed representations of words and phrases and their
compositionality" (2013); Aggarwal, *Neural Networks and Deep Learning*, sec. 2.6.

Each word w has two vectors: v_w (``center`` embedding, the word vectors kept at the end)
and u_w (``context`` embedding). Skip-gram predicts each context word o in a window around
a centre word c; CBOW predicts the centre word from the mean h of its context words' v.
Both replace the softmax over the vocabulary by negative sampling (Mikolov eq. 4):

    loss = -log sigma(u_o . h) - sum_{k=1..K} log sigma(-u_{n_k} . h),   n_k ~ P(w)^(3/4)

with h = v_c for skip-gram. ``--objective softmax`` trains the book's own (vanilla) models
instead: a softmax over the whole vocabulary with the context vectors u_j as its output
weights, eq. 2.49 (CBOW) and eqs. 2.52-2.53 (skip-gram), L = -log softmax(h U^T)[target];
its untrained loss is ln V, and its held-out loss is a likelihood (``held_out_nll``), which
``hierarchical_softmax.py`` compares with the Huffman-tree softmax of sec. 2.3.4 that the
book (sec. 2.6.2, "Practical issues") names as the way to make it fast. Frequent words
are subsampled (kept with probability sqrt(t / f(w)), capped at 1) and each centre word
draws its window size uniformly from 1..window, as in the reference implementation.

The corpus is the prose of Python's own standard library (docstrings, comments, help
texts; see ``_text.py``): present on every machine, no download. After training, the run
prints the nearest neighbours of a few words and a few analogies (b - a + c, with the rank
of the expected answer), and, as numbers to watch on held-out sentences, how much more
similar (cosine) co-occurring words are than random ones.

Run: ``python examples/word2vec.py [--model skipgram|cbow] [--objective negative|softmax]
[--epochs 5] [--dim 50]``
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

PROBES = ['file', 'read', 'socket', 'thread', 'error', 'string', 'list', 'true', 'directory',
          'encode', 'server', 'lock']
ANALOGIES = [('read', 'write', 'reader', 'writer'), ('read', 'reads', 'write', 'writes'),
             ('encode', 'encoder', 'decode', 'decoder'), ('true', 'false', 'yes', 'no'),
             ('open', 'close', 'start', 'stop'), ('client', 'server', 'request', 'response'),
             ('file', 'files', 'directory', 'directories')]


# ---------------------------------------------------------------------------------------------
# Training examples (NumPy index bookkeeping; the model below is all autograd)

def flatten(encoded):
    """Sentences of indices -> one token array and the sentence id of each token."""
    tokens = numpy.concatenate(encoded)
    sentence = numpy.repeat(numpy.arange(len(encoded)), [len(s) for s in encoded])
    return tokens, sentence


def subsample(tokens, sentence, keep_prob, rng):
    """Drop each occurrence of word w with probability 1 - keep_prob[w] (Mikolov sec. 2.3)."""
    keep = rng.random(len(tokens)) < keep_prob[tokens]
    return tokens[keep], sentence[keep]


def windows(tokens, sentence, window, rng):
    """All (position, offset) pairs inside a sentence and within each position's random
    window size b ~ U{1..window}. Returns index arrays (i, i + offset)."""
    b = rng.integers(1, window + 1, size=len(tokens))
    rows, cols = [], []
    for d in range(-window, window + 1):
        if d == 0:
            continue
        i = numpy.arange(max(0, -d), len(tokens) - max(0, d))
        ok = (sentence[i] == sentence[i + d]) & (abs(d) <= b[i])
        rows.append(i[ok])
        cols.append(i[ok] + d)
    return numpy.concatenate(rows), numpy.concatenate(cols)


def skipgram_examples(tokens, sentence, window, rng):
    """(centre, context) word pairs: arrays (N,), (N,)."""
    i, j = windows(tokens, sentence, window, rng)
    return tokens[i], tokens[j]


def cbow_examples(tokens, sentence, window, pad, rng):
    """(context words (N, 2 window) padded with ``pad``, centre word (N,)) for every position
    with at least one context word."""
    i, j = windows(tokens, sentence, window, rng)
    context = numpy.full((len(tokens), 2 * window), pad, dtype=numpy.int64)
    slot = j - i + window - (j > i)  # offsets -w..-1, 1..w -> columns 0..2w-1
    context[i, slot] = tokens[j]
    has_context = numpy.zeros(len(tokens), dtype=bool)
    has_context[i] = True
    return context[has_context], tokens[has_context]


# ---------------------------------------------------------------------------------------------
# The models

def negative_sampling_loss(h, u_pos, u_neg):
    """Mikolov eq. 4, averaged over the batch. h, u_pos: (B, D); u_neg: (B, K, D)."""
    pos = (h * u_pos).sum(-1)                          # (B,)  u_o . h
    neg = (u_neg @ h.unsqueeze(-1)).squeeze(-1)        # (B, K) u_n . h
    return -(F.logsigmoid(pos) + F.logsigmoid(-neg).sum(-1)).mean()


class SkipGram(nn.Module):
    """Skip-gram: centre word -> each of its context words.

    ``objective`` is 'negative' (negative sampling, Mikolov eq. 4), 'softmax' (the book's
    multinomial model, sec. 2.6.2) or an output-layer module ``head(h, target) -> mean loss``
    with a ``log_prob(h, target)`` (``hierarchical_softmax.HierarchicalSoftmax``)."""

    def __init__(self, vocab_size, dim, objective='negative'):
        super().__init__()
        self.center = nn.Embedding(vocab_size, dim)
        self.context = nn.Embedding(vocab_size, dim)
        # the reference initialisation: small random v, zero u (so the first loss is (K+1) ln 2)
        nn.init.uniform_(self.center.weight, -0.5 / dim, 0.5 / dim)
        nn.init.zeros_(self.context.weight)
        self.objective = objective if isinstance(objective, str) else 'head'
        if self.objective == 'head':
            self.head = objective
        elif objective not in ('negative', 'softmax'):
            raise ValueError(f"SkipGram: objective must be 'negative', 'softmax' or a module, "
                             f'got {objective!r}')

    def hidden(self, center):
        """h = v_c (B, D): the input word's row of U (eq. 2.51)."""
        return self.center(center)

    def forward(self, center, context, negatives=None):
        """center, context: (B,) word indices; negatives: (B, K) (negative sampling only).
        Returns the mean loss."""
        h = self.hidden(center)
        if self.objective == 'negative':
            return negative_sampling_loss(h, self.context(context), self.context(negatives))
        if self.objective == 'softmax':   # eqs. 2.49, 2.52-2.53: the u_j are the output layer
            return F.cross_entropy(h @ self.context.weight.T, context)
        return self.head(h, context)

    def log_prob(self, inputs, targets):
        """log P(target | input) (B,) under the softmax or the tree output layer."""
        h = self.hidden(inputs)
        if self.objective == 'softmax':
            logp = F.log_softmax(h @ self.context.weight.T, dim=-1)
            return logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        return self.head.log_prob(h, targets)

    def word_vectors(self):
        return self.center.weight[:self.context.num_embeddings]


class CBOW(SkipGram):
    """Continuous bag of words: the mean of the context words' v predicts the centre word.
    Row ``vocab_size`` of ``center`` is the (zero, never trained) padding vector."""

    def __init__(self, vocab_size, dim, objective='negative'):
        super().__init__(vocab_size, dim, objective)
        self.center = nn.Embedding(vocab_size + 1, dim, padding_idx=vocab_size)
        nn.init.uniform_(self.center.weight, -0.5 / dim, 0.5 / dim)
        with autograd.no_grad():
            self.center.weight[vocab_size] = 0.0

    def hidden(self, context):
        """context: (B, 2 window) indices padded with vocab_size -> h (B, D), the mean of the
        context words' v (eq. 2.47 divided by the number of words present)."""
        count = (context != self.center.padding_idx).sum(-1, keepdim=True)  # (B, 1)
        return self.center(context).sum(1) / count


def held_out_nll(model, inputs, targets, batch_size=4096):
    """Mean -log P(target | input) over held-out examples, in nats (softmax or tree output
    layers: both are normalised distributions over the V words, so the numbers compare)."""
    total = 0.0
    with autograd.no_grad():
        for first in range(0, len(targets), batch_size):
            lp = model.log_prob(inputs[first:first + batch_size],
                                targets[first:first + batch_size])
            total += -lp.sum().item()
    return total / len(targets)


# ---------------------------------------------------------------------------------------------
# Sanity checks on the learned vectors

def normalized(vectors):
    return vectors / vectors.norm(dim=1, keepdim=True).clamp_min(1e-12)


def nearest(vectors, vocab, word, k=5, exclude=()):
    """The k words whose vectors have the largest cosine similarity with ``word`` (a word or
    a vector)."""
    unit = normalized(vectors)
    query = unit[vocab.index[word]] if isinstance(word, str) else word / word.norm()
    sims = unit @ query
    for w in exclude:
        sims[vocab.index[w]] = -2.0
    values, idx = sims.topk(k)
    return [(vocab.words[i], v) for i, v in zip(idx.tolist(), values.tolist())]


def analogy(vectors, vocab, a, b, c, k=3):
    """a : b :: c : ?  answered by the words nearest to v_b - v_a + v_c (3CosAdd)."""
    unit = normalized(vectors)
    ia, ib, ic = (vocab.index[w] for w in (a, b, c))
    return nearest(vectors, vocab, unit[ib] - unit[ia] + unit[ic], k, exclude=(a, b, c))


def pair_similarity(vectors, centers, contexts, noise_probs, n=20000, seed=0):
    """How much closer co-occurring words are than random ones.

    For n (centre, context) pairs, a random word r is drawn from the noise distribution for
    each centre c. Returns the mean cosine of (c, context), the mean cosine of (c, r), and the
    fraction of pairs where the context word is the closer of the two (0.5 = no signal)."""
    g = autograd.Generator().manual_seed(seed)  # a CPU generator: the same draw on any device
    pick = autograd.randint(0, len(centers), (n,), generator=g, device='cpu')
    c = autograd.as_tensor(centers)[pick].to(vectors.device)
    o = autograd.as_tensor(contexts)[pick].to(vectors.device)
    r = autograd.multinomial(noise_probs.cpu(), n, replacement=True, generator=g)
    r = r.to(vectors.device)
    keep = (c != o) & (c != r)  # a word is trivially similar to itself
    unit = normalized(vectors)
    together = (unit[c] * unit[o]).sum(-1)[keep]
    apart = (unit[c] * unit[r]).sum(-1)[keep]
    return (together.mean().item(), apart.mean().item(),
            (together > apart).float().mean().item())


# ---------------------------------------------------------------------------------------------

def train(model_name='skipgram', max_words=None, dim=50, window=5, negatives=5, min_count=5,
          epochs=5, batch_size=2048, lr=0.01, subsample_t=1e-4, held_out=0.05, seed=0,
          device=None, log=print, objective='negative'):
    """Train word vectors on the standard library's prose.

    ``objective``: 'negative' (negative sampling), 'softmax' (the book's full softmax) or a
    function ``vocab -> output-layer module`` (a hierarchical softmax).

    Returns a dict with the model, the vocabulary, the loss curve (means of 200 batches),
    the first batch's loss and the last epoch's mean, the training time per epoch, the
    pair-similarity check on held-out sentences (see :func:`pair_similarity`) and, for the
    softmax and tree objectives, the held-out -log P(target | input) (``held_out_nll``)
    next to that of the unigram frequencies (``unigram_nll``)."""
    device = device or autograd.get_default_device()  # Module.to(None) is refused here
    autograd.manual_seed(seed)
    rng = numpy.random.default_rng(seed)
    sentences = _text.stdlib_sentences(max_words)
    rng.shuffle(sentences)
    n_test = int(len(sentences) * held_out)
    vocab = _text.Vocabulary(sentences[n_test:], min_count=min_count)
    train_tokens, train_sentence = flatten(vocab.encode(sentences[n_test:]))
    test_tokens, test_sentence = flatten(vocab.encode(sentences[:n_test]))
    freq = vocab.counts / vocab.counts.sum()
    keep_prob = numpy.minimum(1.0, numpy.sqrt(subsample_t / freq))
    noise = autograd.tensor(vocab.counts ** 0.75, dtype=autograd.float32)
    noise_probs = (noise / noise.sum()).to(device)
    if log:
        log(f'{len(train_tokens)} training words, vocabulary {len(vocab)}, '
            f'{len(test_tokens)} held-out words')

    model_cls = {'skipgram': SkipGram, 'cbow': CBOW}[model_name]
    model = model_cls(len(vocab), dim,
                      objective if isinstance(objective, str) else objective(vocab)).to(device)
    opt = optim.Adam(model.parameters(), lr=lr)
    batch_losses, epoch_losses, start = [], [], time.perf_counter()
    for epoch in range(epochs):
        # fresh subsampling and window sizes every epoch, as in the reference implementation
        tokens, sentence = subsample(train_tokens, train_sentence, keep_prob, rng)
        if model_name == 'skipgram':
            inputs, targets = skipgram_examples(tokens, sentence, window, rng)
        else:
            inputs, targets = cbow_examples(tokens, sentence, window, len(vocab), rng)
        order = rng.permutation(len(targets))
        inputs = autograd.as_tensor(inputs[order]).to(device)
        targets = autograd.as_tensor(targets[order]).to(device)
        n_before = len(batch_losses)
        for first in range(0, len(targets), batch_size):
            x = inputs[first:first + batch_size]
            y = targets[first:first + batch_size]
            neg = (autograd.multinomial(noise_probs, len(y) * negatives, replacement=True)
                   .view(len(y), negatives) if objective == 'negative' else None)
            loss = model(x, y, neg)
            opt.zero_grad()
            loss.backward()
            opt.step()
            batch_losses.append(loss.item())
        epoch_losses.append(float(numpy.mean(batch_losses[n_before:])))
        if log:
            log(f'epoch {epoch + 1}: {len(targets)} examples, loss {epoch_losses[-1]:.4f} '
                f'({time.perf_counter() - start:.0f} s)')
    seconds_per_epoch = (time.perf_counter() - start) / epochs
    losses = [float(numpy.mean(batch_losses[i:i + 200]))  # the curve: means of 200 batches
              for i in range(0, len(batch_losses), 200)]
    if objective == 'negative':
        initial_loss = (negatives + 1) * math.log(2.0)
    elif objective == 'softmax':
        initial_loss = math.log(len(vocab))   # zero output weights: the uniform distribution
    else:
        initial_loss = model.head.initial_loss(autograd.as_tensor(targets).cpu().numpy())

    with autograd.no_grad():
        vectors = model.word_vectors()
        centers, contexts = skipgram_examples(test_tokens, test_sentence, window, rng)
        together, apart, closer = pair_similarity(vectors, centers, contexts, noise_probs,
                                                  seed=seed)
    result = dict(model=model, vocab=vocab, losses=losses, first_loss=batch_losses[0],
                  last_loss=epoch_losses[-1], together=together, apart=apart, closer=closer,
                  initial_loss=initial_loss, seconds_per_epoch=seconds_per_epoch)
    if objective != 'negative':     # a normalised model: its held-out likelihood
        # on held-out text subsampled as the training text was (the distribution it learned),
        # next to the training targets' own frequencies (add-one smoothed) as the baseline
        counts = numpy.bincount(targets.cpu().numpy(), minlength=len(vocab)) + 1.0
        tokens, sentence = subsample(test_tokens, test_sentence, keep_prob, rng)
        if model_name == 'skipgram':
            inputs, targets = skipgram_examples(tokens, sentence, window, rng)
        else:
            inputs, targets = cbow_examples(tokens, sentence, window, len(vocab), rng)
        result['unigram_nll'] = float(-numpy.log(counts[targets] / counts.sum()).mean())
        result['held_out_nll'] = held_out_nll(model, autograd.as_tensor(inputs).to(device),
                                              autograd.as_tensor(targets).to(device))
    return result


def report(result, log=print):
    """Print nearest neighbours and analogies for the probe words the vocabulary has.
    Returns the rank of the expected answer of each analogy (1 = the nearest word)."""
    vectors, vocab = result['model'].word_vectors().detach(), result['vocab']
    ranks = {}
    with autograd.no_grad():
        for word in PROBES:
            if word in vocab:
                near = nearest(vectors, vocab, word, k=6, exclude=(word,))
                log(f'  {word:10s} -> ' + ', '.join(f'{w} ({s:.2f})' for w, s in near))
        for a, b, c, expected in ANALOGIES:
            if all(w in vocab for w in (a, b, c, expected)):
                answers = [w for w, _ in analogy(vectors, vocab, a, b, c, k=len(vocab) - 3)]
                ranks[(a, b, c, expected)] = answers.index(expected) + 1
                log(f'  {a} : {b} :: {c} : {", ".join(answers[:3])}  '
                    f'({expected} is #{ranks[(a, b, c, expected)]} of {len(answers)})')
    return ranks


def plot(result, out, filename):
    fig, ax = _data.figure(figsize=(6, 4))
    ax.plot(result['losses'], label='training loss (mean of 200 batches)')
    untrained = '(K+1) ln 2' if result['objective'] == 'negative' else 'ln V'
    ax.axhline(result['initial_loss'], color='k', ls='--', label=f'{untrained}: untrained')
    ax.set_xlabel('batches / 200')
    ax.set_ylabel(f'{result["objective"]} loss')
    ax.legend()
    _data.savefig(fig, out, filename, dpi=120)


def main(argv=None):
    p = _data.parser('word2vec', __doc__, epochs=5)
    p.add_argument('--model', choices=['skipgram', 'cbow'], default='skipgram')
    p.add_argument('--objective', choices=['negative', 'softmax'], default='negative')
    p.add_argument('--dim', type=int, default=50)
    p.add_argument('--window', type=int, default=5)
    p.add_argument('--batch-size', type=int, default=2048)
    p.add_argument('--lr', type=float, default=0.01)
    p.add_argument('--max-words', type=int, default=None, help='use only the first N words')
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    result = train(args.model, max_words=args.max_words, dim=args.dim, window=args.window,
                   epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                   device=args.device, objective=args.objective)
    result['objective'] = args.objective
    ranks = report(result)
    plot(result, args.out, f'loss_{args.model}_{args.objective}.png')
    if 'held_out_nll' in result:
        print(f'held-out -log P(target | input): {result["held_out_nll"]:.3f} nats '
              f'(unigram frequencies: {result["unigram_nll"]:.3f})')
    print(f'{args.model}: loss {result["first_loss"]:.3f} -> {result["last_loss"]:.3f}; '
          f'held-out co-occurring pairs have cosine {result["together"]:.3f} '
          f'vs {result["apart"]:.3f} for random pairs; the context word is the closer one '
          f'in {100 * result["closer"]:.1f}% of pairs; '
          f'{sum(r <= 5 for r in ranks.values())} of {len(ranks)} analogies in the top 5')
    result['analogy_ranks'] = ranks
    return result


if __name__ == '__main__':
    main()
