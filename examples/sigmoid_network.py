"""The sigmoid [784, 30, 10] network trained by mini-batch stochastic gradient descent on
the quadratic cost, as the third shorter text trains it; and its NAND perceptrons adding
two bits.

The shorter text S2 (chapter 1 of Nielsen's *Neural Networks and Deep Learning*, L374-690);
Aggarwal, *Neural Networks and Deep Learning*, sec. 1.2 (the perceptron), sec. 1.3 (the
sigmoid and multilayer networks) and sec. 3.2 (backpropagation).

* Perceptrons: output 1 if w.x + b > 0, else 0.  A NAND gate is the perceptron with
  weights -2, -2 and bias 3; wiring NANDs gives the half-adder: the bitwise sum
  x1 XOR x2 and the carry x1 x2.  The carry perceptron takes the leftmost perceptron's
  output twice, so it is drawn as a single weight -4 (bias 3).  Multiplying every weight
  and bias by c > 0 changes nothing; sigmoid neurons with weights and biases times c
  behave like the perceptrons as c grows (no w.x + b here is 0).
* The network: ``Network([784, 30, 10])`` with every weight and bias drawn from N(0, 1)
  (``np.random.randn`` in the text), a' = sigma(w a + b) layer after layer, the quadratic
  cost C = 1/(2n) sum_x ||y(x) - a||^2 with y(x) the one-hot target, and mini-batch SGD
  w <- w - eta/m sum_j dC_Xj/dw (eqs. 20, 21) with the text's eta = 3.0 and m = 10; the
  gradient of each mini-batch by autograd (``backprop`` writes the text's backpropagation
  out by hand for comparison).  The text trains on 50,000 MNIST images for 30 epochs and
  reaches about 95% on its 10,000 test images; here MNIST-5k (4,000 to train, 1,000 held
  out) stands in, for 30 epochs by default.

Run: python examples/sigmoid_network.py [--epochs 30] [--device cpu] [--out runs/sigmoid_network]
"""
import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn
import optim

# ---------------------------------------------------------------- perceptrons


def perceptron(x, w, b):
    """1 where w.x + b > 0, else 0 (the text's rule: 0 at exactly 0).  x (n, k), w (k,)."""
    return ((x @ w + b) > 0).to(x.dtype)


def sigmoid_neuron(x, w, b):
    return autograd.sigmoid(x @ w + b)


def half_adder(x1, x2, neuron=perceptron, c=1.0):
    """The text's network of NAND neurons (weights -2, biases 3, times ``c``) on bit tensors
    x1, x2 (n,): returns (sum, carry)."""
    def nand(a, b):
        w = autograd.tensor([-2.0, -2.0], dtype=a.dtype, device=a.device)
        return neuron(autograd.stack([a, b], 1), c * w, c * 3.0)
    n1 = nand(x1, x2)
    n2, n3 = nand(x1, n1), nand(x2, n1)
    total = nand(n2, n3)
    # the bottommost perceptron reads n1 twice: one input with weight -4
    w4 = autograd.tensor([-4.0], dtype=x1.dtype, device=x1.device)
    carry = neuron(n1.unsqueeze(1), c * w4, c * 3.0)
    return total, carry


# ---------------------------------------------------------------- the sigmoid network


class Network(nn.Module):
    """Fully connected sigmoid layers of the given sizes, weights and biases from N(0, 1)."""

    def __init__(self, sizes):
        super().__init__()
        self.sizes = list(sizes)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        for layer in self.layers:
            nn.init.normal_(layer.weight)
            nn.init.normal_(layer.bias)

    def forward(self, a):
        """a' = sigma(w a + b) through every layer; a (n, sizes[0]) -> (n, sizes[-1])."""
        for layer in self.layers:
            a = autograd.sigmoid(layer(a))
        return a


def quadratic_cost(a, y):
    """C = 1/(2n) sum_x ||y(x) - a(x)||^2 (eq. 6) over the rows of a, y (n, 10)."""
    return 0.5 * ((y - a) ** 2).sum(1).mean()


def backprop(net, x, y):
    """The text's backpropagation written out for one mini-batch (the mean of the
    per-example gradients of 1/2 ||y - a||^2): [(dC/dW, dC/db) per layer]."""
    activations, zs = [x], []
    for layer in net.layers:
        zs.append(activations[-1] @ layer.weight.T + layer.bias)
        activations.append(autograd.sigmoid(zs[-1]))
    sp = [autograd.sigmoid(z) * (1 - autograd.sigmoid(z)) for z in zs]
    delta = (activations[-1] - y) * sp[-1]         # cost derivative times sigma'(z)
    grads = []
    for l in range(len(net.layers) - 1, -1, -1):
        grads.append((delta.T @ activations[l] / x.shape[0], delta.mean(0)))
        if l:
            delta = (delta @ net.layers[l].weight) * sp[l - 1]
    return grads[::-1]


