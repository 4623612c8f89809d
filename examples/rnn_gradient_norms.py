"""Gradient norms through time: the vanishing gradient of the tanh RNN, and the LSTM's cell
state that keeps it (with the forget-gate bias initialised above 1).

Aggarwal, *Neural Networks and Deep Learning*, sec. 7.4 (the vanishing and exploding gradient
problems: the gradient through t layers is a product of t Jacobians W_hh^T diag(tanh'), so
its norm shrinks geometrically when W_hh's largest singular value times max tanh' is below
one) and sec. 7.5 (the LSTM: "such updates of the cell states are in additive form, which is
helpful in avoiding the vanishing gradient problem"; footnote 3: "the bias of the forget
gate is generally initialized to values greater than 1 ... to avoid the vanishing gradient
problem at initialization").

For each network a batch of random input sequences x_1 ... x_T runs through the layer, the
loss is a fixed random readout of the last hidden state h_T, and ``backward()`` gives
dL/dx_t for every t: its norm (averaged over the batch) says how much the input t steps
back still moves the loss.  Networks: a tanh RNN, an LSTM and a GRU with PyTorch's default
initialisation, and the LSTM with its forget-gate biases set to 1 (b_ih + b_hh = 2, so
the forget gate starts near sigma(2) = 0.88).

Run: ``python examples/rnn_gradient_norms.py [--steps 100] [--hidden 64]``
"""

import numpy

import _data  # noqa: I001  (before autograd: it makes a source checkout importable)
import autograd
import nn


def forget_bias_(lstm, value):
    """Set the forget-gate slice (PyTorch's gate order i, f, g, o) of every LSTM bias."""
    h = lstm.hidden_size
    with autograd.no_grad():
        for name, p in lstm.named_parameters():
            if name.startswith('bias'):
                p[h:2 * h] = value
    return lstm


def make(kind, input_size, hidden):
    """'rnn', 'lstm', 'gru' (default initialisation) or 'lstm+bias' (forget bias 1)."""
    if kind == 'rnn':
        return nn.RNN(input_size, hidden, nonlinearity='tanh')
    if kind == 'gru':
        return nn.GRU(input_size, hidden)
    lstm = nn.LSTM(input_size, hidden)
    return forget_bias_(lstm, 1.0) if kind == 'lstm+bias' else lstm


def gradient_norms(layer, steps=100, batch=32, input_size=16, seed=0, device=None):
    """||dL/dx_t|| for t = 1..steps (a NumPy array, averaged over the batch), where L is a
    random linear readout of the last hidden state."""
    g = autograd.Generator().manual_seed(seed)      # the same inputs on every device
    # float64: the tanh RNN's gradient falls below float32's smallest number within 100 steps
    layer = layer.double()
    x = autograd.randn(steps, batch, input_size, generator=g, dtype=autograd.float64,
                       device='cpu').to(device)
    readout = autograd.randn(layer.hidden_size, generator=g, dtype=autograd.float64,
                             device='cpu').to(device)
    x.requires_grad_()
    out, _ = layer(x)
    loss = (out[-1] @ readout).sum()
    loss.backward()
    return x.grad.norm(dim=2).mean(1).cpu().numpy()


def compare(kinds=('rnn', 'lstm', 'lstm+bias', 'gru'), steps=100, hidden=64, input_size=16,
            batch=32, seed=0, device=None):
    """{kind: gradient norms through time} for freshly initialised layers (seeded alike)."""
    device = device or autograd.get_default_device()
    norms = {}
    for kind in kinds:
        autograd.manual_seed(seed)
        layer = make(kind, input_size, hidden).to(device)
        norms[kind] = gradient_norms(layer, steps, batch, input_size, seed, device)
    return norms


def decay_per_step(norm):
    """The geometric rate of decay per step back in time: exp of the slope of
    log ||dL/dx_t|| against T - t, fitted by least squares over the whole sequence but its
    first five steps back (the transient next to the loss)."""
    lag = numpy.arange(len(norm))[::-1]
    keep = lag >= 5
    slope = numpy.polyfit(lag[keep], numpy.log(norm[keep]), 1)[0]
    return float(numpy.exp(slope))


def plot(norms, out):
    fig, ax = _data.figure(figsize=(6, 4))
    for kind, n in norms.items():
        lag = numpy.arange(len(n))[::-1]      # steps back from the end
        ax.semilogy(lag, n, label=kind)
    ax.set_xlabel('steps back from the last time-stamp (T - t)')
    ax.set_ylabel('||dL / dx_t|| (mean over the batch)')
    ax.invert_xaxis()
    return _data.savefig(fig, out, 'gradient_norms.png', legend_fontsize=8)


def main(argv=None):
    p = _data.parser('rnn_gradient_norms', __doc__, epochs=0, epochs_help='unused')
    p.add_argument('--steps', type=int, default=100, help='sequence length T')
    p.add_argument('--hidden', type=int, default=64)
    args = p.parse_args(argv)
    norms = compare(steps=args.steps, hidden=args.hidden, seed=args.seed, device=args.device)
    plot(norms, args.out)
    for kind, n in norms.items():
        print(f'{kind:10s}: ||dL/dx_1|| / ||dL/dx_T|| = {n[0] / n[-1]:.1e}, '
              f'decay per step {decay_per_step(n):.3f}')
    return norms


if __name__ == '__main__':
    main()
