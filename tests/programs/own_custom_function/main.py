# Written for this project's tests (tests/test_programs.py); not taken from another project.
# Two hand-written torch.autograd.Function subclasses used in training: a softsign
# activation (saves its input, returns its own derivative) and a mean absolute error
# whose backward uses ctx attributes and needs_input_grad.  The parameters are plain
# tensors with requires_grad, updated by hand under no_grad.  Data: a noisy curve made here.
import math

import torch


class Softsign(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x / (1 + x.abs())

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out / (1 + x.abs()) ** 2


class MeanAbsError(torch.autograd.Function):
    @staticmethod
    def forward(ctx, pred, target):
        diff = pred - target
        ctx.save_for_backward(diff)
        ctx.count = diff.numel()
        return diff.abs().mean()

    @staticmethod
    def backward(ctx, grad_out):
        (diff,) = ctx.saved_tensors
        g = grad_out * torch.sign(diff) / ctx.count
        return (g if ctx.needs_input_grad[0] else None,
                -g if ctx.needs_input_grad[1] else None)


def main():
    torch.manual_seed(2)
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    x = torch.linspace(-2, 2, 64, device=device).unsqueeze(1)
    y = torch.sin(1.5 * x) + 0.05 * torch.randn(64, 1, device=device)

    print(f'device: {x.device}')
    hidden = 12
    w1 = torch.randn(1, hidden, device=device, requires_grad=True)
    b1 = torch.zeros(hidden, device=device, requires_grad=True)
    w2 = (torch.randn(hidden, 1, device=device) / math.sqrt(hidden)).requires_grad_()
    b2 = torch.zeros(1, device=device, requires_grad=True)
    params = [w1, b1, w2, b2]

    lr = 0.05
    for step in range(40):
        pred = Softsign.apply(x @ w1 + b1) @ w2 + b2
        loss = MeanAbsError.apply(pred, y)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None
        if step % 10 == 9:
            print(f'step {step}: mean |error| {loss.item():.4f}')
    check = torch.randn(5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(Softsign.apply, (check,))


if __name__ == '__main__':
    main()
