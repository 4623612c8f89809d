"""A convolutional autoencoder whose decoder undoes the encoder's max-pooling with the stored
switches (max-unpooling) and its convolutions with transposed convolutions.

Aggarwal, *Neural Networks and Deep Learning*, sec. 8.5.2: "when pooling is performed, the
precise positions of the maximal values are stored ... referred to as the switch. When
unpooling, the dimensions are increased by a factor of 2, and the values at the switch
positions are copied from the previous layer. The other values are set to 0. Therefore,
after max-unpooling, exactly 75% of the entries in the layer will have uncopied values of 0"
(for 2 x 2 pools); the decoder's convolutions are transposed convolutions, and the gradient
of max-unpooling flows only through the switches.

Encoder: conv 3x3 16 -> ReLU -> max-pool 2 (switches kept) -> conv 3x3 32 -> ReLU ->
max-pool 2 (switches kept): 28x28x1 -> 7x7x32.  Decoder: max-unpool 2 -> transposed conv
3x3 16 -> ReLU -> max-unpool 2 -> transposed conv 3x3 1 -> sigmoid.  Trained on MNIST-5k
with squared error; the held-out error is compared with predicting the mean image.

Run: ``python examples/conv_autoencoder.py [--epochs 5]``
"""

import _data  # noqa: I001  (before autograd: it makes a source checkout importable)
import autograd
import nn
import nn.functional as F
import optim


class ConvAutoencoder(nn.Module):
    def __init__(self, c1=16, c2=32):
        super().__init__()
        self.conv1 = nn.Conv2d(1, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.pool = nn.MaxPool2d(2, return_indices=True)
        self.unpool = nn.MaxUnpool2d(2)
        self.deconv2 = nn.ConvTranspose2d(c2, c1, 3, padding=1)
        self.deconv1 = nn.ConvTranspose2d(c1, 1, 3, padding=1)

    def encode(self, x):
        """x (B, 1, 28, 28) -> code (B, c2, 7, 7) and the two layers' switches."""
        h, s1 = self.pool(F.relu(self.conv1(x)))
        code, s2 = self.pool(F.relu(self.conv2(h)))
        return code, (s1, s2)

    def decode(self, code, switches, keep=None):
        """code -> reconstruction (B, 1, 28, 28); ``keep`` (a dict) receives the two
        unpooled maps, to count their zeros."""
        s1, s2 = switches
        u2 = self.unpool(code, s2)
        h = F.relu(self.deconv2(u2))
        u1 = self.unpool(h, s1)
        if keep is not None:
            keep.update(unpooled2=u2, unpooled1=u1)
        return self.deconv1(u1).sigmoid()

    def forward(self, x):
        code, switches = self.encode(x)
        return self.decode(code, switches)


def zero_fraction(x):
    return (x == 0).float().mean().item()


def train(epochs=5, n_train=4000, batch_size=64, lr=5e-3, seed=0, device=None, log=print):
    """Train on MNIST-5k; returns the model, the held-out images, the held-out MSE per
    epoch, and the MSE of predicting the mean training image."""
    device = device or autograd.get_default_device()
    X, y = _data.mnist5k()
    X_tr, _, X_te, _ = _data.split(X.reshape(-1, 1, 28, 28), y, len(X) - n_train, seed)
    baseline = float(((X_te - X_tr.mean(0)) ** 2).mean())
    X_tr, X_te = _data.to_tensors(X_tr, X_te, device=device)
    autograd.manual_seed(seed)
    model = ConvAutoencoder().to(device)
    opt = optim.Adam(model.parameters(), lr=lr)
    mse = []
    for epoch in range(epochs):
        _data.sgd_epoch(model, opt, lambda out, target: F.mse_loss(out, target), X_tr, X_tr,
                        batch_size)
        with autograd.no_grad():
            mse.append(F.mse_loss(model(X_te), X_te).item())
        if log:
            log(f'  epoch {epoch + 1}: held-out MSE {mse[-1]:.4f} (mean image {baseline:.4f})')
    return model, X_te, mse, baseline


def main(argv=None):
    p = _data.parser('conv_autoencoder', __doc__, epochs=5)
    args = p.parse_args(argv)
    model, X_te, mse, baseline = train(args.epochs, seed=args.seed, device=args.device)
    keep = {}
    with autograd.no_grad():
        code, switches = model.encode(X_te[:256])
        recon = model.decode(code, switches, keep)
        zeros2 = zero_fraction(keep['unpooled2'])
        zeros1 = zero_fraction(keep['unpooled1'])
    images = X_te[:8].cpu().numpy()[:, 0]
    fig, axes = _data.figure(2, 8, figsize=(8, 2.2))
    for i in range(8):
        axes[0, i].imshow(images[i], cmap='gray')
        axes[1, i].imshow(recon[i, 0].cpu().numpy(), cmap='gray')
        axes[0, i].axis('off')
        axes[1, i].axis('off')
    _data.savefig(fig, args.out, 'reconstructions.png')
    print(f'held-out MSE {mse[-1]:.4f} vs {baseline:.4f} for the mean image; zeros after '
          f'unpooling: {100 * zeros2:.1f}% and {100 * zeros1:.1f}% (the book: at least 75%)')
    return dict(mse=mse, baseline=baseline, zeros=(zeros2, zeros1))


if __name__ == '__main__':
    main()
