# Written for this project's tests (tests/test_programs.py); not taken from another project.
# A small DCGAN on 28x28 digits: a generator of ConvTranspose2d + BatchNorm2d + ReLU ending
# in Tanh, a discriminator of strided Conv2d + LeakyReLU (+ BatchNorm2d) ending in Sigmoid,
# nn.BCELoss, one Adam per network; each batch trains the discriminator on real and on
# generated images, then the generator.  Data: the harness's offline MNIST stand-in.
import argparse

import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader

from offline import datasets, transforms


def generator(code, width):
    return nn.Sequential(
        nn.ConvTranspose2d(code, 2 * width, 7, 1, 0, bias=False),    # 1 -> 7
        nn.BatchNorm2d(2 * width),
        nn.ReLU(True),
        nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False),   # 7 -> 14
        nn.BatchNorm2d(width),
        nn.ReLU(True),
        nn.ConvTranspose2d(width, 1, 4, 2, 1, bias=False),           # 14 -> 28
        nn.Tanh(),
    )


class Critic(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, width, 4, 2, 1, bias=False),                 # 28 -> 14
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False),         # 14 -> 7
            nn.BatchNorm2d(2 * width),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(2 * width, 1, 7, 1, 0, bias=False),             # 7 -> 1
            nn.Sigmoid(),
        )

    def forward(self, images):
        return self.body(images).view(-1)


def init_weights(m):
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--code', type=int, default=8)
    parser.add_argument('--width', type=int, default=4)
    args = parser.parse_args()

    torch.manual_seed(9)
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    prep = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    loader = DataLoader(datasets.MNIST('data', train=True, transform=prep),
                        batch_size=args.batch, drop_last=True)

    print(f'device: {device}')
    net_g = generator(args.code, args.width).to(device)
    net_d = Critic(args.width).to(device)
    net_g.apply(init_weights)
    net_d.apply(init_weights)
    bce = nn.BCELoss()
    opt_d = optim.Adam(net_d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_g = optim.Adam(net_g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    fixed = torch.randn(8, args.code, 1, 1, device=device)

    for i, (real, _) in enumerate(loader):
        real = real.to(device)
        n = real.shape[0]
        ones = torch.full((n,), 1.0, device=device)
        zeros = torch.full((n,), 0.0, device=device)

        net_d.zero_grad()
        loss_real = bce(net_d(real), ones)
        loss_real.backward()
        fake = net_g(torch.randn(n, args.code, 1, 1, device=device))
        loss_fake = bce(net_d(fake.detach()), zeros)
        loss_fake.backward()
        opt_d.step()

        net_g.zero_grad()
        loss_g = bce(net_d(fake), ones)
        loss_g.backward()
        opt_g.step()
        print(f'batch {i}: D {(loss_real + loss_fake).item():.4f}, G {loss_g.item():.4f}')

    net_g.eval()
    with torch.no_grad():
        samples = net_g(fixed)
    assert samples.shape == (8, 1, 28, 28) and samples.abs().max() <= 1


if __name__ == '__main__':
    main()
