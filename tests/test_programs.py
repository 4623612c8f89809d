"""Real public PyTorch programs (tests/programs/<name>/, each with its source and license in
its header, reduced in size only) run three ways, each in its own process
(tests/programs/drive.py): under PyTorch, under ``python -m autograd.run``'s mapping
unchanged, and with only their import lines changed to this project's packages.  All start
from PyTorch's initial weights and the same random draws, in float64; the loss of every
``backward()`` agrees with PyTorch's step by step."""
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
pytestmark = pytest.mark.slow       # each test runs a whole program, three times

# makemore logs through torch.utils.tensorboard.SummaryWriter: here
# autograd.utils.tensorboard, which comes with the branch `onnx`
TENSORBOARD = pytest.mark.skipif(
    importlib.util.find_spec('autograd.utils.tensorboard') is None,
    reason='needs autograd.utils.tensorboard (SummaryWriter, branch onnx)')
# word_language_model imports torch.onnx: autograd.onnx, which comes with the branch `onnx`
ONNX = pytest.mark.skipif(importlib.util.find_spec('autograd.onnx') is None,
                          reason='needs autograd.onnx (branch onnx)')

# test id: (program folder, entry file, arguments, backward() calls, dtype, marks)
# --no-accel: with an accelerator mnist/main.py also shuffles; PyTorch here has none
MNIST_ARGS = ['--batch-size', '32', '--epochs', '2', '--test-batch-size', '32', '--no-accel']
MAKEMORE = ['--input-file', 'names.txt', '--work-dir', 'out', '--num-workers', '0',
            '--max-steps', '4', '--n-layer', '2', '--n-embd', '16', '--n-embd2', '16',
            '--batch-size', '8']
WLM = ['--data', 'data', '--epochs', '1', '--bptt', '10', '--batch_size', '8', '--emsize',
       '16', '--nhid', '16', '--nlayers', '2', '--dropout', '0', '--save', 'model.pt']
NANOGPT = ['--device=cpu', '--dtype=float32', '--compile=False', '--dataset=names_char',
           '--n_layer=2', '--n_head=2', '--n_embd=16', '--block_size=16', '--batch_size=4',
           '--max_iters=3', '--eval_iters=2', '--eval_interval=2',
           '--gradient_accumulation_steps=2', '--warmup_iters=2', '--lr_decay_iters=3',
           '--learning_rate=0.001', '--min_lr=0.0001']
DCGAN = ['--dataset', 'mnist', '--dataroot', 'data', '--batchSize', '32', '--niter', '1',
         '--ngf', '4', '--ndf', '4', '--nz', '8', '--workers', '0', '--manualSeed', '1',
         '--outf', 'out']
CASES = {
    'pytorch_mnist': ('pytorch_mnist', 'main.py', MNIST_ARGS, 8, 'float64', ()),
    'pytorch_vae': ('pytorch_vae', 'main.py', ['--batch-size', '32', '--epochs', '2'], 8,
                    'float64', ()),
    'pytorch_regression': ('pytorch_regression', 'main.py', [], 356, 'float64', ()),
    'yunjey_linear_regression': ('yunjey_linear_regression', 'main.py', [], 60, 'float32',
                                 ()),
    'yunjey_logistic_regression': ('yunjey_logistic_regression', 'main.py', [], 4,
                                   'float64', ()),
    'yunjey_feedforward_neural_network': ('yunjey_feedforward_neural_network', 'main.py',
                                          [], 4, 'float64', ()),
    'yunjey_convolutional_neural_network': ('yunjey_convolutional_neural_network',
                                            'main.py', [], 4, 'float64', ()),
    'yunjey_recurrent_neural_network': ('yunjey_recurrent_neural_network', 'main.py', [],
                                        4, 'float64', ()),
    **{f'karpathy_makemore_{kind}': ('karpathy_makemore', 'makemore.py',
                                     MAKEMORE + ['--type', kind], 4, 'float64', TENSORBOARD)
       for kind in ('bigram', 'mlp', 'rnn', 'gru', 'bow', 'transformer')},
    # (--model Transformer is not compared: nn.Transformer's attention dropout, 0.1 fixed by
    # the program, draws inside PyTorch's C++ kernel, out of the shared random stream)
    **{f'pytorch_word_language_model_{kind}': ('pytorch_word_language_model', 'main.py',
                                               WLM + ['--model', kind], 13, 'float64', ONNX)
       for kind in ('LSTM', 'GRU', 'RNN_TANH')},
    'morvan_regression': ('morvan_regression', 'main.py', [], 20, 'float64', ()),
    'morvan_classification': ('morvan_classification', 'main.py', [], 20, 'float32', ()),
    'morvan_GAN': ('morvan_GAN', 'main.py', [], 40, 'float32', ()),
    'morvan_dropout': ('morvan_dropout', 'main.py', [], 40, 'float64', ()),
    'karpathy_mingpt_adder': ('karpathy_mingpt_adder', 'adder.py',
                              ['--data.ndigit=1', '--trainer.max_iters=4',
                               '--trainer.num_workers=0', '--trainer.batch_size=16',
                               '--system.work_dir=out'], 4, 'float64', ()),
    # karpathy/nanoGPT's train.py: 4 iterations of 2 micro-steps (a checkpoint saved at 2)
    'karpathy_nanogpt': ('karpathy_nanogpt', 'train.py', NANOGPT, 8, 'float64', ()),
    # pytorch/tutorials: the polynomial fits run their 2000 steps as written
    'tutorials_polynomial_nn': ('tutorials_polynomial_nn', 'main.py', [], 2000, 'float64', ()),
    'tutorials_polynomial_optim': ('tutorials_polynomial_optim', 'main.py', [], 2000,
                                   'float64', ()),
    'tutorials_polynomial_custom_function': ('tutorials_polynomial_custom_function', 'main.py',
                                             [], 2000, 'float32', ()),
    'tutorials_quickstart': ('tutorials_quickstart', 'main.py', [], 10, 'float64', ()),
    'tutorials_optimization': ('tutorials_optimization', 'main.py', [], 20, 'float64', ()),
    # pytorch/examples' DCGAN on MNIST resized to 64x64: one epoch, 4 batches of 3 backwards
    'pytorch_dcgan': ('pytorch_dcgan', 'main.py', DCGAN, 12, 'float64', ()),
}


def _run(mode, name, tmp_path):
    folder, entry, args, _, dtype, _ = CASES[name]
    out = tmp_path / f'{mode}.json'
    env = dict(os.environ, PROGRAM_DTYPE=dtype, MPLBACKEND='Agg')
    # A program chooses its device itself (`'cuda' if torch.cuda.is_available() else
    # 'cpu'`, torch.accelerator ...): on the cuda leg (CuPy stand-in) ours then runs on
    # `cuda`; the default device stays the CPU's, as in PyTorch, since the programs call
    # .numpy() on tensors they made without a device.
    env.pop('AUTOGRAD_DEVICE', None)
    proc = subprocess.run(
        [sys.executable, os.path.join(PROGRAMS, 'drive.py'), mode, str(out),
         str(tmp_path / 'weights.npz'), os.path.join(PROGRAMS, folder), entry, *args],
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
