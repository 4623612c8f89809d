"""DLPack: tensors pass to and from NumPy, PyTorch and CuPy without copies.

CPU tensors are made with ``device='cpu'``: the suite also runs with a cuda default device.
"Without a copy" is checked by writing through one side and reading the other.
"""
import numpy as np
import pytest

import autograd
from autograd.dlpack import from_dlpack
from oracle import torch


def test_from_numpy_array_shares_memory():
    a = np.arange(6.0).reshape(2, 3)
    t = from_dlpack(a)
    assert t.shape == (2, 3) and t.dtype == autograd.float64 and t.device == 'cpu'
    t[0, 1] = -1.0
    assert a[0, 1] == -1.0


def test_numpy_reads_a_tensor_without_a_copy():
    t = autograd.arange(4, dtype=autograd.int32, device='cpu')
    a = np.from_dlpack(t)
    a[2] = 40
    assert t.tolist() == [0, 1, 40, 3] and a.dtype == np.int32


def test_pytorch_reads_a_tensor_without_a_copy():
    t = autograd.zeros(2, 3, device='cpu')
    theirs = torch.from_dlpack(t)
    theirs[1, 2] = 5.0
    assert t[1, 2].item() == 5.0 and theirs.dtype == torch.float32


def test_from_pytorch_tensor_shares_memory():
    theirs = torch.arange(5, dtype=torch.float64)
    t = from_dlpack(theirs)
    theirs[0] = 9.0
    assert t.tolist() == [9.0, 1.0, 2.0, 3.0, 4.0] and t.dtype == autograd.float64


def test_strided_views_keep_their_layout():
    t = autograd.arange(12.0, device='cpu').reshape(3, 4).T[1:]      # non-contiguous
    np.testing.assert_array_equal(np.from_dlpack(t), t.numpy())
    np.testing.assert_array_equal(torch.from_dlpack(t).numpy(), t.numpy())
    back = from_dlpack(torch.arange(12.0).reshape(3, 4).T)
    assert back.tolist() == torch.arange(12.0).reshape(3, 4).T.tolist()


def test_dlpack_device_of_a_cpu_tensor():
    kind, index = autograd.ones(1, device='cpu').__dlpack_device__()
    assert (int(kind), int(index)) == (1, 0)                 # kDLCPU


def test_from_dlpack_of_a_tensor_shares_it():
    t = autograd.ones(3, device='cpu')
    u = from_dlpack(t)
    u[0] = 2.0
    assert t.tolist() == [2.0, 1.0, 1.0]


def test_tensor_that_requires_grad_cannot_be_exported():
    # as PyTorch: BufferError, use .detach()
    with pytest.raises(BufferError, match='detach'):
        np.from_dlpack(autograd.ones(2, requires_grad=True, device='cpu'))
    with pytest.raises(BufferError, match='detach'):
        torch.utils.dlpack.from_dlpack(torch.ones(2, requires_grad=True))
    assert np.from_dlpack(autograd.ones(2, device='cpu', requires_grad=True).detach()).shape == (2,)


def test_object_without_the_protocol_is_refused_as_pytorch():
    with pytest.raises(RuntimeError):
        torch.from_dlpack([1.0, 2.0])
    with pytest.raises(RuntimeError, match='DLPack protocol.*list'):
        from_dlpack([1.0, 2.0])


def test_unsupported_dtype_is_refused():
    with pytest.raises(TypeError, match='uint16'):
        from_dlpack(np.zeros(2, np.uint16))


def test_complex_is_taken():
    t = from_dlpack(np.array([1 + 2j], np.complex64))
    assert t.dtype is autograd.complex64 and t.tolist() == [1 + 2j]


def test_copy_and_device_arguments():
    a = np.zeros(2)
    t = from_dlpack(a, copy=True)
    t[0] = 1.0
    assert a[0] == 0.0
    assert from_dlpack(a, device='cpu').device == 'cpu'


# ----------------------------------------------------------------------------- cuda

def test_cuda_tensor_reports_its_dlpack_device(cuda):
    kind, index = autograd.ones(1, device='cuda').__dlpack_device__()
    assert (int(kind), int(index)) == (2, cuda.index)        # kDLCUDA


def test_cupy_array_is_wrapped_without_a_copy(cuda):
    import cupy                     # the real one, or the stand-in in CI
    arr = cupy.arange(4, dtype=cupy.float32)
    t = from_dlpack(arr)
    assert t.device == cuda and t.dtype == autograd.float32
    t[0] = 5.0
    assert arr.tolist() == [5.0, 1.0, 2.0, 3.0]


def test_cupy_reads_a_cuda_tensor_without_a_copy(gpu):
    import cupy
    t = autograd.zeros(3, device='cuda')
    arr = cupy.from_dlpack(t)
    arr[2] = 7.0
    assert t.tolist() == [0.0, 0.0, 7.0]
