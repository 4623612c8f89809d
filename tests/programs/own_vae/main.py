# Written for this project's tests (tests/test_programs.py); not taken from another project.
# A variational autoencoder on digits: Gaussian encoder, sampling by the reparameterisation
# trick (randn_like), Bernoulli decoder scored with binary_cross_entropy plus the closed-form
# KL term, Adam, a shuffled DataLoader.  Data: the harness's offline MNIST stand-in.
import argparse

import torch
from torch import nn, optim
from torch.nn import functional as F
from torch.utils.data import DataLoader

from offline import datasets, transforms


class Encoder(nn.Module):
    def __init__(self, pixels, hidden, code):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(pixels, hidden), nn.Tanh())
        self.mean = nn.Linear(hidden, code)
        self.log_var = nn.Linear(hidden, code)

    def forward(self, x):
        h = self.body(x)
        return self.mean(h), self.log_var(h)


class DigitVAE(nn.Module):
    def __init__(self, pixels=784, hidden=48, code=6):
        super().__init__()
        self.pixels = pixels
        self.encoder = Encoder(pixels, hidden, code)
        self.decoder = nn.Sequential(nn.Linear(code, hidden), nn.Tanh(),
                                     nn.Linear(hidden, pixels))

    def sample_code(self, mean, log_var):
        noise = torch.randn_like(mean)
        return mean + noise * torch.exp(log_var / 2)

    def forward(self, images):
        mean, log_var = self.encoder(images.view(-1, self.pixels))
        z = self.sample_code(mean, log_var)
        return torch.sigmoid(self.decoder(z)), mean, log_var


def elbo_loss(recon, images, mean, log_var):
    rec = F.binary_cross_entropy(recon, images.view_as(recon), reduction='sum')
    kl = 0.5 * torch.sum(mean.pow(2) + log_var.exp() - log_var - 1)
    return (rec + kl) / images.shape[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--epochs', type=int, default=2)
    args = parser.parse_args()

    torch.manual_seed(3)
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    data = datasets.MNIST('data', train=True, transform=transforms.ToTensor())
    loader = DataLoader(data, batch_size=args.batch_size, shuffle=True)
    held_out = DataLoader(datasets.MNIST('data', train=False, transform=transforms.ToTensor()),
                          batch_size=64)

    print(f'device: {device}')
    model = DigitVAE().to(device)
    opt = optim.Adam(model.parameters(), lr=2e-3)
    for epoch in range(args.epochs):
        model.train()
        running = 0.0
        for images, _ in loader:
            images = images.to(device)
            opt.zero_grad()
            recon, mean, log_var = model(images)
            loss = elbo_loss(recon, images, mean, log_var)
            loss.backward()
            opt.step()
            running += loss.item()
        model.eval()
        with torch.no_grad():
            score = 0.0
            for x, _ in held_out:
                x = x.to(device)
                recon, mean, log_var = model(x)
                score += elbo_loss(recon, x, mean, log_var).item()
            grid = model.decoder(torch.randn(16, 6, device=device)).sigmoid()
            assert grid.shape == (16, 784)
        print(f'epoch {epoch}: train {running / len(loader):.2f}, held out {score:.2f}')


if __name__ == '__main__':
    main()
