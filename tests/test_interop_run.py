"""The alias runner: unmodified PyTorch scripts, written into a temporary directory, run
under ``python -m autograd.run`` and under PyTorch; their printed losses agree.  Also: the
mapping never imports PyTorch, a missing PyTorch API fails naming itself, flags written
through ``torch.`` reach this project's modules."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import autograd
from autograd import run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(autograd.__file__)))
NUMBER = re.compile(r'-?\d+\.\d+(?:e[-+]?\d+)?|-?\d+')

MLP = '''\
import math
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import TensorDataset, DataLoader


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(1, 16)
        self.fc2 = nn.Linear(16, 1)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


torch.backends.cudnn.benchmark = True
device = torch.accelerator.current_accelerator() if torch.accelerator.is_available() else 'cpu'
x = torch.linspace(-1, 1, 64, dtype=torch.float64).reshape(-1, 1)
y = torch.sin(3 * x)
loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=False)
model = MLP().double().to(device)
with torch.no_grad():          # the same start in any framework
    for i, p in enumerate(model.parameters()):
        p.copy_(torch.sin(torch.arange(p.numel(), dtype=torch.float64) + i).reshape(p.shape))
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
for epoch in range(3):
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        loss = F.mse_loss(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
    print(f'epoch {epoch} loss {loss:.12f} argmax {model(x.to(device)).argmax(axis=0).item()}')
'''

CNN = '''\
import sys
import torch
from torch import nn, optim
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 8, 3)
        self.dropout = nn.Dropout(0.0)
        self.fc = nn.Linear(8 * 3 * 3, 3)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.relu(self.conv2(x))
        x = torch.flatten(self.dropout(x), 1)
        return F.log_softmax(self.fc(x), dim=1)


steps = int(sys.argv[1]) if len(sys.argv) > 1 else 4
device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
torch.set_default_dtype(torch.float64)
model = Net().to(device)
with torch.no_grad():
    for i, (name, p) in enumerate(model.named_parameters()):
        p.copy_(0.3 * torch.cos(torch.arange(p.numel()) * 0.7 + i).reshape(p.shape))
images = torch.sin(torch.arange(6 * 10 * 10) * 0.1).reshape(6, 1, 10, 10).to(device)
labels = torch.tensor([0, 1, 2, 0, 1, 2], device=device)
optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
model.train()
for step in range(steps):
    optimizer.zero_grad()
    output = model(images)
    loss = F.nll_loss(output, labels)
    loss.backward()
    optimizer.step()
    scheduler.step()
    pred = output.argmax(dim=1, keepdim=True)
    correct = pred.eq(labels.view_as(pred)).sum().item()
    print('step {} loss {:.12f} correct {}'.format(step, loss.item(), correct))
model.eval()
with torch.no_grad():
    print(f'eval {F.nll_loss(model(images), labels, reduction="sum"):.12f}')
'''


# float32, with GradScaler, autocast, clipping, whole-model saving and the conveniences
AMP = '''\
import os
import sys
import tempfile

import torch
import torch.nn as nn
from torch.amp import GradScaler


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))

    def forward(self, x):
        return self.body(x).squeeze(-1)


use_amp = torch.cuda.is_available()
device = torch.device('cuda' if use_amp else 'cpu')
torch.backends.cuda.matmul.allow_tf32 = True
model = Regressor().to(device)
with torch.no_grad():
    for i, p in enumerate(model.parameters()):
        p.copy_(torch.cos(torch.arange(p.numel(), dtype=torch.float32) * 1.3 + i).reshape(p.shape))
x = torch.stack([torch.linspace(-1, 1, 32), torch.linspace(1, -1, 32) ** 2], axis=1).to(device)
y = (x[:, 0] * 2 - x[:, 1]).to(device)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
scaler = GradScaler('cpu', init_scale=256.0, growth_interval=3)
for step in range(6):
    optimizer.zero_grad(set_to_none=True)
    with torch.autocast(device_type=device.type, enabled=False):
        loss = nn.functional.mse_loss(model(x), y)
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    norm = nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    scaler.step(optimizer)
    scaler.update()
    print(f'step {step} loss {loss:.6f} norm {norm:.6f} scale {scaler.get_scale():.1f} '
          f'best {model(x).argmax(axis=0).item()}')
path = os.path.join(tempfile.mkdtemp(), 'model.pt')
torch.save(model, path)
try:
    torch.load(path)
except Exception as e:
    print(type(e).__name__, 'refused', 'Unsupported global' in str(e))
with torch.serialization.safe_globals([Regressor, nn.Sequential, nn.Linear, nn.ReLU]):
    again = torch.load(path)
print(f'reloaded {nn.functional.mse_loss(again(x), y):.6f}', type(again).__name__,
      torch.accelerator.device_count() >= 0, torch.backends.cudnn.is_available() is False)
'''


def python(*args, cwd=None):
    """Run ``python *args`` with this checkout importable; (stdout, stderr, returncode)."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(p for p in (ROOT, env.get('PYTHONPATH')) if p)
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          cwd=cwd or ROOT, timeout=300)
    return done.stdout, done.stderr, done.returncode


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def assert_same_printout(ours, theirs, rtol):
    """The same lines, with the numbers in them equal to ``rtol``."""
    ours, theirs = ours.strip().splitlines(), theirs.strip().splitlines()
    assert len(ours) == len(theirs) and ours
    for a, b in zip(ours, theirs):
        assert NUMBER.sub('#', a) == NUMBER.sub('#', b), (a, b)
        np.testing.assert_allclose([float(x) for x in NUMBER.findall(a)],
                                   [float(x) for x in NUMBER.findall(b)], rtol=rtol, err_msg=a)


