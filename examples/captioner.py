"""A CNN + RNN image captioner on a synthetic image-description task: the convolutional
network's image vector v enters the recurrent network (a tanh RNN, or an LSTM) at the first
time-stamp only; the two networks are trained jointly; captions are decoded greedily and by
beam search.

Aggarwal, *Neural Networks and Deep Learning*, sec. 7.7.1 (Fig. 7.9): a CNN produces the
q-dimensional representation v of the image, a p x q matrix W_ih maps it into the hidden
layer "but only at the first time-stamp":

    h_1 = tanh(W_xh x_1 + W_ih v),   h_t = tanh(W_xh x_t + W_hh h_{t-1}) for t >= 2,
    y_t = W_hy h_t,

(footnote 7: feeding v at every step "only seems to worsen performance"); "the convolutional
neural network and the recurrent neural network are not trained in isolation ... the final
weights are always trained jointly"; at test time the first input is <START> with the image,
and each later input is "the most likely token predicted at the previous time-stamp"
(greedy decoding), or "one can also use beam search to keep track of the b most likely
sequence prefixes to expand on at each point" (as in sec. 7.2.1.1, but over the decoder's
state conditioned on the image: ``Captioner.beam_search``; b = 1 is greedy decoding).
The book writes the equations for a single-layer tanh RNN "for ease in explanation" and
says that "in most cases, a multi-layer LSTM is used" instead: ``--cell lstm`` swaps in
``nn.LSTM`` (sec. 7.5) with the same inputs; the default is the book's equations.  Here the
RNN's input at step t is [x_t; v] at t = 1 and [x_t; 0] after, so one ``nn.RNN`` with input
weights [W_xh W_ih] computes exactly the equations above (its biases included; h_0 = 0).  Two choices that are ours, not the book's: v is batch-normalised
(at initialisation the CNN gives nearly the same vector for every image) and W_hh starts
orthogonal (PyTorch's default uniform init shrinks the first step's signal by about half per
step); with neither, training sits for hundreds of steps on the image-blind plateau, a loss of
(3 ln 2 + 2 ln 3) / 9 = 0.475 nats per token, the entropy of the caption's free words.

The task: 16 x 16 RGB images holding one shape (square, disk, triangle) of one colour (red,
green, blue) and size (small, large), jittered inside one quadrant, on a noisy background;
the caption is "a <size> <colour> <shape> at the <top|bottom> <left|right>" then <END>.
Reported: exact-match caption accuracy and per-word accuracy of greedy decoding on fresh
images; for beam search, its exact-match accuracy and log P(caption | image) of the captions
it finds against greedy's (computed by teacher forcing, ``caption_logprob``).

Run: ``python examples/captioner.py [--epochs 5] [--cell lstm] [--beam 3]``
"""
import numpy

import _data  # noqa: I001  (before autograd: it makes a source checkout importable)
import autograd
import nn
import nn.functional as F
import optim

SIZE = 16
COLOURS = {'red': (1.0, 0.1, 0.1), 'green': (0.1, 0.9, 0.1), 'blue': (0.15, 0.25, 1.0)}
SHAPES = ('square', 'disk', 'triangle')
SIZES = {'small': 4, 'large': 7}
VOCAB = ['<PAD>', '<START>', '<END>', 'a', 'at', 'the', 'top', 'bottom', 'left', 'right',
         *SIZES, *COLOURS, *SHAPES]
INDEX = {w: i for i, w in enumerate(VOCAB)}
CAPTION_LENGTH = 9                 # 8 words + <END>


def draw(shape, colour, size, row, col, rng, noise=0.1):
    """One (3, SIZE, SIZE) float32 image: the shape's s x s footprint at (row, col)."""
    s = SIZES[size]
    yy, xx = numpy.mgrid[0:s, 0:s] + 0.5
    if shape == 'square':
        mask = numpy.ones((s, s), bool)
    elif shape == 'disk':
        mask = (yy - s / 2) ** 2 + (xx - s / 2) ** 2 <= (s / 2) ** 2
    else:                                          # triangle pointing up
        mask = numpy.abs(xx - s / 2) <= yy / 2 + 0.25
    image = rng.uniform(0, noise, size=(3, SIZE, SIZE))
    patch = image[:, row:row + s, col:col + s]
    patch[:, mask] = numpy.array(COLOURS[colour])[:, None]
    return image.astype(numpy.float32)


