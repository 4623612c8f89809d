# Written for this project's tests (tests/test_programs.py); not taken from another project.
# A word-level language model: a vocabulary built from text, the token stream cut into
# batch columns, a two-layer LSTM trained by truncated backpropagation through time (the
# state carried between chunks, detached), gradients clipped with clip_grad_norm_, plain SGD
# by hand; then the whole model saved with torch.save and read back with torch.load inside
# torch.serialization.safe_globals.  Text: the harness's offline corpus (offline.text()).
import argparse
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

import offline


class Vocabulary:
    def __init__(self):
        self.index = {}
        self.words = []

    def add(self, word):
        if word not in self.index:
            self.index[word] = len(self.words)
            self.words.append(word)
        return self.index[word]

    def encode(self, text):
        ids = []
        for line in text.splitlines():
            ids.extend(self.add(w) for w in line.split() + ['<eol>'])
        return torch.tensor(ids, dtype=torch.long)


def as_columns(ids, columns):
    rows = ids.numel() // columns
    return ids[:rows * columns].view(columns, rows).t().contiguous()


class LSTMLanguageModel(nn.Module):
    def __init__(self, vocab, width, layers):
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.lstm = nn.LSTM(width, width, num_layers=layers)
        self.out = nn.Linear(width, vocab)

    def forward(self, tokens, state):
        seq, state = self.lstm(self.embed(tokens), state)
        return self.out(seq), state

    def zero_state(self, columns):
        w = self.out.weight
        shape = (self.lstm.num_layers, columns, self.lstm.hidden_size)
        return (w.new_zeros(shape), w.new_zeros(shape))


def mean_loss(model, data, chunk):
    model.eval()
    state, total = model.zero_state(data.shape[1]), 0.0
    with torch.no_grad():
        for start in range(0, data.shape[0] - 1, chunk):
            n = min(chunk, data.shape[0] - 1 - start)
            logits, state = model(data[start:start + n], state)
            total += n * F.cross_entropy(logits.flatten(0, 1),
                                         data[start + 1:start + 1 + n].flatten()).item()
    return total / (data.shape[0] - 1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--chars', type=int, default=2600)
    parser.add_argument('--columns', type=int, default=6)
    parser.add_argument('--chunk', type=int, default=12)
    parser.add_argument('--width', type=int, default=16)
    parser.add_argument('--lr', type=float, default=5.0)
    parser.add_argument('--clip', type=float, default=0.5)
    parser.add_argument('--save', default='lm.pt')
    args = parser.parse_args()

    torch.manual_seed(11)
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    text = offline.text(args.chars)
    cut = int(len(text) * 0.8)
    vocab = Vocabulary()
    train = as_columns(vocab.encode(text[:cut]), args.columns).to(device)
    valid = as_columns(vocab.encode(text[cut:]), 2).to(device)
    print(f'{len(vocab.words)} words; train {tuple(train.shape)}, valid {tuple(valid.shape)}')

    print(f'device: {device}')
    model = LSTMLanguageModel(len(vocab.words), args.width, 2).to(device)
    model.train()
    state = model.zero_state(args.columns)
    for start in range(0, train.shape[0] - 1, args.chunk):
        n = min(args.chunk, train.shape[0] - 1 - start)
        state = tuple(s.detach() for s in state)
        model.zero_grad()
        logits, state = model(train[start:start + n], state)
        loss = F.cross_entropy(logits.reshape(-1, len(vocab.words)),
                               train[start + 1:start + 1 + n].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        with torch.no_grad():
            for p in model.parameters():
                p.add_(p.grad, alpha=-args.lr)
        print(f'chunk at {start}: loss {loss.item():.3f}')
    before = mean_loss(model, valid, args.chunk)

    torch.save(model, args.save)
    allowed = [LSTMLanguageModel, nn.Embedding, nn.LSTM, nn.Linear]
    with torch.serialization.safe_globals(allowed):
        again = torch.load(args.save)
    after = mean_loss(again, valid, args.chunk)
    print(f'valid loss {before:.4f}, after reload {after:.4f}, ppl {math.exp(after):.1f}')
    assert abs(before - after) < 1e-9


if __name__ == '__main__':
    main()
