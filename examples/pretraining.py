"""Greedy layer-wise unsupervised pretraining with autoencoders, then supervised
fine-tuning, against random initialisation (and against greedy supervised pretraining).

Aggarwal, *Neural Networks and Deep Learning*, sec. 4.7 (Figs. 4.7, 4.8) and 4.7.2.  The
classifier is a deep sigmoid network 64-128-64-32-10 (Fig. 4.7(b)) trained on few
labelled 8x8 digits of scikit-learn (300), while all 1,397 training images may be used
without their labels:

* Unsupervised pretraining (Fig. 4.8): the outer hidden layer is learned first, as the
  code of a one-hidden-layer autoencoder 64-128-64 of the images (sigmoid units, the
  reconstruction cross-entropy); its codes are the data of the next autoencoder
  128-64-128, and so on inwards.  Only the encoders' weights are kept.  The weights into
  the output layer are initialised by a single-layer softmax network fed with the final
  codes (the only use of the labels before fine-tuning); then backpropagation fine-tunes
  the whole network.
* Random initialisation: the same network with PyTorch's default initialisation and the
  same fine-tuning budget.
* Supervised greedy pretraining (sec. 4.7.2, [31]): hidden layer r is learned by a network
  with that layer as its only new hidden layer and a softmax output, fed the codes of
  layers 1 ... r - 1; the output weights are discarded but the last.

The script reports each variant's training and held-out accuracy and loss, the curve of
the fine-tuning, the layer-wise reconstruction errors, and draws the first-layer filters
(pretrained units look like strokes, random ones like noise).

Run: python examples/pretraining.py [--epochs 100] [--pretrain-epochs 30] [--out runs/pretraining]
"""
import numpy

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn
import optim

SIZES = (64, 128, 64, 32)


def classifier(sizes=SIZES, n_classes=10):
    """Sigmoid hidden layers of ``sizes`` and a linear output layer (softmax in the loss)."""
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.Sigmoid()]
    return nn.Sequential(*layers, nn.Linear(sizes[-1], n_classes))


def linears(model):
    return [m for m in model if isinstance(m, nn.Linear)]


def fit(model, loss_fn, X, T, epochs, lr=1e-3, batch_size=64, generator=None):
    """Adam on ``loss_fn(model(xb), tb)`` over mini-batches; returns per-epoch losses."""
    opt = optim.Adam(model.parameters(), lr=lr)
    return [float(numpy.mean(_data.sgd_epoch(model, opt, loss_fn, X, T, batch_size,
                                             generator=generator)))
            for _ in range(epochs)]


def pretrain_autoencoders(X, sizes, epochs, generator=None):
    """Fig. 4.8: one autoencoder per pair of consecutive sizes, outermost first, each
    trained to reconstruct the previous codes (values in [0, 1]) with the cross-entropy.
    Returns the encoders (trained ``nn.Linear`` layers) and each autoencoder's final
    reconstruction loss."""
    encoders, losses, codes = [], [], X
    for a, b in zip(sizes[:-1], sizes[1:]):
        ae = nn.Sequential(nn.Linear(a, b), nn.Sigmoid(), nn.Linear(b, a)).to(X.device)
        curve = fit(ae, nn.BCEWithLogitsLoss(), codes, codes, epochs, generator=generator)
        losses.append(curve[-1])
        encoders.append(ae[0])
        with autograd.no_grad():
            codes = autograd.sigmoid(ae[0](codes))
    return encoders, losses


def pretrain_supervised(X, y, sizes, epochs, n_classes=10, generator=None):
    """Sec. 4.7.2: layer r is trained with a fresh softmax output on the codes of the
    layers below it (kept fixed); returns the hidden layers and the last output layer."""
    hidden, codes = [], X
    for a, b in zip(sizes[:-1], sizes[1:]):
        net = nn.Sequential(nn.Linear(a, b), nn.Sigmoid(), nn.Linear(b, n_classes)).to(X.device)
        fit(net, nn.CrossEntropyLoss(), codes, y, epochs, lr=1e-2, batch_size=32,
            generator=generator)
        hidden.append(net[0])
        with autograd.no_grad():
            codes = autograd.sigmoid(net[0](codes))
    return hidden, net[2]


def output_layer_on_codes(encoders, X, y, epochs, n_classes=10, generator=None):
    """The weights into the output layer as the book initialises them: a single-layer
    softmax network trained on the final codes of the labelled points."""
    with autograd.no_grad():
        codes = X
        for enc in encoders:
            codes = autograd.sigmoid(enc(codes))
    out = nn.Linear(codes.shape[1], n_classes).to(X.device)
    fit(out, nn.CrossEntropyLoss(), codes, y, epochs, lr=1e-2, batch_size=32, generator=generator)
    return out


