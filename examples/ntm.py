"""Neural Turing machine: content and location addressing, erase/add writes, the copy task.

Aggarwal, *Neural Networks and Deep Learning*, sec. 10.3.2.  An N x m memory M is read and
written through soft weightings w_t(i) that sum to 1 over the N cells: a read is
r_t = sum_i w_t(i) M_t(i) (eq. 10.9); a write first erases, M_t(i) = M_{t-1}(i) * (1 - w_t(i) e_t)
(eq. 10.11), then adds, M_t(i) += w_t(i) a_t (eq. 10.12).  Each head's weighting follows the
book's pipeline

    Content Weights(v_t, beta_t) => Interpolation(g_t) => Shift(s_t) => Sharpen(gamma_t)

content weights softmax_i(beta_t cosine(v_t, M_t(i))) (eq. 10.14); interpolation
g_t w^c + (1 - g_t) w_{t-1} (eq. 10.15); a circular shift w^s(i) = sum_j w^g(j) s_t[i - j] by a
distribution over the shifts -1, 0, +1 (eq. 10.16; the book's example is s[-1] = 0.2,
s[0] = 0.5, s[1] = 0.3); sharpening w(i) = w^s(i)^gamma / sum_j w^s(j)^gamma, gamma >= 1
(eq. 10.17).

The controller is a feed-forward network (the book notes that the memory itself can carry the
state, so a recurrent controller is not essential) or, with ``--controller lstm``, an LSTM
cell of 100 units (the book's "natural choice" and Graves et al.'s: its state acts as
registers beside the external memory), with one read head and one write head.  It
is trained on the copy task of [158]: a random binary sequence of 1 to 5 vectors, a delimiter,
then the sequence is to be written back out.  Tested on sequences of 8 to 10 vectors, longer
than any it saw, it keeps copying: it has learned the programmer's algorithm (write a cell,
shift by one; return to the start, read a cell, shift by one) rather than the lengths.
With seed 0 (1000 mini-batches of 16, about a minute of CPU) the write head steps through
the cells by the shift -1 (15, 14, 13, ...), the read head waits at cell 0 and at the
delimiter takes the same shift onto the first written cell and follows, and lengths 8 and 10
are copied without a wrong bit (``runs/ntm/copy.png`` shows both weightings).

The LSTM controller (seed 0, ``--controller lstm --batch 32 --epochs 1200 --lr-final 1e-3``:
1200 mini-batches of 32, the learning rate falling linearly from 1e-2 to 1e-3) copies the
trained lengths 1, 3 and 5 without a wrong bit and goes on to longer ones: length 8 with 0.28
wrong bits of 48 (88% of the sequences perfect), 10 with 0.54 of 60 (78%), 12 with 2.06 of
72 (48%), 14 with 4.38 of 84 (24%).  With 16 sequences a batch and a constant rate (1500
batches) it learned the trained lengths in its own state instead (length 3: 0.01 wrong bits;
5: 2.12; 8: 12.5 of 48, none perfect): the text's warning that an LSTM entangles computation
and memory and generalises poorly to longer sequences, where the NTM's memory does not.

Run: python examples/ntm.py [--epochs 1000] [--controller feedforward|lstm] [--batch 16]
     [--lr-final LR] [--out runs/ntm]
(``--epochs`` is the number of training mini-batches.)
"""
import numpy

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn
import nn.functional as F
import optim

SHIFTS = (-1, 0, 1)


# ---------------------------------------------------------------- addressing (eqs. 10.13-10.17)
def content_weights(memory, key, beta):
    """w^c (B, N) = softmax_i(beta cosine(key, M(i))) for memory (B, N, m), key (B, m),
    beta (B, 1) (eq. 10.14)."""
    cos = F.cosine_similarity(memory, key.unsqueeze(1).expand_as(memory), dim=2, eps=1e-8)
    return (beta * cos).softmax(dim=1)


def interpolate(w_content, w_prev, g):
    """w^g = g w^c + (1 - g) w_{t-1} (eq. 10.15)."""
    return g * w_content + (1 - g) * w_prev


def shift(w, s):
    """The circular shift of eq. 10.16: w^s(i) = sum_j w(j) s[i - j], ``s`` (B, 3) a
    distribution over the shifts -1, 0, +1 (column k is shift SHIFTS[k])."""
    return sum(s[:, k:k + 1] * autograd.roll(w, d, dims=1) for k, d in enumerate(SHIFTS))


