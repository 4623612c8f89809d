# Written for this project's tests (tests/test_programs.py); not taken from another project.
# A small digit classifier in everyday PyTorch style: two convolutions, max pooling, dropout,
# log-softmax with nll_loss, Adadelta stepped down each epoch by StepLR, and the device
# chosen through torch.accelerator.  Data: the harness's offline MNIST stand-in.
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader

from offline import datasets, transforms


class DigitNet(nn.Module):
    def __init__(self, width=4, hidden=32):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, width, kernel_size=3),
            nn.ReLU(),
            nn.Conv2d(width, 2 * width, kernel_size=3),
            nn.ReLU(),
        )
        self.drop_maps = nn.Dropout(0.2)
        self.drop_hidden = nn.Dropout(0.4)
        self.hidden = nn.Linear(2 * width * 12 * 12, hidden)
        self.classify = nn.Linear(hidden, 10)

    def forward(self, images):
        maps = F.max_pool2d(self.features(images), kernel_size=2)
        flat = torch.flatten(self.drop_maps(maps), start_dim=1)
        h = self.drop_hidden(F.relu(self.hidden(flat)))
        return F.log_softmax(self.classify(h), dim=1)


def pick_device(allow_accel):
    if allow_accel and torch.accelerator.is_available():
        return torch.accelerator.current_accelerator()
    return torch.device('cpu')


def run_epoch(net, loader, opt, device, epoch):
    net.train()
    for step, (images, labels) in enumerate(loader):
        images, labels = images.to(device), labels.to(device)
        opt.zero_grad()
        loss = F.nll_loss(net(images), labels)
        loss.backward()
        opt.step()
        print(f'epoch {epoch} step {step}: loss {loss.item():.4f}')


@torch.no_grad()
def evaluate(net, loader, device):
    net.eval()
    total, right, summed = 0, 0, 0.0
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        logp = net(images)
        summed += F.nll_loss(logp, labels, reduction='sum').item()
        right += (logp.argmax(dim=1) == labels).sum().item()
        total += labels.numel()
    print(f'held out: mean loss {summed / total:.4f}, accuracy {right}/{total}')


def main():
    parser = argparse.ArgumentParser(description='small CNN on digits')
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--epochs', type=int, default=2)
    parser.add_argument('--lr', type=float, default=1.0)
    parser.add_argument('--gamma', type=float, default=0.7)
    parser.add_argument('--no-accel', action='store_true')
    args = parser.parse_args()

    torch.manual_seed(7)
    device = pick_device(not args.no_accel)
    prep = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.13,), (0.31,))])
    train = DataLoader(datasets.MNIST('data', train=True, transform=prep),
                       batch_size=args.batch_size)
    test = DataLoader(datasets.MNIST('data', train=False, transform=prep), batch_size=64)

    print(f'device: {device}')
    net = DigitNet().to(device)
    opt = optim.Adadelta(net.parameters(), lr=args.lr)
    sched = StepLR(opt, step_size=1, gamma=args.gamma)
    for epoch in range(1, args.epochs + 1):
        run_epoch(net, train, opt, device, epoch)
        evaluate(net, test, device)
        sched.step()
        print(f'lr now {sched.get_last_lr()[0]:.3f}')


if __name__ == '__main__':
    main()
