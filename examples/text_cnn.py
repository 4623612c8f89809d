"""A text CNN: 1-D convolutions over word embeddings with max-over-time pooling, classifying
which standard-library package a docstring or comment block was written for.

Aggarwal, *Neural Networks and Deep Learning*, sec. 8.6.4 ("Natural Language and Sequence
Learning"): a sentence is a 1-dimensional object whose depth is the dimensionality of the
word representation; the filters are 2-dimensional boxes, a window length sliding along the
sentence times that depth, and the number of filters is the number of feature maps; one-hot
inputs would blow up the first layer's parameters (lexicon size x window x filters), so
word embeddings are used instead ("an order of magnitude reduction in the number of
parameters in the first layer"); the other operations (max-pooling) are as for images.
Here the embeddings are learned with the classifier (no pretrained vectors are on the
machine), the windows are 3, 4 and 5 words, and each feature map is max-pooled over the
whole sentence (max-over-time, Kim 2014), so a sentence of any length gives one vector.

Data (nothing downloads): the prose of four packages of this Python's standard library
(``asyncio``, ``email``, ``tkinter``, ``xml``; see ``_text.py``), one docstring or comment
block per example, up to ``per_class`` of each, words as ``_text`` reads them.  Held-out
accuracy is compared with chance (25%) and with a bag-of-words logistic regression trained
the same way (the CNN has no more information than the words, but sees their order).

Run: ``python examples/text_cnn.py [--epochs 8]``
"""
import os
import re
import sysconfig

import numpy

import _data  # noqa: I001  (before autograd: it makes a source checkout importable)
import _text
import autograd
import nn
import nn.functional as F
import optim

PACKAGES = ('asyncio', 'email', 'tkinter', 'xml')
_WORD = re.compile(r'[a-z]+')


def package_sentences(packages=PACKAGES, per_class=600, min_words=4, max_words=40, seed=0):
    """(sentences, labels): up to ``per_class`` word lists (each ``min_words`` to
    ``max_words`` long, truncated) from the prose of each package, in a seeded random order."""
    root = sysconfig.get_paths()['stdlib']
    rng = numpy.random.default_rng(seed)
    sentences, labels = [], []
    for label, package in enumerate(packages):
        found = []
        for path in _text.stdlib_files(os.path.join(root, package)):
            with open(path, encoding='utf-8', errors='replace') as f:
                for block in _text.prose(f.read()):
                    words = _WORD.findall(block.lower())
                    if len(words) >= min_words:
                        found.append(words[:max_words])
        for i in rng.permutation(len(found))[:per_class]:
            sentences.append(found[i])
            labels.append(label)
    order = rng.permutation(len(sentences))
    return [sentences[i] for i in order], numpy.array(labels, dtype=numpy.int64)[order]


def encode(sentences, vocab, length):
    """Word lists -> (n, length) int64 indices: 0 pads, 1 is an unknown word, words of
    ``vocab`` (a _text.Vocabulary) start at 2."""
    out = numpy.zeros((len(sentences), length), dtype=numpy.int64)
    for row, words in enumerate(sentences):
        ids = [vocab.index[w] + 2 if w in vocab else 1 for w in words[:length]]
        out[row, :len(ids)] = ids
    return out


class TextCNN(nn.Module):
    """tokens (B, L) -> embeddings (B, E, L) -> for each window k: Conv1d(E, maps, k) ->
    ReLU -> max over time -> concatenated (B, maps * len(windows)) -> dropout -> linear."""

    def __init__(self, vocab_size, classes, embed=48, maps=32, windows=(3, 4, 5), dropout=0.5):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed, padding_idx=0)
        self.convs = nn.ModuleList([nn.Conv1d(embed, maps, k) for k in windows])
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(maps * len(windows), classes)

    def features(self, tokens):
        """The max-over-time vector (B, maps * len(windows)) of each sentence."""
        e = self.embedding(tokens).transpose(1, 2)            # (B, E, L): depth x length
        return autograd.cat([F.relu(conv(e)).amax(2) for conv in self.convs], 1)

    def forward(self, tokens):
        return self.out(self.dropout(self.features(tokens)))


