"""The NCCL backend: ``cupy.cuda.nccl`` on CuPy's current stream, for ``cuda`` tensors.

The communicator is built from a unique id that rank 0 draws and MPI broadcasts (as
ChainerMN does), so jobs start with ``mpirun`` here too.  Operations are enqueued on the
current stream; ``Work.wait()`` makes the current stream wait for them (an event), never
the host: as PyTorch's NCCL backend, nothing here reads device memory from the host, and
the group's timeout is therefore not enforced on NCCL operations (only on the MPI
bootstrap and ``barrier``).  Same interface as ``_mpi.Communicator``.
"""
from ._common import ReduceOp

_module = None          # cupy.cuda.nccl (the tests put a stand-in here)

_TYPES = {'float16': 'NCCL_FLOAT16', 'float32': 'NCCL_FLOAT32', 'float64': 'NCCL_FLOAT64',
          'int8': 'NCCL_INT8', 'uint8': 'NCCL_UINT8', 'bool': 'NCCL_UINT8',
          'int32': 'NCCL_INT32', 'int64': 'NCCL_INT64'}
_OPS = {ReduceOp.SUM: 'NCCL_SUM', ReduceOp.AVG: 'NCCL_SUM', ReduceOp.PRODUCT: 'NCCL_PROD',
        ReduceOp.MIN: 'NCCL_MIN', ReduceOp.MAX: 'NCCL_MAX'}


def nccl():
    global _module
    if _module is None:
        try:
            from cupy.cuda import nccl as module
        except ImportError as e:
            raise RuntimeError("the nccl backend needs CuPy with NCCL: pip install "
                               "'autograd-engine[gpu]' (cupy-cuda12x and nvidia-nccl-cu12)") from e
        _module = module
    return _module


def available():
    try:
        nccl()
    except RuntimeError:
        return False
    return True


def _cupy():
    import cupy
    return cupy


class Communicator:

    def __init__(self, host, timeout=None):
        self.host = host                # the MPI communicator: bootstrap and barrier
        self.rank, self.size = host.rank, host.size
        self.timeout = timeout
        m = nccl()
        uid = m.get_unique_id() if host.rank == 0 else None
        uid = host.mpi.bcast(uid, root=0)
        self.comm = m.NcclCommunicator(self.size, uid, self.rank)

    # ------------------------------------------------------------------------- helpers
    @staticmethod
    def _type(a):
        name = _TYPES.get(a.dtype.name)
        if name is None:
            raise TypeError(f'the nccl backend cannot communicate {a.dtype} tensors')
        return getattr(nccl(), name)

    def _op(self, op, a):
        if op not in _OPS:
            raise RuntimeError(f'the nccl backend has no ReduceOp.{op.name}')
        if op is ReduceOp.AVG and hasattr(nccl(), 'NCCL_AVG') and a.dtype.kind == 'f':
            return nccl().NCCL_AVG, None
        after = None
        if op is ReduceOp.AVG:
            def after():
                if a.dtype.kind == 'f':
                    a[...] /= self.size
                else:
                    a[...] //= self.size
        return getattr(nccl(), _OPS[op]), after

    @staticmethod
    def _stream():
        return _cupy().cuda.get_current_stream()

    @staticmethod
    def _ptr(stream):
        return getattr(stream, 'ptr', 0)

    def _enqueued(self, stream, after=None):
        """The (wait, test) of what was just enqueued on ``stream``: an event."""
        if after is not None:
            after()                     # CuPy enqueues it on the current stream too
        cupy = _cupy()
        event = cupy.cuda.Event()
        event.record(stream)

        def wait(timeout):
            cupy.cuda.get_current_stream().wait_event(event)
        return wait, lambda: event.done

    # ------------------------------------------------------------------------- operations
    def allreduce(self, a, op):
        s = self._stream()
        nop, after = self._op(op, a)
        self.comm.allReduce(a.data.ptr, a.data.ptr, a.size, self._type(a), nop, self._ptr(s))
        return self._enqueued(s, after)

    def broadcast(self, a, root):
        s = self._stream()
        self.comm.bcast(a.data.ptr, a.size, self._type(a), root, self._ptr(s))
        return self._enqueued(s)

    def reduce(self, a, root, op):
        s = self._stream()
        nop, after = self._op(op, a)
        self.comm.reduce(a.data.ptr, a.data.ptr, a.size, self._type(a), nop, root,
                         self._ptr(s))
        return self._enqueued(s, after if self.rank == root else None)

    def allgather(self, out, a):
        s = self._stream()
        self.comm.allGather(a.data.ptr, out.data.ptr, a.size, self._type(a), self._ptr(s))
        return self._enqueued(s)

    def reduce_scatter(self, out, a, op):
        s = self._stream()
        nop, after = self._op(op, out)
        self.comm.reduceScatter(a.data.ptr, out.data.ptr, out.size, self._type(a), nop,
                                self._ptr(s))
        return self._enqueued(s, after)

    def gather(self, out, a, root):
        s, m = self._stream(), nccl()
        m.groupStart()
        self.comm.send(a.data.ptr, a.size, self._type(a), root, self._ptr(s))
        if self.rank == root:
            for peer in range(self.size):
                self.comm.recv(out[peer].data.ptr, a.size, self._type(a), peer, self._ptr(s))
        m.groupEnd()
        return self._enqueued(s)

    def scatter(self, a, flat, root):
        s, m = self._stream(), nccl()
        m.groupStart()
        if self.rank == root:
            for peer in range(self.size):
                self.comm.send(flat[peer].data.ptr, a.size, self._type(a), peer, self._ptr(s))
        self.comm.recv(a.data.ptr, a.size, self._type(a), root, self._ptr(s))
        m.groupEnd()
        return self._enqueued(s)

    def barrier(self):
        self._stream().synchronize()    # PyTorch's NCCL barrier also waits for the device
        return self.host.barrier()

    def send(self, a, peer, tag):
        s = self._stream()
        self.comm.send(a.data.ptr, a.size, self._type(a), peer, self._ptr(s))
        return self._enqueued(s)

    def recv(self, a, peer, tag, status):
        if peer is None:
            raise ValueError('recv: the nccl backend needs the source rank (no receive '
                             'from any source)')
        s = self._stream()
        self.comm.recv(a.data.ptr, a.size, self._type(a), peer, self._ptr(s))
        status['source'] = peer
        return self._enqueued(s)

    def split(self, ranks):
        host = self.host.split(ranks)
        return None if host is None else Communicator(host, self.timeout)

    def free(self):
        self.comm.destroy()
        self.host.free()
