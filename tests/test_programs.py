"""Real public PyTorch programs (tests/programs/<name>/, each with its source and license in
its header, reduced in size only) run three ways, each in its own process
(tests/programs/drive.py): under PyTorch, under ``python -m autograd.run``'s mapping
unchanged, and with only their import lines changed to this project's packages.  All start
from PyTorch's initial weights and the same random draws, in float64; the loss of every
``backward()`` agrees with PyTorch's step by step."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAMS = os.path.join(HERE, 'programs')
sys.path.insert(0, PROGRAMS)

from drive import change_imports  # noqa: E402

pytest.importorskip('torch')

# name: (entry file, arguments, number of backward() calls expected, marks)
CASES = {
    'pytorch_mnist': ('main.py', ['--batch-size', '32', '--epochs', '2',
                                  '--test-batch-size', '32'], 8, ()),
    'pytorch_vae': ('main.py', ['--batch-size', '32', '--epochs', '2'], 8, ()),
    'pytorch_regression': ('main.py', [], 356, ()),
}


def _run(mode, name, tmp_path):
    entry, args, _, _ = CASES[name]
    out = tmp_path / f'{mode}.json'
    proc = subprocess.run(
        [sys.executable, os.path.join(PROGRAMS, 'drive.py'), mode, str(out),
         str(tmp_path / 'weights.npz'), os.path.join(PROGRAMS, name), entry, *args],
        capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, f'{name} under {mode}:\n{proc.stderr[-3000:]}'
    return np.array(json.loads(out.read_text())), proc.stdout


@pytest.fixture(scope='module')
def torch_runs(tmp_path_factory):
    """Each program's run under PyTorch, once per session (it writes the initial weights
    the other runs load)."""
    cache = {}

    def get(name):
        if name not in cache:
            tmp = tmp_path_factory.mktemp(name)
            cache[name] = (tmp, *_run('torch', name, tmp))
        return cache[name]
    return get


def _params():
    return [pytest.param(name, mode, marks=marks, id=f'{name}-{mode}')
            for name, (_, _, _, marks) in CASES.items() for mode in ('alias', 'imports')]


@pytest.mark.parametrize('name,mode', _params())
def test_program_matches_pytorch_step_by_step(torch_runs, name, mode):
    tmp, expected, _ = torch_runs(name)
    assert len(expected) == CASES[name][2]
    losses, _ = _run(mode, name, tmp)
    assert losses.shape == expected.shape
    np.testing.assert_allclose(losses, expected, rtol=1e-10, atol=1e-12)


def test_change_imports_changes_import_lines_only():
    src = ('import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n'
           'from torch import nn, optim, Tensor\nfrom torch.utils.data import DataLoader\n'
           '    import torch.optim as optim\nx = torch.zeros(3)  # import torch\n')
    assert change_imports(src) == (
        'import autograd as torch\nimport nn as nn\nimport nn.functional as F\n'
        'import nn\nimport optim\nfrom autograd import Tensor\n'
        'from autograd.utils.data import DataLoader\n'
        '    import optim as optim\nx = torch.zeros(3)  # import torch\n')
