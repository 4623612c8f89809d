"""PyTorch programs run three ways, each in its own process (tests/programs/drive.py):
under PyTorch, under ``python -m autograd.run``'s mapping unchanged, and with only their
import lines changed to this project's packages.  All start from PyTorch's initial weights
and the same random draws, in float64 (or float32 where said); the loss of every
``backward()`` agrees with PyTorch's step by step.

Two sets of programs:

- this project's own (tests/programs/own_*/, written for these tests, in the repository):
  always run;
- public third-party programs (pytorch/examples, pytorch/tutorials, karpathy's, yunjey's,
  MorvanZhou's, reduced in size only), which are NOT part of the repository.
  tests/programs/manifest.json identifies each (repository, commit or branch, file paths
  and sha256 of the checked copy, licence, entry file, arguments, backward() count,
  dtype).  They run only from a local copy: set ``AUTOGRAD_PROGRAMS_DIR`` to a folder laid
  out as ``<dir>/<program>/<path>`` (the manifest's ``programs`` and ``files``); without
  it, or where a program is missing there, their tests skip and say so."""
import importlib.util
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

with open(os.path.join(PROGRAMS, 'manifest.json')) as _fh:
    MANIFEST = json.load(_fh)
PUBLIC_DIR = os.environ.get('AUTOGRAD_PROGRAMS_DIR')


def _public_missing(program):
    """Why a public program cannot run here (None when its local copy is complete)."""
    how = ('third-party programs are not part of this repository; to run them, set '
           'AUTOGRAD_PROGRAMS_DIR to a local copy laid out as <dir>/<program>/<file> as '
           'tests/programs/manifest.json lists them')
    if not PUBLIC_DIR:
        return f'AUTOGRAD_PROGRAMS_DIR is not set: {how}'
    files = [f['path'] for f in MANIFEST['programs'][program]['files']]
    missing = [f for f in files
               if not os.path.isfile(os.path.join(PUBLIC_DIR, program, f))]
    if missing:
        return (f'{program} is missing from AUTOGRAD_PROGRAMS_DIR={PUBLIC_DIR} '
                f'({", ".join(missing)}): {how}')
    return None


def _needs(modules):
    lacking = [m for m in modules if importlib.util.find_spec(m) is None]
    return [pytest.mark.skipif(True, reason=f'needs {", ".join(lacking)}')] if lacking else []


# test id: (program folder, entry file, arguments, backward() calls, dtype, marks)
CASES = {}
for _name, _c in MANIFEST['cases'].items():
    _why = _public_missing(_c['program'])
    CASES[_name] = (os.path.join(PUBLIC_DIR or '', _c['program']), _c['entry'], _c['args'],
                    _c['backward_calls'], _c['dtype'],
                    [pytest.mark.slow, *_needs(_c['needs_modules'])]
                    + ([pytest.mark.skip(reason=_why)] if _why else []))

# this project's own programs, written for these tests (tests/programs/own_*/); the ones
# that take longer than ~15 s a run (on a loaded 2-core machine) are marked slow
SLOW = [pytest.mark.slow]
OWN_CASES = {
    # Conv2d, Dropout, max_pool2d, nll_loss, Adadelta + StepLR, torch.accelerator device
    'own_cnn': ('own_cnn', 'main.py', ['--epochs', '2'], 8, 'float64', []),
    # reparameterisation (randn_like), binary_cross_entropy + KL, Adam, shuffled DataLoader
    'own_vae': ('own_vae', 'main.py', ['--epochs', '2'], 8, 'float64', []),
    # word-level 2-layer LSTM, truncated BPTT, clip_grad_norm_, torch.save/load whole model
    'own_word_lm': ('own_word_lm', 'main.py', [], 5, 'float64', []),
    # causal self-attention (SDPA and by hand), weight tying, AdamW groups, cosine LambdaLR
    'own_gpt': ('own_gpt', 'main.py', [], 6, 'float64', []),
    # torch.autograd.Function (save_for_backward, needs_input_grad), gradcheck, manual SGD
    'own_custom_function': ('own_custom_function', 'main.py', [], 40, 'float64', []),
    # DCGAN: ConvTranspose2d, BatchNorm2d, BCELoss, two Adams; 4 batches of 3 backwards
    'own_dcgan': ('own_dcgan', 'main.py', [], 12, 'float64', SLOW),
}
for _name, (_folder, *_rest) in OWN_CASES.items():
    CASES[_name] = (os.path.join(PROGRAMS, _folder), *_rest)


def _run(mode, name, tmp_path):
    folder, entry, args, _, dtype, _ = CASES[name]     # folder: an absolute path
    out = tmp_path / f'{mode}.json'
    env = dict(os.environ, PROGRAM_DTYPE=dtype, MPLBACKEND='Agg')
    # A program chooses its device itself (`'cuda' if torch.cuda.is_available() else
    # 'cpu'`, torch.accelerator ...): on the cuda leg (CuPy stand-in) ours then runs on
    # `cuda`; the default device stays the CPU's, as in PyTorch, since the programs call
    # .numpy() on tensors they made without a device.
    env.pop('AUTOGRAD_DEVICE', None)
    proc = subprocess.run(
        [sys.executable, os.path.join(PROGRAMS, 'drive.py'), mode, str(out),
         str(tmp_path / 'weights.npz'), folder, entry, *args],
        capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
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
            for name, (*_, marks) in CASES.items() for mode in ('alias', 'imports')]


@pytest.mark.parametrize('name,mode', _params())
def test_program_matches_pytorch_step_by_step(torch_runs, name, mode):
    tmp, expected, _ = torch_runs(name)
    assert len(expected) == CASES[name][3]
    losses, _ = _run(mode, name, tmp)
    assert losses.shape == expected.shape
    print(f'{name} ({mode}): {len(losses)} losses, max |ours - PyTorch| = '
          f'{np.abs(losses - expected).max():.1e}')         # for the README's table (-rA)
    rtol = {'float64': 1e-10, 'float32': 1e-5}[CASES[name][4]]
    np.testing.assert_allclose(losses, expected, rtol=rtol, atol=rtol / 100)


def test_change_imports_changes_import_lines_only():
    src = ('import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n'
           'from torch import nn, optim, Tensor\nfrom torch.utils.data import DataLoader\n'
           '    import torch.optim as optim\nx = torch.zeros(3)  # import torch\n')
    assert change_imports(src) == (
        'import autograd as torch\nimport nn as nn\nimport nn.functional as F\n'
        'import nn\nimport optim\nfrom autograd import Tensor\n'
        'from autograd.utils.data import DataLoader\n'
        '    import optim as optim\nx = torch.zeros(3)  # import torch\n')
