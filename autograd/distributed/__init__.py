"""``autograd.distributed`` = ``torch.distributed``: process groups and collectives on
tensors, on an existing engine: MPI through mpi4py for CPU (NumPy) tensors, NCCL through
CuPy for ``cuda`` tensors.

Launch with the MPI of the environment mpi4py was built against::

    mpirun -np 2 python -m mpi4py train.py

``init_process_group()`` takes the rank and world size from the launcher.  Collectives
write into their tensors in place (and bump their version counters, as an in-place op
does); with ``async_op=True`` they return a :class:`Work` whose ``wait()`` finishes them.
Every wait honours the group's ``timeout``.  A rank whose script raises ends the whole
job (the MPI backend aborts ``COMM_WORLD``), so no rank waits forever for a dead peer.
"""
import datetime

from ..tensor import Tensor
from ..extend import array_of, increment_version
from . import _mpi
from ._common import DistBackendError, ReduceOp

__all__ = ['ReduceOp', 'Work', 'ProcessGroup', 'GroupMember', 'is_available',
           'is_initialized', 'is_mpi_available', 'is_nccl_available', 'init_process_group',
           'destroy_process_group', 'new_group', 'get_rank', 'get_world_size', 'get_backend',
           'barrier', 'all_reduce', 'broadcast', 'reduce', 'all_gather',
           'all_gather_into_tensor', 'reduce_scatter_tensor', 'gather', 'scatter', 'send',
           'recv', 'isend', 'irecv', 'Backend', 'DistBackendError']

default_pg_timeout = datetime.timedelta(minutes=30)


class Backend(str):
    """Backend names as ``torch.distributed.Backend``: ``'mpi'``, ``'nccl'``; ``'gloo'``
    (PyTorch's CPU backend) runs on MPI here."""
    MPI = 'mpi'
    NCCL = 'nccl'
    GLOO = 'gloo'

    def __new__(cls, name):
        name = str(name).lower()
        if name not in ('mpi', 'nccl', 'gloo'):
            raise ValueError(f"Invalid backend: '{name}' (this project has 'mpi' and 'nccl'; "
                             "'gloo' runs on MPI)")
        return super().__new__(cls, name)


class Work:
    """The handle of an asynchronous collective: ``wait()`` finishes it (and then the
    output tensors hold the result), ``is_completed()`` asks without waiting."""

    def __init__(self, wait, test=None, finish=None, result=None):
        self._wait, self._test, self._finish = wait, test, finish
        self._result = result
        self._done = False

    def wait(self, timeout=None):
        if not self._done:
            self._wait(timeout)
            self._done = True
            if self._finish is not None:
                self._finish()
        return True

    def is_completed(self):
        if not self._done and self._test is not None and self._test():
            self.wait()
        return self._done

    def result(self):
        self.wait()
        return self._result


class ProcessGroup:
    """A set of ranks and the communicator of one backend between them."""

    def __init__(self, backend, comm, ranks, timeout):
        self.backend = backend          # 'mpi' or 'nccl'
        self.comm = comm                # the backend's communicator object
        self.ranks = ranks              # global ranks, in group-rank order
        self.timeout = timeout

    def rank(self):
        return self.comm.rank

    def size(self):
        return self.comm.size

    def __repr__(self):
        return f'ProcessGroup(backend={self.backend!r}, ranks={self.ranks})'


class GroupMember:
    WORLD = None
    NON_GROUP_MEMBER = object()


_world = None                       # the default ProcessGroup


def is_available():
    return True


def is_mpi_available():
    return _mpi.available()


def is_nccl_available():
    from . import _nccl
    return _nccl.available()


def is_initialized():
    return _world is not None