def sharpen(w, gamma):
    """w(i) = w(i)^gamma / sum_j w(j)^gamma (eq. 10.17)."""
    p = w.clamp(min=1e-12) ** gamma
    return p / p.sum(dim=1, keepdim=True)


def address(memory, w_prev, key, beta, g, s, gamma):
    """The whole pipeline: content weights => interpolation => shift => sharpen."""
    return sharpen(shift(interpolate(content_weights(memory, key, beta), w_prev, g), s), gamma)


def write(memory, w, erase, add):
    """Erase, then add (eqs. 10.11-10.12): memory (B, N, m), w (B, N), erase/add (B, m)."""
    w = w.unsqueeze(2)
    memory = memory * (1 - w * erase.unsqueeze(1))
    return memory + w * add.unsqueeze(1)


def read(memory, w):
    """r = sum_i w(i) M(i) (eq. 10.9)."""
    return (w.unsqueeze(2) * memory).sum(dim=1)


# ---------------------------------------------------------------- the machine
class NTM(nn.Module):
    """A controller with one read and one write head over an N x m memory.  ``controller``:
    ``'feedforward'`` (one ReLU layer: the memory carries all the state) or ``'lstm'`` (an
    LSTM cell, Graves et al.'s choice: its own state besides the memory's)."""

    def __init__(self, bits=6, N=16, m=8, hidden=100, controller='feedforward'):
        super().__init__()
        if controller not in ('feedforward', 'lstm'):
            raise ValueError(f"controller must be 'feedforward' or 'lstm', got {controller!r}")
        self.bits, self.N, self.m, self.kind = bits, N, m, controller
        inputs = bits + 1                                    # the bits and a delimiter channel
        if controller == 'lstm':
            self.controller = nn.LSTMCell(inputs + m, hidden)
        else:
            self.controller = nn.Sequential(nn.Linear(inputs + m, hidden), nn.ReLU())
        self.read_head = nn.Linear(hidden, m + 6)            # key, beta, g, s (3), gamma
        self.write_head = nn.Linear(hidden, 3 * m + 6)       # ... and erase, add
        self.out = nn.Linear(hidden + m, bits)

    @staticmethod
    def _head_params(p, m):
        key = p[:, :m]
        beta = F.softplus(p[:, m:m + 1])
        g = p[:, m + 1:m + 2].sigmoid()
        s = p[:, m + 2:m + 5].softmax(dim=1)
        gamma = 1 + F.softplus(p[:, m + 5:m + 6])
        return key, beta, g, s, gamma

    def forward(self, x, trace=False):
        """x (B, T, bits + 1) -> output logits (B, T, bits); with ``trace`` also the read and
        write weightings (B, T, N) of every step."""
        B, T, _ = x.shape
        dev, dt = x.device, x.dtype
        memory = autograd.full((B, self.N, self.m), 1e-6, device=dev, dtype=dt)
        start = autograd.zeros(B, self.N, device=dev, dtype=dt)
        start[:, 0] = 1.0                                    # both heads start at cell 0
        w_read, w_write = start, start.clone()
        r = autograd.zeros(B, self.m, device=dev, dtype=dt)
        state = None                                         # the LSTM's (h, c): zeros
        outs, reads, writes = [], [], []
        for t in range(T):
            inp = autograd.cat([x[:, t], r], dim=1)
            if self.kind == 'lstm':
                state = self.controller(inp, state)
                h = state[0]
            else:
                h = self.controller(inp)
            wp = self.write_head(h)
            w_write = address(memory, w_write, *self._head_params(wp[:, :self.m + 6], self.m))
            erase = wp[:, self.m + 6:2 * self.m + 6].sigmoid()
            add = wp[:, 2 * self.m + 6:].tanh()
            memory = write(memory, w_write, erase, add)
            w_read = address(memory, w_read, *self._head_params(self.read_head(h), self.m))
            r = read(memory, w_read)
            outs.append(self.out(autograd.cat([h, r], dim=1)))
            reads.append(w_read)
            writes.append(w_write)
        y = autograd.stack(outs, dim=1)
        if trace:
            return y, autograd.stack(reads, dim=1), autograd.stack(writes, dim=1)
        return y