def make_data(n, seed=0):
    """n images (n, 3, SIZE, SIZE), their captions as token lists, and as indices
    (n, CAPTION_LENGTH) ending in <END>."""
    rng = numpy.random.default_rng(seed)
    images, captions = [], []
    half = SIZE // 2
    for _ in range(n):
        shape, colour = SHAPES[rng.integers(3)], list(COLOURS)[rng.integers(3)]
        size = list(SIZES)[rng.integers(2)]
        top, left = bool(rng.integers(2)), bool(rng.integers(2))
        s = SIZES[size]
        row = rng.integers(0, half - s + 1) + (0 if top else half)
        col = rng.integers(0, half - s + 1) + (0 if left else half)
        images.append(draw(shape, colour, size, row, col, rng))
        captions.append(['a', size, colour, shape, 'at', 'the', 'top' if top else 'bottom',
                         'left' if left else 'right'])
    tokens = numpy.array([[INDEX[w] for w in c] + [INDEX['<END>']] for c in captions])
    return numpy.stack(images), captions, tokens


CELLS = {'rnn': nn.RNN, 'lstm': nn.LSTM}


class Captioner(nn.Module):
    """CNN: conv 3x3 16 -> ReLU -> pool 2 -> conv 3x3 32 -> ReLU -> pool 2 -> linear ->
    batch norm -> v (q);
    decoder: ``cell`` 'rnn' (tanh, the equations of sec. 7.7.1) or 'lstm' (sec. 7.5, which
    the book says is used "in most cases"), input [embedding(x_t); v at t = 1, else 0],
    p hidden units; linear W_hy."""

    def __init__(self, q=64, p=128, embed=32, vocab=len(VOCAB), cell='rnn', attention=False,
                 att=64):
        super().__init__()
        self.attention = attention
        features = [nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        if attention:
            # the last feature map, batch-normalised, is kept: L = (SIZE/4)^2 annotation
            # vectors a_l of D = 32 numbers, one per position
            self.cnn = nn.Sequential(*features, nn.BatchNorm2d(32))
            q = 32
            self.att_a = nn.Linear(q, att)                         # W_a a_l (+ b)
            self.att_h = nn.Linear(p, att, bias=False)             # U_a h_{t-1}
            self.att_v = nn.Linear(att, 1, bias=False)             # w^T tanh(.)
        else:
            self.cnn = nn.Sequential(
                *features, nn.Flatten(), nn.Linear(32 * (SIZE // 4) ** 2, q), nn.BatchNorm1d(q))
        self.embedding = nn.Embedding(vocab, embed)
        self.cell = cell
        self.rnn = CELLS[cell](embed + q, p, batch_first=True)
        if cell == 'rnn':
            nn.init.orthogonal_(self.rnn.weight_hh_l0)
        self.out = nn.Linear(p, vocab)                             # W_hy

    def annotations(self, images):
        """The image as the decoder sees it: v (B, q) without attention; with attention the L
        annotation vectors (B, L, D) of the last convolutional feature map (B, D, H', W')."""
        f = self.cnn(images)
        return f.flatten(2).transpose(1, 2) if self.attention else f

    def attend(self, a, state):
        """Soft attention (sec. 10.2.1.1, additive scores as in Show, Attend and Tell):
        alpha_t = softmax_l(w^T tanh(W_a a_l + U_a h_{t-1})) over the L positions, from the
        decoder's previous hidden state (h_0 = 0), and the context z_t = sum_l alpha_tl a_l.
        a (B or 1, L, D), state None / h / (h, c) -> z (B, D), alpha (B, L)."""
        h = state[0] if isinstance(state, tuple) else state
        e = self.att_a(a)                                          # (B|1, L, att)
        if h is not None:
            e = e + self.att_h(h[-1]).unsqueeze(1)
        alpha = self.att_v(e.tanh()).squeeze(2).softmax(-1)      # (B, L)
        if alpha.shape[0] != a.shape[0]:
            a = a.expand(alpha.shape[0], -1, -1)
        return (alpha.unsqueeze(1) @ a).squeeze(1), alpha

    def _attend_step(self, token, a, state):
        """One attention decoder step: logits (B, vocab), the new state, alpha (B, L)."""
        z, alpha = self.attend(a, state)
        x = self.embedding(token)                                  # (B, 1, embed)
        if z.shape[0] != x.shape[0]:
            z = z.expand(x.shape[0], -1)
        y, state = self.rnn(autograd.cat([x, z.unsqueeze(1)], 2), state)
        return self.out(y[:, 0]), state, alpha

    def attention_forward(self, images, tokens):
        """Teacher forcing with attention: logits (B, T, vocab) and the attention maps
        (B, T, H', W') over the last feature map (alpha[:, t] sums to 1; it is computed from
        h_{t-1} and weighs the image for predicting the token after tokens[:, t])."""
        f = self.cnn(images)
        a = f.flatten(2).transpose(1, 2)
        state, logits, alphas = None, [], []
        for t in range(tokens.shape[1]):
            y, state, alpha = self._attend_step(tokens[:, t:t + 1], a, state)
            logits.append(y.unsqueeze(1))
            alphas.append(alpha.unsqueeze(1))
        return (autograd.cat(logits, 1),
                autograd.cat(alphas, 1).reshape(f.shape[0], tokens.shape[1], *f.shape[2:]))

    def rnn_inputs(self, v, tokens):
        """[x_t; v] at the first step, [x_t; 0] later: (B, T, embed + q)."""
        x = self.embedding(tokens)
        image = autograd.cat([v.unsqueeze(1), autograd.zeros_like(v).unsqueeze(1).expand(
            -1, tokens.shape[1] - 1, -1)], 1)
        return autograd.cat([x, image], 2)

    def forward(self, images, tokens):
        """Teacher forcing: images (B, 3, H, W), inputs tokens (B, T) starting with <START>
        -> logits (B, T, vocab) for the next token at each step."""
        if self.attention:
            return self.attention_forward(images, tokens)[0]
        h, _ = self.rnn(self.rnn_inputs(self.cnn(images), tokens))
        return self.out(h)

    def step(self, token, v, state):
        """One decoder step: tokens (B, 1), the image vector v (B, q) at the first step or
        None after it, the decoder state (None at the first step; h, or (h, c) for the LSTM)
        -> log-probabilities of the next token (B, vocab) and the new state.  With attention
        v is the annotations (B or 1, L, D), given at every step."""
        if self.attention:
            y, state, _ = self._attend_step(token, v, state)
            return y.log_softmax(-1), state
        x = self.embedding(token)
        image = v.unsqueeze(1) if state is None else x.new_zeros(
            (x.shape[0], 1, self.rnn.input_size - x.shape[2]))
        y, state = self.rnn(autograd.cat([x, image], 2), state)
        return self.out(y[:, 0]).log_softmax(-1), state

    @autograd.no_grad()
    def greedy(self, images, max_len=CAPTION_LENGTH):
        """Greedy decoding: (B, max_len) token indices (everything after an <END> is <END>)."""
        v = self.annotations(images)
        token = autograd.full((images.shape[0], 1), INDEX['<START>'], dtype=autograd.int64,
                              device=images.device)
        state, out = None, []
        for _ in range(max_len):
            logp, state = self.step(token, v, state)
            token = logp.argmax(1, keepdim=True)                   # (B, 1)
            out.append(token)
        out = autograd.cat(out, 1)
        ended = (out == INDEX['<END>']).long().cumsum(1) > 0
        return out.masked_fill(ended, INDEX['<END>'])

    @autograd.no_grad()
    def beam_search(self, image, beam=3, max_len=CAPTION_LENGTH):
        """Beam search for one image (1, 3, H, W) (sec. 7.7.1: "keep track of the b most
        likely sequence prefixes to expand on at each point"): the decoder states of the
        open prefixes run as one batch; a prefix that emits <END> is finished.  Returns the
        most likely caption as token indices (ending in <END> unless ``max_len`` tokens came
        without one) and its log-probability log P(caption | image)."""
        v = self.annotations(image)     # with attention: (1, L, D), shared by the beams
        token = autograd.full((1, 1), INDEX['<START>'], dtype=autograd.int64,
                              device=image.device)
        prefixes, totals, state, finished = [[]], numpy.zeros(1), None, []
        for _ in range(max_len):
            logp, state = self.step(token, v, state)
            cand = (totals[:, None] + logp.cpu().numpy().astype(numpy.float64)).ravel()
            order = numpy.argsort(-cand, kind='stable')[:beam]
            rows, toks = order // len(VOCAB), order % len(VOCAB)
            keep = toks != INDEX['<END>']
            finished += [(cand[o], prefixes[r] + [INDEX['<END>']])
                         for o, r, k in zip(order, rows, keep) if not k]
            if not keep.any():
                break
            rows, toks, totals = rows[keep], toks[keep], cand[order[keep]]
            prefixes = [prefixes[r] + [int(t)] for r, t in zip(rows, toks)]
            best_finished = max((f[0] for f in finished), default=-numpy.inf)
            if totals.max() < best_finished:      # log-probabilities only fall from here
                break
            rows_t = autograd.tensor(rows.tolist(), device=image.device)
            state = (tuple(s[:, rows_t] for s in state) if isinstance(state, tuple)
                     else state[:, rows_t])
            token = autograd.tensor(toks.tolist(), device=image.device).unsqueeze(1)
        if finished:
            total, tokens = max(finished, key=lambda f: f[0])
        else:
            total, tokens = totals[0], prefixes[0]
        return tokens, float(total)


def caption_logprob(model, images, tokens):
    """log P(caption | image) by teacher forcing, for images (B, 3, H, W) and captions
    (B, T) of token indices: the sum over the tokens up to and including the first <END>
    (all T tokens if there is none).  A tensor (B,)."""
    tokens = autograd.as_tensor(tokens, device=images.device)
    with autograd.no_grad():
        inputs = autograd.as_tensor(teacher_inputs(tokens.cpu().numpy()), device=images.device)
        logp = model(images, inputs).double().log_softmax(-1)
        picked = logp.gather(2, tokens.unsqueeze(2)).squeeze(2)             # (B, T)
        is_end = (tokens == INDEX['<END>']).long()
        counted = (is_end.cumsum(1) - is_end) == 0          # up to the first <END>
        return (picked * counted).sum(1)


def teacher_inputs(tokens):
    """Targets (B, T) -> inputs (B, T): <START> followed by the targets shifted right."""
    start = numpy.full((len(tokens), 1), INDEX['<START>'])
    return numpy.concatenate([start, tokens[:, :-1]], 1)


def words(row):
    """Token indices -> the caption's words up to <END>."""
    out = []
    for i in row:
        if VOCAB[i] == '<END>':
            break
        out.append(VOCAB[i])
    return out


def evaluate(model, images, tokens):
    """(exact-match caption accuracy, per-token accuracy) of greedy decoding."""
    predicted = model.greedy(images)
    same = predicted == tokens
    return same.all(1).float().mean().item(), same.float().mean().item()


def train(epochs=5, n_train=3000, n_test=500, batch_size=32, lr=3e-3, seed=0, device=None,
          log=print, cell='rnn', attention=False):
    """Joint training of CNN and RNN by teacher forcing (cross-entropy at every step);
    returns the model, per-epoch (exact, per-token, mean training loss per token) and the
    test set."""
    device = device or autograd.get_default_device()
    X_tr, _, t_tr = make_data(n_train, seed)
    X_te, captions_te, t_te = make_data(n_test, seed + 1000)
    X_tr, in_tr, t_tr, X_te, t_te = _data.to_tensors(
        X_tr, teacher_inputs(t_tr), t_tr, X_te, t_te, device=device)
    autograd.manual_seed(seed)
    g = autograd.Generator(device=device).manual_seed(seed)
    model = Captioner(cell=cell, attention=attention).to(device)
    opt = optim.Adam(model.parameters(), lr=lr)
    history = []
    for epoch in range(epochs):
        model.train()
        order = autograd.randperm(n_train, generator=g, device=device)
        total = 0.0
        for start in range(0, n_train, batch_size):
            idx = order[start:start + batch_size]
            logits = model(X_tr[idx], in_tr[idx])
            loss = F.cross_entropy(logits.reshape(-1, len(VOCAB)), t_tr[idx].reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        model.eval()
        history.append((*evaluate(model, X_te, t_te), total / n_train))
        if log:
            log(f'  epoch {epoch + 1}: loss {total / n_train:.3f}, held-out exact captions '
                f'{100 * history[-1][0]:.1f}%, words {100 * history[-1][1]:.1f}%')
    return model, history, (X_te, captions_te, t_te)


def compare_decoders(model, images, tokens, beam=3):
    """Greedy vs beam search on every image: exact-match accuracy of each, and the
    log-probabilities log P(caption | image) of the captions each found (both measured by
    ``caption_logprob``), as arrays."""
    model.eval()
    greedy = model.greedy(images)
    found = [model.beam_search(images[i:i + 1], beam)[0] for i in range(images.shape[0])]
    padded = autograd.tensor([f + [INDEX['<END>']] * (CAPTION_LENGTH - len(f)) for f in found],
                             device=images.device)
    target = autograd.as_tensor(tokens, device=images.device)
    return dict(greedy_exact=(greedy == target).all(1).float().mean().item(),
                beam_exact=(padded == target).all(1).float().mean().item(),
                greedy_logp=caption_logprob(model, images, greedy).cpu().numpy(),
                beam_logp=caption_logprob(model, images, padded).cpu().numpy())


def plot(model, images, out, n=8):
    captions = [' '.join(words(r)) for r in model.greedy(images[:n]).cpu().tolist()]
    fig, axes = _data.figure(2, n // 2, figsize=(2.6 * n // 2, 5.6))
    for ax, image, caption in zip(axes.ravel(), images[:n].cpu().numpy(), captions):
        ax.imshow(image.transpose(1, 2, 0).clip(0, 1), interpolation='nearest')
        ax.set_title(caption.replace(' at the', '\nat the'), fontsize=8)
        ax.axis('off')
    return _data.savefig(fig, out, 'captions.png')


def object_boxes(images, captions):
    """The object's bounding box (r0, r1, c0, c1), inclusive, in each image: the pixels of the
    caption's colour exactly (the noise never reaches it)."""
    boxes = []
    for image, words_ in zip(images, captions):
        colour = numpy.array(COLOURS[words_[2]])
        hits = numpy.argwhere(numpy.all(numpy.abs(image - colour[:, None, None]) < 1e-6, 0))
        (r0, c0), (r1, c1) = hits.min(0), hits.max(0)
        boxes.append((r0, r1, c0, c1))
    return boxes


def upsample(alpha):
    """Attention maps (..., H', W') over the feature map -> (..., SIZE, SIZE) over the image's
    pixels, each position's weight spread evenly over the pixels it covers (sums kept)."""
    k = SIZE // alpha.shape[-1]
    return numpy.kron(alpha, numpy.ones((k, k))) / k ** 2


@autograd.no_grad()
def attention_maps(model, images, tokens):
    """Teacher-forced attention maps (B, T, H', W') as a NumPy array: map t is the one the
    decoder uses to predict tokens[:, t]."""
    inputs = autograd.as_tensor(teacher_inputs(numpy.asarray(tokens)), device=images.device)
    return model.attention_forward(images, inputs)[1].cpu().numpy().astype(numpy.float64)


CONTENT = {1: 'size', 2: 'colour', 3: 'shape', 6: 'top/bottom', 7: 'left/right'}


def attention_on_object(model, images, captions, tokens):
    """For the caption's content words (size, colour, shape, position): the mean attention
    mass inside the object's bounding box (maps upsampled over the pixels), and the box's
    mean share of the image's area (what uniform attention would put there)."""
    maps = upsample(attention_maps(model, images, tokens))          # (B, T, SIZE, SIZE)
    boxes = object_boxes(images.cpu().numpy(), captions)
    mass = numpy.array([[maps[i, t, r0:r1 + 1, c0:c1 + 1].sum() for t in range(maps.shape[1])]
                        for i, (r0, r1, c0, c1) in enumerate(boxes)])
    share = numpy.array([(r1 - r0 + 1) * (c1 - c0 + 1) / SIZE ** 2 for r0, r1, c0, c1 in boxes])
    return dict(mass={name: float(mass[:, t].mean()) for t, name in CONTENT.items()},
                content_mass=float(mass[:, list(CONTENT)].mean()), share=float(share.mean()))


def plot_attention(model, images, out, n=4):
    """A grid: one row per test image, the image then one panel per greedily decoded word
    with its attention map upsampled over the image."""
    greedy = model.greedy(images[:n]).cpu().numpy()
    maps = upsample(attention_maps(model, images[:n], greedy))
    fig, axes = _data.figure(n, CAPTION_LENGTH + 1, figsize=(1.5 * (CAPTION_LENGTH + 1), 1.6 * n))
    for i in range(n):
        image = images[i].cpu().numpy().transpose(1, 2, 0).clip(0, 1)
        axes[i, 0].imshow(image, interpolation='nearest')
        axes[i, 0].set_title('image', fontsize=8)
        for t in range(CAPTION_LENGTH):
            ax = axes[i, t + 1]
            ax.imshow(image, interpolation='nearest')
            ax.imshow(maps[i, t], cmap='gray', alpha=0.7, interpolation='bilinear')
            ax.set_title(VOCAB[greedy[i, t]], fontsize=8)
        for ax in axes[i]:
            ax.axis('off')
    return _data.savefig(fig, out, 'attention.png')


def main(argv=None):
    p = _data.parser('captioner', __doc__, epochs=5)
    p.add_argument('--n-train', type=int, default=3000)
    p.add_argument('--n-test', type=int, default=500)
    p.add_argument('--cell', choices=sorted(CELLS), default='rnn',
                   help="the decoder: 'rnn' (the equations of sec. 7.7.1, default) or 'lstm'")
    p.add_argument('--beam', type=int, default=3, help='beam width b for beam search')
    p.add_argument('--attention', action='store_true',
                   help='soft attention over the last feature map (sec. 10.2.1.1); the captioner '
                   'without attention is trained on the same data for comparison')
    args = p.parse_args(argv)
    result = {}
    if args.attention:
        print('without attention:')
        _, base, _ = train(args.epochs, args.n_train, args.n_test, seed=args.seed,
                           device=args.device, cell=args.cell)
        result.update(baseline_exact=base[-1][0], baseline_per_word=base[-1][1])
        print('with soft attention:')
    model, history, (X_te, captions, t_te) = train(args.epochs, args.n_train, args.n_test,
                                                   seed=args.seed, device=args.device,
                                                   cell=args.cell, attention=args.attention)
    exact, per_word, _ = history[-1]
    if args.attention:
        print(f'without attention: {100 * result["baseline_exact"]:.1f}% exactly right, '
              f'{100 * result["baseline_per_word"]:.1f}% of the words')
        m = attention_on_object(model, X_te, captions, t_te.cpu().numpy())
        print(f'attention mass inside the object\'s box (mean area share '
              f'{100 * m["share"]:.1f}%): ' + ', '.join(
                  f'{w} {100 * v:.1f}%' for w, v in m['mass'].items()))
        plot_attention(model, X_te, args.out)
        result.update(attention_mass=m['mass'], content_mass=m['content_mass'],
                      area_share=m['share'])
    print(f'{args.cell} decoder{" with attention" if args.attention else ""}, greedy captions of {len(captions)} fresh images: '
          f'{100 * exact:.1f}% exactly right, {100 * per_word:.1f}% of the words')
    d = compare_decoders(model, X_te, t_te, args.beam)
    better = d['beam_logp'] >= d['greedy_logp'] - 1e-6
    print(f'beam search (b = {args.beam}): {100 * d["beam_exact"]:.1f}% exactly right; '
          f'mean log P(caption | image) {d["beam_logp"].mean():.4f} vs greedy '
          f'{d["greedy_logp"].mean():.4f}; at least as likely as greedy on '
          f'{better.sum()}/{len(better)} images, strictly more likely on '
          f'{(d["beam_logp"] > d["greedy_logp"] + 1e-6).sum()}')
    plot(model, X_te, args.out)
    return dict(result, history=history, exact=exact, per_word=per_word, cell=args.cell,
                attention=args.attention,
                beam=args.beam, beam_exact=d['beam_exact'],
                greedy_logp=float(d['greedy_logp'].mean()),
                beam_logp=float(d['beam_logp'].mean()),
                beam_at_least_greedy=float(better.mean()))


if __name__ == '__main__':
    main()
