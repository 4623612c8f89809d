"""Fixtures of the device tests: the cuda device (a GPU, or the CuPy stand-in in CI)."""
import os
import sys

import pytest

import autograd
import autograd.cuda
from device_helpers import stand_in_active

# the shared oracle lives one folder up (tests/oracle.py)
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def cuda():
    """The current cuda device; skips where there is neither a GPU nor the stand-in."""
    if not autograd.cuda.is_available():
        pytest.skip('no cuda device: no GPU, and the CuPy stand-in is off '
                    '(run with CUNUMPY_FAKE_CUPY=1 to use it)')
    return autograd.device('cuda', autograd.cuda.current_device())


@pytest.fixture
def gpu(cuda):
    """A real GPU (real CuPy kernels); skips under the stand-in."""
    if stand_in_active():
        pytest.skip('needs a real GPU: the CuPy stand-in runs no kernels')
    return cuda