class BagOfWords(nn.Module):
    """The order-blind baseline: logistic regression on the mean of the word embeddings."""

    def __init__(self, vocab_size, classes, embed=48):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed, padding_idx=0)
        self.out = nn.Linear(embed, classes)

    def forward(self, tokens):
        mask = (tokens != 0).float().unsqueeze(2)
        mean = (self.embedding(tokens) * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.out(mean)


def first_layer_parameters(vocab_size, embed, maps, windows):
    """The first convolution layer's weights with one-hot inputs (depth = lexicon size) and
    with embeddings (depth ``embed``, plus the embedding table itself): sec. 8.6.4's point."""
    one_hot = sum(vocab_size * k * maps for k in windows)
    embedded = sum(embed * k * maps for k in windows) + vocab_size * embed
    return one_hot, embedded


def train(epochs=8, per_class=600, n_test_per_class=100, length=40, min_count=2, embed=48,
          maps=32, batch_size=32, lr=5e-3, seed=0, device=None, log=print):
    """Train the text CNN and the bag-of-words baseline on the same split; returns a dict
    with the held-out accuracy per epoch of each, the vocabulary size and both models."""
    device = device or autograd.get_default_device()
    sentences, y = package_sentences(per_class=per_class, max_words=length, seed=seed)
    n_test = n_test_per_class * len(PACKAGES)
    train_s, test_s = sentences[n_test:], sentences[:n_test]
    vocab = _text.Vocabulary(train_s, min_count=min_count)
    X_tr, y_tr, X_te, y_te = _data.to_tensors(encode(train_s, vocab, length), y[n_test:],
                                              encode(test_s, vocab, length), y[:n_test],
                                              device=device)
    results = dict(vocab_size=len(vocab) + 2, n_train=len(train_s), n_test=n_test)
    for name, make in (('cnn', lambda v: TextCNN(v, len(PACKAGES), embed, maps)),
                       ('bag_of_words', lambda v: BagOfWords(v, len(PACKAGES), embed))):
        autograd.manual_seed(seed)
        g = autograd.Generator(device=device).manual_seed(seed)
        model = make(len(vocab) + 2).to(device)
        opt = optim.Adam(model.parameters(), lr=lr)
        accuracies = []
        for epoch in range(epochs):
            model.train()
            _data.sgd_epoch(model, opt, F.cross_entropy, X_tr, y_tr, batch_size, generator=g)
            model.eval()
            with autograd.no_grad():
                accuracies.append(_data.accuracy(model(X_te), y_te))
            if log:
                log(f'  {name} epoch {epoch + 1}: held-out accuracy {100 * accuracies[-1]:.1f}%')
        results[name] = accuracies
        results[name + '_model'] = model
    return results


def main(argv=None):
    p = _data.parser('text_cnn', __doc__, epochs=8)
    p.add_argument('--per-class', type=int, default=600)
    args = p.parse_args(argv)
    r = train(args.epochs, per_class=args.per_class, seed=args.seed, device=args.device)
    one_hot, embedded = first_layer_parameters(r['vocab_size'], 48, 32, (3, 4, 5))
    print(f'{r["n_train"]} training / {r["n_test"]} held-out blocks of {", ".join(PACKAGES)}; '
          f'lexicon {r["vocab_size"]} words')
    print(f'first layer with one-hot inputs: {one_hot:,d} weights; with 48-d embeddings: '
          f'{embedded:,d} (embedding table included)')
    print(f'text CNN held-out accuracy {100 * r["cnn"][-1]:.1f}% vs bag of words '
          f'{100 * r["bag_of_words"][-1]:.1f}% (chance 25%)')
    fig, ax = _data.curves(r['cnn'], r['bag_of_words'], 'held-out accuracy',
                           'text CNN', 'bag of words')
    _data.savefig(fig, args.out, 'accuracy.png', legend_fontsize=8)
    return r


if __name__ == '__main__':
    main()