def load_into(model, hidden, output):
    """Copy trained layers into ``model``'s Linear layers (hidden ..., output)."""
    with autograd.no_grad():
        for dst, src in zip(linears(model), [*hidden, output]):
            dst.weight.copy_(src.weight)
            dst.bias.copy_(src.bias)
    return model


def evaluate(model, X, y):
    """(cross-entropy, accuracy) without recording a graph."""
    with autograd.no_grad():
        logits = model(X)
        return nn.functional.cross_entropy(logits, y).item(), _data.accuracy(logits, y)


def fine_tune(model, Xl, yl, Xte, yte, epochs, lr, generator=None):
    """Supervised backpropagation through the whole network: SGD with momentum, batches
    of 32; returns per-epoch (training loss, held-out accuracy)."""
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    hist = {'train loss': [], 'test accuracy': []}
    for _ in range(epochs):
        _data.sgd_epoch(model, opt, loss_fn, Xl, yl, 32, generator=generator)
        hist['train loss'].append(evaluate(model, Xl, yl)[0])
        hist['test accuracy'].append(evaluate(model, Xte, yte)[1])
    return hist


def main(argv=None):
    p = _data.parser('pretraining', __doc__, epochs=100, epochs_help='fine-tuning epochs')
    p.add_argument('--pretrain-epochs', type=int, default=30)
    p.add_argument('--labelled', type=int, default=300)
    p.add_argument('--unlabelled', type=int, default=1397, help='images for pretraining')
    p.add_argument('--lr', type=float, default=0.1, help='fine-tuning learning rate')
    args = p.parse_args(argv)
    dev = args.device
    X, y = _data.digits()
    Xrest, yrest, Xte, yte = _data.split(X, y, 400, seed=args.seed)
    Xu, Xl, yl, Xte, yte = _data.to_tensors(Xrest[:args.unlabelled], Xrest[:args.labelled],
                                            yrest[:args.labelled], Xte, yte, device=dev)
    gen = autograd.Generator(dev).manual_seed(args.seed)
    results, hist, models = {}, {}, {}

    autograd.manual_seed(args.seed)
    models['random initialisation'] = classifier().to(dev)

    autograd.manual_seed(args.seed)
    encoders, rec = pretrain_autoencoders(Xu, SIZES, args.pretrain_epochs, generator=gen)
    results['autoencoder reconstruction losses (per layer)'] = rec
    out = output_layer_on_codes(encoders, Xl, yl, args.pretrain_epochs, generator=gen)
    models['unsupervised pretraining'] = load_into(classifier().to(dev), encoders, out)

    autograd.manual_seed(args.seed)
    hidden, out = pretrain_supervised(Xl, yl, SIZES, args.pretrain_epochs, generator=gen)
    models['supervised pretraining'] = load_into(classifier().to(dev), hidden, out)

    for name, model in models.items():
        before = evaluate(model, Xte, yte)[1]
        gen = autograd.Generator(dev).manual_seed(args.seed)    # the same batches for all
        hist[name] = fine_tune(model, Xl, yl, Xte, yte, args.epochs, args.lr, generator=gen)
        tr_loss, tr_acc = evaluate(model, Xl, yl)
        te_loss, te_acc = evaluate(model, Xte, yte)
        results[name] = {'test accuracy before fine-tuning': before,
                         'train accuracy': tr_acc, 'train loss': tr_loss,
                         'test accuracy': te_acc, 'test loss': te_loss,
                         'best test accuracy': max(hist[name]['test accuracy'])}
    for key, val in results.items():
        print(f'{key:46s} {val}')

    fig, axes = _data.figure(1, 2, figsize=(11, 4))
    for name, h in hist.items():
        epochs = range(1, args.epochs + 1)
        axes[0].plot(epochs, h['train loss'], label=name)
        axes[1].plot(epochs, h['test accuracy'], label=name)
    axes[0].set(yscale='log', xlabel='fine-tuning epoch', ylabel='training cross-entropy',
                title=f'{"-".join(map(str, SIZES))}-10 sigmoid net, {args.labelled} labels')
    axes[1].set(xlabel='fine-tuning epoch', ylabel='held-out accuracy', title='held-out accuracy')
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    print('plot:', _data.savefig(fig, args.out, 'pretraining.png'))

    fig, axes = _data.figure(2, 8, figsize=(10, 3))
    for row, name in zip(axes, ('random initialisation', 'unsupervised pretraining')):
        W = linears(models[name])[0].weight.detach().cpu().numpy()
        for ax, w in zip(row, W[:8]):
            ax.imshow(w.reshape(8, 8), cmap='gray')
            ax.set_xticks([])
            ax.set_yticks([])
        row[0].set_ylabel(name.split()[0], fontsize=8)
    fig.suptitle('first-layer weights after fine-tuning')
    print('plot:', _data.savefig(fig, args.out, 'pretraining_filters.png'))
    results['history'] = hist
    return results


if __name__ == '__main__':
    main()