def _group(group):
    if _world is None:
        raise ValueError('Default process group has not been initialized, please make sure '
                         'to call init_process_group.')
    if group is None or group is GroupMember.WORLD:
        return _world
    if group is GroupMember.NON_GROUP_MEMBER:
        raise ValueError('Invalid process group specified: this rank is not a member')
    return group


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name='', pg_options=None, device_id=None):
    """Join the job the launcher started: rank and size come from MPI (``mpirun``); a
    ``world_size``/``rank`` given must agree with them.  ``backend``: ``'mpi'`` (also for
    ``None`` and ``'gloo'``) or ``'nccl'`` (cuda tensors; its unique id travels over MPI)."""
    global _world
    if _world is not None:
        raise ValueError('trying to initialize the default process group twice!')
    name = Backend(backend or 'mpi')
    if timeout is None:
        timeout = default_pg_timeout
    if not isinstance(timeout, datetime.timedelta):
        raise TypeError(f'Expected timeout argument to be of type datetime.timedelta, got '
                        f'{type(timeout).__name__}')
    comm = _mpi.world()
    for what, given, actual in (('world_size', world_size, comm.size), ('rank', rank, comm.rank)):
        if given is not None and given != -1 and given != actual:
            raise ValueError(f'init_process_group: {what}={given} but the MPI launcher '
                             f'started this process with {what} {actual}')
    _mpi.abort_on_uncaught_exception()
    if name == 'nccl':
        from . import _nccl
        comm = _nccl.Communicator(comm, timeout)
    _world = ProcessGroup('nccl' if name == 'nccl' else 'mpi', comm,
                          list(range(comm.size)), timeout)
    GroupMember.WORLD = _world


def destroy_process_group(group=None):
    """Leave the default group (``group=None``) or free a subgroup."""
    global _world
    pg = _group(group)
    if pg is _world:
        _world = GroupMember.WORLD = None
    pg.comm.free()


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False):
    """A subgroup of the given global ranks (all ranks must call it, as in PyTorch).  On a
    rank outside it, returns ``GroupMember.NON_GROUP_MEMBER``."""
    world = _group(None)
    ranks = sorted(range(world.size())) if ranks is None else sorted(int(r) for r in ranks)
    bad = [r for r in ranks if not 0 <= r < world.size()]
    if bad or len(set(ranks)) != len(ranks):
        raise ValueError(f'new_group: ranks {ranks} must be distinct ranks of the world of '
                         f'size {world.size()}')
    comm = world.comm.split(ranks)
    if comm is None:
        return GroupMember.NON_GROUP_MEMBER
    return ProcessGroup(world.backend if backend is None else str(Backend(backend)), comm,
                        ranks, timeout or world.timeout)


def get_rank(group=None):
    if _world is None:
        raise ValueError('Default process group has not been initialized, please make sure '
                         'to call init_process_group.')
    if group is GroupMember.NON_GROUP_MEMBER:
        return -1
    return _group(group).rank()


def get_world_size(group=None):
    if _world is None:
        raise ValueError('Default process group has not been initialized, please make sure '
                         'to call init_process_group.')
    if group is GroupMember.NON_GROUP_MEMBER:
        return -1
    return _group(group).size()


def get_backend(group=None):
    return _group(group).backend


def get_global_rank(group, group_rank):
    return _group(group).ranks[group_rank]


def get_process_group_ranks(group):
    return list(_group(group).ranks)


# ----------------------------------------------------------------------------- collectives

_BACKEND_DEVICE = {'mpi': 'cpu', 'nccl': 'cuda'}


def _array(t, what, name='tensor', pg=None):
    if not isinstance(t, Tensor):
        raise TypeError(f'{what}: {name} must be a Tensor, not {type(t).__name__}')
    want = _BACKEND_DEVICE[(pg or _world).backend]
    if t.device.type != want:
        raise RuntimeError(f'{what}: the {(pg or _world).backend} backend communicates {want} '
                           f'tensors, got a tensor on {t.device} (use backend='
                           f"'{'nccl' if want == 'cpu' else 'mpi'}' for {t.device.type} tensors)")
    a = array_of(t)
    if not (a.flags.c_contiguous or a.size <= 1):
        raise ValueError(f'{what}: Tensors must be contiguous')
    return a