def evaluate(net, X, y):
    """How many of the images the network classifies right (the output neuron with the
    highest activation)."""
    with autograd.no_grad():
        return int((net(X).argmax(1) == y).sum().item())


def sgd(net, X, Y, epochs, mini_batch_size, eta, generator, X_test=None, y_test=None,
        log=print):
    """Mini-batch SGD as the text runs it: each epoch shuffles the training data, splits it
    into mini-batches of ``mini_batch_size`` and takes one step of size eta on each (eqs.
    20, 21).  Y (n, 10) one-hot.  Returns the test counts after each epoch."""
    opt = optim.SGD(net.parameters(), lr=eta)
    scores = []
    for j in range(epochs):
        for xb, yb in _data.minibatches(X, Y, mini_batch_size, generator=generator):
            opt.zero_grad()
            quadratic_cost(net(xb), yb).backward()
            opt.step()
        if X_test is not None:
            scores.append(evaluate(net, X_test, y_test))
            log(f'Epoch {j}: {scores[-1]} / {len(y_test)}')
        else:
            log(f'Epoch {j} complete')
    return scores


def mnist(device=None, n_test=1000, seed=0):
    X, y = _data.mnist5k()
    Xtr, ytr, Xte, yte = _data.split(X, y, n_test, seed=seed)
    Xtr, ytr, Xte, yte = _data.to_tensors(Xtr, ytr, Xte, yte, device=device)
    return Xtr, nn.functional.one_hot(ytr, 10).float(), ytr, Xte, yte


def main(argv=None):
    p = _data.parser('sigmoid_network', __doc__, epochs=30, epochs_help='the text: 30')
    p.add_argument('--eta', type=float, default=3.0)
    p.add_argument('--mini-batch', type=int, default=10)
    p.add_argument('--hidden', type=int, default=30)
    p.add_argument('--train', type=int, default=None, help='use only this many training images')
    args = p.parse_args(argv)
    dev = autograd.device(args.device)
    results = {}

    bits = autograd.tensor([0.0, 0.0, 1.0, 1.0], device=dev), autograd.tensor(
        [0.0, 1.0, 0.0, 1.0], device=dev)
    s, c = half_adder(*bits)
    results['half adder'] = {'sum': s.tolist(), 'carry': c.tolist()}
    print('x1 x2 | sum carry (NAND perceptrons, w = -2, -2, b = 3)')
    for a, b, u, v in zip(*(t.tolist() for t in (*bits, s, c))):
        print(f' {a:.0f}  {b:.0f} |  {u:.0f}    {v:.0f}')

    autograd.manual_seed(args.seed)
    gen = autograd.Generator(dev).manual_seed(args.seed)
    X, Y, y, Xte, yte = mnist(dev, seed=args.seed)
    if args.train:
        X, Y, y = X[:args.train], Y[:args.train], y[:args.train]
    net = Network([784, args.hidden, 10]).to(dev)
    results['before training'] = evaluate(net, Xte, yte)
    scores = sgd(net, X, Y, args.epochs, args.mini_batch, args.eta, gen, Xte, yte)
    results['test counts'] = scores
    results['test accuracy'] = scores[-1] / len(yte)
    results['best test accuracy'] = max(scores) / len(yte)
    results['train accuracy'] = evaluate(net, X, y) / len(y)
    print(f'[784, {args.hidden}, 10], eta {args.eta}, mini-batch {args.mini_batch}: '
          f'{scores[-1]} / {len(yte)} held-out images right after {args.epochs} epochs '
          f'(best {max(scores)}); training accuracy {results["train accuracy"]:.3f}')

    fig, ax = _data.figure(figsize=(6, 4))
    ax.plot(range(1, len(scores) + 1), [v / len(yte) for v in scores], 'o-', ms=3)
    ax.set(xlabel='epoch', ylabel='held-out accuracy',
           title=f'sigmoid [784, {args.hidden}, 10], quadratic cost, eta {args.eta}')
    print('plot:', _data.savefig(fig, args.out, 'sigmoid_network.png'))
    return results


if __name__ == '__main__':
    main()
