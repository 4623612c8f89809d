"""tools/gpu_check.py, the one-go GPU run (suite on cuda + benchmark against PyTorch CUDA),
works on the CuPy stand-in, where CI can run it."""
import os
import subprocess
import sys

import pytest

from device_helpers import ROOT


@pytest.mark.slow
def test_gpu_check_runs_the_suite_and_the_benchmark_on_the_stand_in():
    env = {k: v for k, v in os.environ.items()
           if k not in ('AUTOGRAD_DEVICE', 'CUNUMPY_FAKE_CUPY', 'PYTHONPATH')}
    test = 'tests/cuda/test_sync_counts.py::test_mlp_cross_entropy_sgd_momentum'
    res = subprocess.run(
        [sys.executable, 'tools/gpu_check.py', '--stand-in', '--quick', '-r', '1',
         '--tests', test, 'tiny-chain', 'char-mlp'],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    out = res.stdout
    assert '1 passed' in out
    rows = [line for line in out.splitlines() if line.startswith('| ') and 'workload' not in line]
    assert [r.split(' | ')[0] for r in rows] == ['| tiny-chain', '| char-mlp']
    # PyTorch here has no CUDA build: its column says so; no step made the host wait
    assert all(r.endswith('| n/a | n/a | 0 |') for r in rows), rows


def test_gpu_check_fails_when_the_suite_fails():
    env = {k: v for k, v in os.environ.items()
           if k not in ('AUTOGRAD_DEVICE', 'CUNUMPY_FAKE_CUPY', 'PYTHONPATH')}
    res = subprocess.run(
        [sys.executable, 'tools/gpu_check.py', '--stand-in', '--no-bench', '--tests',
         'tests/cuda/test_gpu_script.py::no_such_test'],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode != 0