def _run(pg, start, async_op, outputs=(), after=None):
    """Start a backend operation, then finish it now or hand back its Work."""
    wait, test = start()

    def finish():
        if after is not None:
            after()
        for t in outputs:
            increment_version(t)

    work = Work(lambda timeout: wait(timeout or pg.timeout), test, finish)
    if async_op:
        return work
    work.wait()
    return None


def _op(op):
    if isinstance(op, ReduceOp):
        return op
    raise TypeError(f'op must be a ReduceOp (e.g. ReduceOp.SUM), not {op!r}')


def _check_member(pg, rank, what, name):
    if not 0 <= rank < pg.size():
        raise ValueError(f'{what}: {name}={rank} is not a rank of the group (size {pg.size()})')


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` across the group; every rank ends with the result."""
    pg = _group(group)
    a = _array(tensor, 'all_reduce', pg=pg)
    op = _op(op)
    return _run(pg, lambda: pg.comm.allreduce(a, op), async_op, (tensor,))


def broadcast(tensor, src, group=None, async_op=False):
    """Copy ``tensor`` of (global) rank ``src`` into ``tensor`` on every rank."""
    pg = _group(group)
    a = _array(tensor, 'broadcast', pg=pg)
    root = _group_rank(pg, src, 'broadcast', 'src')
    return _run(pg, lambda: pg.comm.broadcast(a, root), async_op, (tensor,))


def reduce(tensor, dst, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce into ``tensor`` on (global) rank ``dst``; other ranks' tensors are unchanged."""
    pg = _group(group)
    a = _array(tensor, 'reduce', pg=pg)
    root = _group_rank(pg, dst, 'reduce', 'dst')
    op = _op(op)
    return _run(pg, lambda: pg.comm.reduce(a, root, op), async_op, (tensor,))


def _group_rank(pg, rank, what, name):
    if rank not in pg.ranks:
        raise ValueError(f'{what}: {name}={rank} is not a rank of the group {pg.ranks}')
    return pg.ranks.index(rank)


def _same(arrays, like, what):
    for a in arrays:
        if a.shape != like.shape or a.dtype != like.dtype:
            raise ValueError(f'{what}: every tensor in the list must have the shape and dtype '
                             f'of the input ({tuple(like.shape)}, {like.dtype}), got '
                             f'{tuple(a.shape)}, {a.dtype}')


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fill ``tensor_list[i]`` with rank i's ``tensor``."""
    pg = _group(group)
    a = _array(tensor, 'all_gather', pg=pg)
    if len(tensor_list) != pg.size():
        raise ValueError(f'all_gather: tensor_list has {len(tensor_list)} tensors, the group '
                         f'has {pg.size()} ranks')
    outs = [_array(t, 'all_gather', 'tensor_list', pg=pg) for t in tensor_list]
    _same(outs, a, 'all_gather')
    flat = _empty_like(a, (pg.size(),) + a.shape)

    def after():
        for o, part in zip(outs, flat):
            o[...] = part
    return _run(pg, lambda: pg.comm.allgather(flat, a), async_op, tensor_list, after)


def _empty_like(a, shape):
    from ..extend import array_module
    return array_module(a).empty(shape, a.dtype)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Concatenate every rank's ``input_tensor`` along dim 0 (or stack: output of shape
    ``(world, *input.shape)``) into ``output_tensor``."""
    pg = _group(group)
    a = _array(input_tensor, 'all_gather_into_tensor', 'input_tensor', pg=pg)
    out = _array(output_tensor, 'all_gather_into_tensor', 'output_tensor', pg=pg)
    if out.size != a.size * pg.size() or out.dtype != a.dtype:
        raise ValueError(f'all_gather_into_tensor: output tensor of shape {tuple(out.shape)} '
                         f'({out.dtype}) must hold {pg.size()} inputs of shape '
                         f'{tuple(a.shape)} ({a.dtype})')
    return _run(pg, lambda: pg.comm.allgather(out.reshape((pg.size(),) + a.shape), a),
                async_op, (output_tensor,))


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``input`` across ranks and give rank i the i-th chunk (along dim 0)."""
    pg = _group(group)
    a = _array(input, 'reduce_scatter_tensor', 'input', pg=pg)
    out = _array(output, 'reduce_scatter_tensor', 'output', pg=pg)
    if out.size * pg.size() != a.size or out.dtype != a.dtype:
        raise ValueError(f'reduce_scatter_tensor: input of shape {tuple(a.shape)} ({a.dtype}) '
                         f'must hold {pg.size()} outputs of shape {tuple(out.shape)} '
                         f'({out.dtype})')
    op = _op(op)
    return _run(pg, lambda: pg.comm.reduce_scatter(out, a, op), async_op, (output,))


def gather(tensor, gather_list=None, dst=0, group=None, async_op=False):
    """Gather every rank's ``tensor`` into ``gather_list`` on rank ``dst``."""
    pg = _group(group)
    a = _array(tensor, 'gather', pg=pg)
    root = _group_rank(pg, dst, 'gather', 'dst')
    outs = None
    if pg.rank() == root:
        if gather_list is None or len(gather_list) != pg.size():
            raise ValueError(f'gather: the destination rank needs a gather_list of '
                             f'{pg.size()} tensors')
        outs = [_array(t, 'gather', 'gather_list', pg=pg) for t in gather_list]
        _same(outs, a, 'gather')
    elif gather_list:
        raise ValueError('gather: Argument ``gather_list`` must NOT be specified on '
                         'non-destination ranks.')
    flat = _empty_like(a, (pg.size(),) + a.shape) if outs is not None else None

    def after():
        if outs is not None:
            for o, part in zip(outs, flat):
                o[...] = part
    return _run(pg, lambda: pg.comm.gather(flat, a, root), async_op, gather_list or (), after)


def scatter(tensor, scatter_list=None, src=0, group=None, async_op=False):
    """Rank ``src`` sends ``scatter_list[i]`` to rank i, which receives it in ``tensor``."""
    pg = _group(group)
    a = _array(tensor, 'scatter', pg=pg)
    root = _group_rank(pg, src, 'scatter', 'src')
    flat = None
    if pg.rank() == root:
        if scatter_list is None or len(scatter_list) != pg.size():
            raise ValueError(f'scatter: the source rank needs a scatter_list of {pg.size()} '
                             'tensors')
        ins = [_array(t, 'scatter', 'scatter_list', pg=pg) for t in scatter_list]
        _same(ins, a, 'scatter')
        from ..extend import array_module
        flat = array_module(a).stack(ins)
    elif scatter_list:
        raise ValueError('scatter: Argument ``scatter_list`` must NOT be specified on '
                         'non-source ranks.')
    return _run(pg, lambda: pg.comm.scatter(a, flat, root), async_op, (tensor,))


def barrier(group=None, async_op=False, device_ids=None):
    pg = _group(group)
    return _run(pg, lambda: pg.comm.barrier(), async_op)


def isend(tensor, dst, group=None, tag=0):
    pg = _group(group)
    a = _array(tensor, 'isend', pg=pg)
    peer = _group_rank(pg, dst, 'isend', 'dst')
    return _run(pg, lambda: pg.comm.send(a, peer, tag), True)


def irecv(tensor, src=None, group=None, tag=0):
    pg = _group(group)
    a = _array(tensor, 'irecv', pg=pg)
    peer = None if src is None else _group_rank(pg, src, 'irecv', 'src')
    status = {}
    work = _run(pg, lambda: pg.comm.recv(a, peer, tag, status), True, (tensor,))
    work._status = status             # the sender's group rank, once it has arrived
    return work


def send(tensor, dst, group=None, tag=0):
    if dst == get_rank():
        raise ValueError('send: invalid destination rank: should not be the same as the rank '
                         'of the current process.')
    isend(tensor, dst, group, tag).wait()


def recv(tensor, src=None, group=None, tag=0):
    """Receive into ``tensor``; returns the sender's rank."""
    pg = _group(group)
    work = irecv(tensor, src, group, tag)
    work.wait()
    return pg.ranks[work._status['source']]
