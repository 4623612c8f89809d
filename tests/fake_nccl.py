"""A stand-in for ``cupy.cuda.nccl`` over MPI, for the NCCL backend's plumbing test on the
CuPy stand-in (whose arrays live in host memory): the same calls, by pointer, as
``cupy.cuda.nccl.NcclCommunicator`` takes them; point-to-point calls between
``groupStart()`` and ``groupEnd()`` are posted non-blocking and completed at ``groupEnd``."""
import ctypes

import numpy as np
from mpi4py import MPI

NCCL_FLOAT16, NCCL_FLOAT32, NCCL_FLOAT64 = np.float16, np.float32, np.float64
NCCL_INT8, NCCL_UINT8, NCCL_INT32, NCCL_INT64 = np.int8, np.uint8, np.int32, np.int64
NCCL_SUM, NCCL_PROD, NCCL_MIN, NCCL_MAX = MPI.SUM, MPI.PROD, MPI.MIN, MPI.MAX
CALLS = []                  # (method, count) of every call, for the test to inspect
_group = None


def get_unique_id():
    return (b'fake-nccl-id',)


def groupStart():
    global _group
    _group = []


def groupEnd():
    global _group
    MPI.Request.Waitall(_group)
    _group = None


def _view(ptr, count, dtype):
    size = count * np.dtype(dtype).itemsize
    return np.ctypeslib.as_array((ctypes.c_char * size).from_address(ptr)).view(dtype)


class NcclCommunicator:
    def __init__(self, ndev, uid, rank):
        assert uid == get_unique_id() and ndev == MPI.COMM_WORLD.size
        self.comm = MPI.COMM_WORLD
        assert rank == self.comm.rank

    def allReduce(self, send, recv, count, dtype, op, stream):
        CALLS.append(('allReduce', count))
        data = _view(send, count, dtype).copy()
        self.comm.Allreduce(data, _view(recv, count, dtype), op)

    def bcast(self, buf, count, dtype, root, stream):
        CALLS.append(('bcast', count))
        self.comm.Bcast(_view(buf, count, dtype), root)

    def reduce(self, send, recv, count, dtype, op, root, stream):
        CALLS.append(('reduce', count))
        data = _view(send, count, dtype).copy()
        out = _view(recv, count, dtype) if self.comm.rank == root else None
        self.comm.Reduce(data, out, op, root)

    def allGather(self, send, recv, count, dtype, stream):
        CALLS.append(('allGather', count))
        self.comm.Allgather(_view(send, count, dtype).copy(),
                            _view(recv, count * self.comm.size, dtype))

    def reduceScatter(self, send, recv, count, dtype, op, stream):
        CALLS.append(('reduceScatter', count))
        self.comm.Reduce_scatter_block(_view(send, count * self.comm.size, dtype).copy(),
                                       _view(recv, count, dtype), op)

    def send(self, buf, count, dtype, peer, stream):
        CALLS.append(('send', count))
        req = self.comm.Isend(_view(buf, count, dtype), peer)
        (_group.append(req) if _group is not None else req.Wait())

    def recv(self, buf, count, dtype, peer, stream):
        CALLS.append(('recv', count))
        req = self.comm.Irecv(_view(buf, count, dtype), peer)
        (_group.append(req) if _group is not None else req.Wait())

    def destroy(self):
        pass
