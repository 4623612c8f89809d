"""tools/benchmark.py's workloads and tools/benchmark_floors.py's NumPy floors: every
workload takes a training step through this project, and each floor computes the same
losses as its workload does through PyTorch (so the floor is the same work)."""
import os
import sys

import numpy as np
import pytest

TOOLS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'tools')
sys.path.insert(0, TOOLS)
_environ = dict(os.environ)
import benchmark            # noqa: E402  (it sets thread variables for its own runs)
import benchmark_floors     # noqa: E402
os.environ.clear()
os.environ.update(_environ)
sys.path.remove(TOOLS)

torch = pytest.importorskip('torch')


@pytest.mark.parametrize('name', list(benchmark.WORKLOADS))
def test_workload_steps_through_this_project(name):
    step = benchmark.WORKLOADS[name][0](benchmark.autograd)
    step()
    step()


def _torch_losses(name, steps, monkeypatch):
    """The losses ``steps`` steps of workload ``name`` backpropagate through PyTorch."""
    losses = []
    backward = torch.Tensor.backward

    def recording(self, *args, **kwargs):
        losses.append(self.item())
        return backward(self, *args, **kwargs)
    monkeypatch.setattr(torch.Tensor, 'backward', recording)
    step = benchmark.WORKLOADS[name][0](torch)
    for _ in range(steps):
        step()
    return losses


@pytest.mark.parametrize('name', [n for n in benchmark_floors.FLOORS if n != 'tiny-chain'])
def test_floor_computes_the_workloads_losses(name, monkeypatch):
    step = benchmark_floors.FLOORS[name]()
    ours = [step() for _ in range(4)]
    theirs = _torch_losses(name, 4, monkeypatch)
    np.testing.assert_allclose(ours, theirs, rtol=2e-5)
    assert ours[0] != ours[-1]          # the updates happened


def test_tiny_chain_floor_gradients():
    rng = np.random.default_rng(0)
    a = torch.tensor(rng.standard_normal(4).astype(np.float32), requires_grad=True)
    b = torch.tensor(rng.standard_normal(4).astype(np.float32), requires_grad=True)
    y = (a * b + a).exp().tanh() * b - a
    y.sum().backward()
    loss, ga, gb = benchmark_floors.FLOORS['tiny-chain']()()
    np.testing.assert_allclose(loss, y.sum().item(), rtol=1e-6)
    np.testing.assert_allclose(ga, a.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gb, b.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_inplace_times_functions_inside_both_steps(capsys):
    """tools/inplace.py wraps the named functions of both functional modules, times their
    calls inside each library's step, prints one row per function, and restores them."""
    environ = dict(os.environ)
    sys.path.insert(0, TOOLS)
    try:
        import inplace      # (it sets a BLAS thread variable for its own runs)
    finally:
        sys.path.remove(TOOLS)
        os.environ.clear()
        os.environ.update(environ)
    import nn.functional as F
    before = (F.linear, F.mse_loss, torch.nn.functional.linear)
    inplace.main(['regression-mlp', '--functions', 'linear,mse_loss,softmax', '--steps', '2',
                  '--rounds', '3'])
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[2:]}
    assert set(rows) == {'linear', 'mse_loss', 'softmax'}
    ours, theirs, ratio = (float(rows['linear'][i]) for i in (1, 3, 5))
    assert ours > 0 and theirs > 0 and 0.2 < ratio < 5          # called on both sides
    assert float(rows['mse_loss'][3]) > 0 and rows['mse_loss'][5] == '-'   # ours bound at import
    assert float(rows['softmax'][1]) == float(rows['softmax'][3]) == 0     # not called
    assert (F.linear, F.mse_loss, torch.nn.functional.linear) == before
    with pytest.raises(SystemExit):
        inplace.main(['regression-mlp', '--functions', 'no_such_function'])
