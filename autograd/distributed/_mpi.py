"""The MPI backend: mpi4py's buffer methods on NumPy arrays, non-blocking (``I*``) so that
every wait can honour the group's timeout and ``async_op`` can overlap."""
import os
import sys

from ._common import ReduceOp, poll

_MPI = None
_INSTALL_HINT = ("pip install 'autograd-engine[distributed]' (mpi4py and the mpich wheel, "
                 'which puts mpirun beside Python)')
# Environment variables by which common launchers announce the size of the job.
_LAUNCHER_SIZE = ('PMI_SIZE', 'OMPI_COMM_WORLD_SIZE', 'MPI_LOCALNRANKS', 'PMIX_SIZE',
                  'WORLD_SIZE')


def mpi():
    global _MPI
    if _MPI is None:
        try:
            from mpi4py import MPI
        except ImportError as e:
            raise RuntimeError(f'the mpi backend needs mpi4py: {_INSTALL_HINT}') from e
        _MPI = MPI
    return _MPI


def available():
    try:
        mpi()
    except RuntimeError:
        return False
    return True


def world():
    """COMM_WORLD as a Communicator, after checking that the launcher and mpi4py agree."""
    MPI = mpi()
    comm = MPI.COMM_WORLD
    if comm.Get_size() == 1:
        for var in _LAUNCHER_SIZE:
            value = os.environ.get(var, '')
            if value.isdigit() and int(value) > 1:
                raise RuntimeError(
                    f'init_process_group: the launcher announced {var}={value} processes, '
                    f'but MPI sees a world of 1: start the job with the mpirun of the MPI '
                    f'that mpi4py was built against ({MPI.Get_library_version().splitlines()[0]}'
                    f'), e.g. `{os.path.dirname(sys.executable)}/mpirun -np {value} python -m '
                    'mpi4py script.py`; torchrun is not an MPI launcher')
    return Communicator(comm)


def abort_on_uncaught_exception():
    """An uncaught exception in any rank (main thread or another) ends the whole job, so
    no peer waits forever in a collective: print it, then ``MPI_Abort``."""
    MPI = mpi()
    if getattr(sys.excepthook, '_aborts_mpi', False):
        return
    previous = sys.excepthook

    def hook(kind, value, tb):
        previous(kind, value, tb)
        sys.stderr.flush()
        if MPI.Is_initialized() and not MPI.Is_finalized():
            MPI.COMM_WORLD.Abort(1)
    hook._aborts_mpi = True
    sys.excepthook = hook

    import threading
    previous_thread = threading.excepthook

    def thread_hook(args):
        previous_thread(args)
        sys.stderr.flush()
        if MPI.Is_initialized() and not MPI.Is_finalized():
            MPI.COMM_WORLD.Abort(1)
    threading.excepthook = thread_hook


_OPS = {ReduceOp.SUM: 'SUM', ReduceOp.AVG: 'SUM', ReduceOp.PRODUCT: 'PROD',
        ReduceOp.MIN: 'MIN', ReduceOp.MAX: 'MAX', ReduceOp.BAND: 'BAND', ReduceOp.BOR: 'BOR',
        ReduceOp.BXOR: 'BXOR'}
_BOOL_OPS = {ReduceOp.SUM: 'LOR', ReduceOp.MAX: 'LOR', ReduceOp.BOR: 'LOR', ReduceOp.AVG: 'LOR',
             ReduceOp.PRODUCT: 'LAND', ReduceOp.MIN: 'LAND', ReduceOp.BAND: 'LAND',
             ReduceOp.BXOR: 'LXOR'}


class Communicator:
    """One MPI communicator; each method starts an operation and returns ``(wait, test)``:
    ``wait(timeout)`` finishes it, ``test()`` says whether it has finished."""

    def __init__(self, comm):
        self.mpi = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()

    def _reduction(self, op, a):
        MPI = mpi()
        if a.dtype.kind == 'b':
            return getattr(MPI, _BOOL_OPS[op])
        if a.dtype.kind == 'f' and op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR):
            raise RuntimeError(f'Cannot use ReduceOp.{op.name} with floating-point tensors')
        return getattr(MPI, _OPS[op])

    def _finish(self, reqs, what, after=None):
        MPI = mpi()
        test = (lambda: MPI.Request.Testall(reqs)) if len(reqs) > 1 else reqs[0].Test

        def wait(timeout):
            poll(test, timeout, what)
            if after is not None:
                after()
        return wait, test

    def _average(self, a, op):
        if op is not ReduceOp.AVG or a.dtype.kind == 'b':
            return None

        def divide():
            if a.dtype.kind == 'f':
                a[...] /= self.size
            else:
                a[...] //= self.size
        return divide

    def allreduce(self, a, op):
        MPI = mpi()
        req = self.mpi.Iallreduce(MPI.IN_PLACE, a, self._reduction(op, a))
        return self._finish([req], 'all_reduce', self._average(a, op))

    def broadcast(self, a, root):
        return self._finish([self.mpi.Ibcast(a, root)], 'broadcast')

    def reduce(self, a, root, op):
        MPI = mpi()
        if self.rank == root:
            req = self.mpi.Ireduce(MPI.IN_PLACE, a, self._reduction(op, a), root)
            return self._finish([req], 'reduce', self._average(a, op))
        req = self.mpi.Ireduce(a, None, self._reduction(op, a), root)
        return self._finish([req], 'reduce')

    def allgather(self, out, a):
        return self._finish([self.mpi.Iallgather(a, out)], 'all_gather')

    def reduce_scatter(self, out, a, op):
        req = self.mpi.Ireduce_scatter_block(a, out, self._reduction(op, a))
        return self._finish([req], 'reduce_scatter_tensor', self._average(out, op))

    def gather(self, out, a, root):
        return self._finish([self.mpi.Igather(a, out, root)], 'gather')

    def scatter(self, a, flat, root):
        return self._finish([self.mpi.Iscatter(flat, a, root)], 'scatter')

    def barrier(self):
        return self._finish([self.mpi.Ibarrier()], 'barrier')

    def send(self, a, peer, tag):
        return self._finish([self.mpi.Isend(a, peer, tag)], 'send')

    def recv(self, a, peer, tag, status):
        MPI = mpi()
        req = self.mpi.Irecv(a, MPI.ANY_SOURCE if peer is None else peer, tag)
        st = MPI.Status()

        def test():
            done = req.Test(st)
            if done:
                status['source'] = st.Get_source()
            return done

        def wait(timeout):
            poll(test, timeout, 'recv')
        return wait, test

    def split(self, ranks):
        """The communicator of ``ranks`` (every rank calls this; None outside them)."""
        MPI = mpi()
        member = self.rank in ranks
        comm = self.mpi.Split(0 if member else MPI.UNDEFINED,
                              ranks.index(self.rank) if member else 0)
        return Communicator(comm) if member else None

    def free(self):
        if self.mpi != mpi().COMM_WORLD:
            self.mpi.Free()