@pytest.mark.slow
@pytest.mark.parametrize('name, script, args, rtol', [
    ('mlp_train.py', MLP, [], 1e-10), ('cnn_train.py', CNN, ['5'], 1e-10),   # float64
    ('amp_train.py', AMP, [], 2e-6)])                                         # float32
def test_unmodified_script_prints_what_pytorch_prints(tmp_path, name, script, args, rtol):
    path = write(tmp_path, name, script)
    ours, err, code = python('-m', 'autograd.run', path, *args)
    assert code == 0, err
    env_device = os.environ.get('AUTOGRAD_DEVICE', '')
    theirs, err, code = python(path, *args)
    assert code == 0, err
    assert_same_printout(ours, theirs, rtol)
    assert env_device == os.environ.get('AUTOGRAD_DEVICE', '')


PROBE = """
import sys
import torch, torch.nn as nn, torch.nn.functional as F, torch.optim as optim
from torch.utils.data import DataLoader
import torch.backends.cudnn as cudnn
cudnn.benchmark = True
import autograd, autograd.backends.cudnn
print('argv', sys.argv[1:])
print('mapped', torch.__target__ is autograd, nn.__target__.__name__, F.__target__.__name__,
      optim.__target__.__name__, DataLoader is autograd.utils.data.DataLoader)
print('flag', autograd.backends.cudnn.benchmark)
print('hasattr', hasattr(torch, 'compile'), hasattr(torch, 'tensor'))
real = [n for n, m in sys.modules.items() if n.split('.')[0] == 'torch'
        and type(m).__name__ != 'Alias']
print('real torch modules', real)
"""


def test_mapping_without_pytorch(tmp_path):
    out, err, code = python('-m', 'autograd.run', write(tmp_path, 'probe.py', PROBE), 'a', '-b')
    assert code == 0, err
    lines = dict(line.split(' ', 1) for line in out.strip().splitlines())
    assert lines['argv'] == "['a', '-b']"
    assert lines['mapped'] == 'True nn nn.functional optim True'
    assert lines['flag'] == 'True'                  # written through torch.backends
    assert lines['hasattr'] == 'False True'
    assert lines['real'] == "torch modules []"


def test_missing_api_names_itself(tmp_path):
    script = "import torch\nmodel = torch.nn.Linear(2, 2)\nmodel = torch.compile(model)\n"
    _, err, code = python('-m', 'autograd.run', write(tmp_path, 'c.py', script))
    assert code != 0
    assert 'MissingPyTorchAPI: torch.compile is not available' in err
    script = "import torch.not_a_module_of_either\n"
    _, err, code = python('-m', 'autograd.run', write(tmp_path, 'd.py', script))
    assert code != 0
    assert "ModuleNotFoundError: No module named 'torch.not_a_module_of_either'" in err
    assert 'PyTorch API torch.not_a_module_of_either is not available' in err


PACKAGES = """
import sys
import torch
from torch.nn.utils.rnn import pad_sequence
import torch.nn.functional, torch.utils.data
print(pad_sequence([torch.tensor([1., 2.]), torch.tensor([3., 4., 5.])], padding_value=-1).tolist())
if 'autograd' in sys.modules:
    import nn.utils.rnn, autograd
    for m in (nn.utils.rnn, nn.functional, autograd, autograd.utils.data):
        assert m.__spec__.name == m.__name__, (m.__name__, m.__spec__.name)
        assert m.__package__ == m.__name__.rpartition('.')[0] or m.__package__ == m.__name__
    assert sys.modules['torch.nn.utils.rnn'].__spec__.name == 'torch.nn.utils.rnn'
"""


def test_aliases_leave_the_project_modules_own_names(tmp_path):
    """The import system sets __spec__, __package__ and __loader__ on each alias it makes;
    they stay on the alias: a project module whose __package__ became 'torch.nn.utils.rnn'
    resolved the relative import inside pad_sequence to 'torch.nn.utils.functional'
    (pytorch/examples' language_translation stopped there)."""
    path = write(tmp_path, 'packages.py', PACKAGES)
    ours, err, code = python('-m', 'autograd.run', path)
    assert code == 0, err
    theirs, err, code = python(path)
    assert code == 0, err
    assert ours == theirs == '[[1.0, 3.0], [2.0, 4.0], [-1.0, 5.0]]\n'


def test_module_mode_and_usage(tmp_path):
    write(tmp_path, 'probe_mod.py', PROBE)
    out, err, code = python('-m', 'autograd.run', '-m', 'probe_mod', 'x', cwd=str(tmp_path))
    assert code == 0, err
    assert "argv ['x']" in out
    _, err, code = python('-m', 'autograd.run')
    assert code == 2 and 'usage' in err


def test_install_refuses_when_pytorch_is_already_imported():
    import torch  # noqa: F401  (the oracle: this test process has PyTorch)
    with pytest.raises(RuntimeError, match='already imported'):
        run.install()
    assert not run.installed()


def test_target_names():
    assert run.target_of('torch') == 'autograd'
    assert run.target_of('torch.nn.functional') == 'nn.functional'
    assert run.target_of('torch.optim.lr_scheduler') == 'optim.lr_scheduler'
    assert run.target_of('torch.utils.data') == 'autograd.utils.data'
    assert run.target_of('torch.autograd') == 'autograd'
    assert run.target_of('safetensors.torch') == 'autograd.safetensors'
    assert run.target_of('torchvision') is None and run.target_of('numpy') is None
