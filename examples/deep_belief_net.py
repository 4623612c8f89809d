"""Stacked RBMs pretraining a deep autoencoder, against the same autoencoder started at
random.

Aggarwal, *Neural Networks and Deep Learning*, sec. 6.7.1 (Fig. 6.10).  RBM 1 is trained
by CD-1 on the binarised images (``rbm.py``'s RBM and trainer); RBM r + 1 is trained on
the hidden activations sigmoid(c + v W) of RBM r.  The learned W_1 ... W_k are unrolled
into an encoder (weights W_r, hidden biases c_r) and a decoder (W_r^T, visible biases b_r)
with sigmoid units, which is then fine-tuned by backpropagation on the reconstruction
cross-entropy.  The same architecture with PyTorch's default initialisation gets the same
fine-tuning budget; the script reports both held-out reconstruction errors (mean squared
error per pixel) before and after, and draws the curves and some reconstructions.

Run: python examples/deep_belief_net.py [--epochs 20] [--data mnist|digits] [--out runs/deep_belief_net]
"""
import numpy

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn
import optim
import rbm as rbm_example     # the RBM and its CD trainer (examples/rbm.py)


def pretrain(X, sizes, epochs, generator=None, log=None):
    """Greedy layer-wise CD-1: one RBM per pair of consecutive sizes, each trained on the
    previous one's hidden activations.  X (n, sizes[0]).  Returns the RBMs."""
    rbms, inputs = [], X
    for d, m in zip(sizes[:-1], sizes[1:]):
        r = rbm_example.RBM(d, m, data=inputs, generator=generator, device=X.device)
        rbm_example.train(r, inputs, epochs, k=1, generator=generator)
        with autograd.no_grad():
            inputs = r.p_h(inputs)
        if log:
            log(f'RBM {d}-{m} trained')
        rbms.append(r)
    return rbms


def autoencoder(sizes):
    """Sigmoid encoder sizes[0] -> ... -> sizes[-1] and the mirrored decoder (logits out)."""
    enc, dec = [], []
    for d, m in zip(sizes[:-1], sizes[1:]):
        enc += [nn.Linear(d, m), nn.Sigmoid()]
    for m, d in reversed(list(zip(sizes[:-1], sizes[1:]))):
        dec += [nn.Linear(d, m), nn.Sigmoid()]
    return nn.Sequential(*enc, *dec[:-1])          # the last sigmoid is in the loss


def unroll(rbms, device=None):
    """The autoencoder whose encoder layer r is (W_r^T, c_r) and decoder layer r is
    (W_r, b_r), from the pretrained RBMs (Fig. 6.10(b))."""
    sizes = [rbms[0].W.shape[0]] + [r.W.shape[1] for r in rbms]
    model = autoencoder(sizes).to(device)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    k = len(rbms)
    with autograd.no_grad():
        for r, (enc, dec) in enumerate(zip(linears[:k], reversed(linears[k:]))):
            enc.weight.copy_(rbms[r].W.T)
            enc.bias.copy_(rbms[r].c)
            dec.weight.copy_(rbms[r].W)
            dec.bias.copy_(rbms[r].b)
    return model


def held_out_mse(model, X):
    with autograd.no_grad():
        return ((autograd.sigmoid(model(X)) - X) ** 2).mean().item()


def fine_tune(model, Xtr, Xte, epochs, lr=1e-3, batch_size=50, generator=None):
    """Adam on the reconstruction cross-entropy; returns the held-out MSE before and after
    each epoch."""
    opt = optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.BCEWithLogitsLoss()
    curve = [held_out_mse(model, Xte)]
    for _ in range(epochs):
        _data.sgd_epoch(model, opt, loss_fn, Xtr, Xtr, batch_size, generator=generator)
        curve.append(held_out_mse(model, Xte))
    return curve


def main(argv=None):
    p = _data.parser('deep_belief_net', __doc__, epochs=20,
                     epochs_help='fine-tuning epochs')
    p.add_argument('--data', choices=('mnist', 'digits'), default='mnist')
    p.add_argument('--n', type=int, default=5000, help='images (4/5 train, 1/5 held out)')
    p.add_argument('--pretrain-epochs', type=int, default=5)
    p.add_argument('--sizes', default=None,
                   help='layer sizes, e.g. 784,256,64,16 (default by --data)')
    args = p.parse_args(argv)
    autograd.manual_seed(args.seed)
    gen = autograd.Generator(args.device).manual_seed(args.seed)
    X, _ = rbm_example.binarised(args.data, args.n, args.device)
    n_train = X.shape[0] * 4 // 5
    Xtr, Xte = X[:n_train], X[n_train:]
    default = '784,256,64,16' if args.data == 'mnist' else '64,48,24,8'
    sizes = [int(s) for s in (args.sizes or default).split(',')]

    rbms = pretrain(Xtr, sizes, args.pretrain_epochs, generator=gen, log=print)
    pretrained = unroll(rbms, device=args.device)
    random_init = autoencoder(sizes).to(args.device)
    curves = {'stacked RBMs': fine_tune(pretrained, Xtr, Xte, args.epochs, generator=gen),
              'random init': fine_tune(random_init, Xtr, Xte, args.epochs, generator=gen)}
    results = {}
    for name, c in curves.items():
        results[f'{name}: held-out MSE before fine-tuning'] = c[0]
        results[f'{name}: held-out MSE after fine-tuning'] = c[-1]
    for k, v in results.items():
        print(f'{k:48s} {v:.4f}')

    side = int(round(X.shape[1] ** 0.5))
    fig, (ax1, ax2) = _data.figure(1, 2, figsize=(12, 4))
    for name, c in curves.items():
        ax1.plot(range(len(c)), c, 'o-', ms=3, label=name)
    ax1.set(xlabel='fine-tuning epoch', ylabel='held-out MSE per pixel',
            title='autoencoder ' + '-'.join(map(str, sizes + sizes[-2::-1])))
    ax1.legend(fontsize=8)
    with autograd.no_grad():
        rows = [Xte[:8], autograd.sigmoid(pretrained(Xte[:8])),
                autograd.sigmoid(random_init(Xte[:8]))]
    grid = numpy.concatenate([numpy.concatenate(list(r.cpu().numpy().reshape(8, side, side)),
                                                1) for r in rows], 0)
    ax2.imshow(grid, cmap='gray_r')
    ax2.set(title='held out / stacked RBMs / random init', xticks=[], yticks=[])
    print('plot:', _data.savefig(fig, args.out, 'deep_belief_net.png'))
    return results


if __name__ == '__main__':
    main()