# ---------------------------------------------------------------- the copy task
def copy_batch(batch, length, bits, rng):
    """(inputs (B, 2L + 1, bits + 1), targets (B, L, bits)): L random binary vectors, the
    delimiter (its own channel), then L blank steps during which the copy is due."""
    seq = rng.integers(0, 2, (batch, length, bits)).astype(numpy.float32)
    x = numpy.zeros((batch, 2 * length + 1, bits + 1), numpy.float32)
    x[:, :length, :bits] = seq
    x[:, length, bits] = 1.0
    return x, seq


def train(steps=1000, batch=16, lengths=(1, 5), bits=6, lr=1e-2, seed=0, device=None,
          controller='feedforward', hidden=100, lr_final=None, log=print):
    """Adam on the copy task's binary cross-entropy over the output phase; with
    ``lr_final`` the learning rate falls linearly from ``lr`` to it.  Returns
    (model, losses)."""
    autograd.manual_seed(seed)
    rng = numpy.random.default_rng(seed)
    model = NTM(bits=bits, hidden=hidden, controller=controller).to(device)
    opt = optim.Adam(model.parameters(), lr=lr)
    sched = None if lr_final is None else optim.lr_scheduler.LinearLR(
        opt, 1.0, lr_final / lr, total_iters=steps)
    losses = []
    for step in range(steps):
        L = int(rng.integers(lengths[0], lengths[1] + 1))
        x, y = _data.to_tensors(*copy_batch(batch, L, bits, rng), device=device)
        logits = model(x)[:, L + 1:]
        loss = F.binary_cross_entropy_with_logits(logits, y)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
        if sched is not None:
            sched.step()
        losses.append(loss.item())
        if log and (step + 1) % 100 == 0:
            log(f'step {step + 1}: loss {numpy.mean(losses[-100:]):.4f}')
    return model, losses


def bit_errors(model, length, n=100, seed=99, device=None):
    """Mean wrong bits per copied sequence of ``length`` vectors (thresholded outputs), over
    ``n`` fresh sequences, and the fraction of sequences copied perfectly."""
    x, y = copy_batch(n, length, model.bits, numpy.random.default_rng(seed + length))
    with autograd.no_grad():
        logits = model(_data.to_tensors(x, device=device)[0])[:, length + 1:]
    wrong = ((logits.cpu().numpy() > 0) != (y > 0.5)).sum(axis=(1, 2))
    return float(wrong.mean()), float((wrong == 0).mean())


def main(argv=None):
    p = _data.parser('ntm', __doc__, epochs=1000, epochs_help='training mini-batches')
    p.add_argument('--controller', choices=('feedforward', 'lstm'), default='feedforward')
    p.add_argument('--batch', type=int, default=16, help='sequences per mini-batch')
    p.add_argument('--lr-final', type=float, default=None,
                   help='the learning rate falls linearly from 1e-2 to this')
    args = p.parse_args(argv)
    model, losses = train(args.epochs, batch=args.batch, seed=args.seed, device=args.device,
                          controller=args.controller, lr_final=args.lr_final)
    result = {'final_loss': float(numpy.mean(losses[-50:]))}
    for L in (1, 3, 5, 8, 10):
        errors, perfect = bit_errors(model, L, device=args.device)
        result[L] = (errors, perfect)
        tag = ' (longer than trained)' if L > 5 else ''
        print(f'length {L:2d}{tag}: {errors:.2f} wrong bits per sequence of {L * model.bits}, '
              f'{perfect:.0%} copied perfectly')
    x, y = copy_batch(1, 10, model.bits, numpy.random.default_rng(7))
    with autograd.no_grad():
        logits, reads, writes = model(_data.to_tensors(x, device=args.device)[0], trace=True)
    fig, axes = _data.figure(1, 4, figsize=(14, 3.5))
    for ax, img, title in zip(axes, (y[0].T, logits[0, 11:].sigmoid().cpu().numpy().T,
                                     writes[0].cpu().numpy().T, reads[0].cpu().numpy().T),
                              ('target (length 10)', 'output', 'write weighting',
                               'read weighting')):
        ax.imshow(img, cmap='gray_r', aspect='auto', vmin=0, vmax=1)
        ax.set(title=title, xlabel='time step',
               ylabel='memory cell' if 'weighting' in title else 'bit')
    print('plot:', _data.savefig(fig, args.out, 'copy.png'))
    return result


if __name__ == '__main__':
    main()
