"""``DistributedDataParallel``: one model replica per rank, gradients averaged over the
ranks as backward produces them.

How (PyTorch's reducer, in small): the parameters are cut into buckets of about
``bucket_cap_mb`` in reverse registration order (backward meets the last layers first; the
first bucket is 1 MB so that communication starts early).  A hook runs after each
parameter's gradient is accumulated (``Tensor.register_post_accumulate_grad_hook``); when
every parameter of a bucket is ready, the bucket's gradients are copied into one flat
array, divided by the world size and all-reduced asynchronously, in bucket order on every
rank (MPI and NCCL need the same order everywhere).  When the last bucket is launched the
hook waits for all of them and writes the averages back into ``.grad``: when backward
returns, the gradients are the same on every rank and the optimizer may step.
"""
import contextlib

import autograd
import autograd.distributed as dist
from autograd.extend import array_module, array_of, increment_version, wrap

from ..modules.module import Module

__all__ = ['DistributedDataParallel']

_FIRST_BUCKET_BYTES = 1024 * 1024
_UNUSED_MESSAGE = (
    'Expected to have finished reduction in the prior iteration before starting a new one. '
    'This error indicates that your module has parameters that were not used in producing '
    'loss. You can enable unused parameter detection by passing the keyword argument '
    '`find_unused_parameters=True` to `torch.nn.parallel.DistributedDataParallel`, and by '
    "making sure all `forward` function outputs participate in calculating loss. "
    'Parameters that did not receive gradient on this rank: {names}')


class _Bucket:
    __slots__ = ('params', 'offsets', 'flat', 'pending', 'work')

    def __init__(self, params):
        self.params = params
        self.offsets = []
        n = 0
        for p in params:
            self.offsets.append(n)
            n += p.numel()
        self.flat = array_module(array_of(params[0])).zeros(n, array_of(params[0]).dtype)
        self.pending = len(params)
        self.work = None


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training over the process group (``init_process_group``
    first).  Parameters and buffers are broadcast from rank 0 here; each backward averages
    the gradients over the ranks."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, delay_all_reduce_named_params=None,
                 param_to_hook_all_reduce=None, mixed_precision=None, device_mesh=None,
                 skip_all_reduce_unused_params=False):
        super().__init__()
        if not dist.is_initialized():
            raise ValueError('Default process group has not been initialized, please make '
                             'sure to call init_process_group.')
        if not any(p.requires_grad for p in module.parameters()):
            raise RuntimeError('DistributedDataParallel is not needed when a module '
                               "doesn't have any parameter that requires a gradient.")
        self.module = module
        self.process_group = process_group
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.dim = dim
        self.device_ids = device_ids
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        self._names = {id(p): n for n, p in named}
        self._params = [p for _, p in named]
        devices = {p.device for p in self._params}
        if len(devices) > 1:
            raise ValueError('DistributedDataParallel supports a module on one device only, '
                             f'got parameters on {sorted(map(str, devices))}')
        self._world = dist.get_world_size(process_group)
        with autograd.no_grad():
            self._broadcast(list(module.parameters()) + list(module.buffers()))
        self._buckets = self._make_buckets(
            self._params, (25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        self._bucket_of = {id(p): b for b in self._buckets for p in b.params}
        self._ready = set()             # ids of the parameters marked ready this backward
        self._next_bucket = 0           # the next bucket to launch (launched in order)
        self._used = None               # find_unused_parameters: ids used this iteration
        self._started = False           # a backward reached this iteration's hooks
        self._handles = [p.register_post_accumulate_grad_hook(self._hook)
                         for p in self._params]

    # ------------------------------------------------------------------------- setup
    def _broadcast(self, tensors):
        src = dist.get_global_rank(self.process_group, 0) if self.process_group else 0
        for t in tensors:
            dist.broadcast(t.detach(), src, group=self.process_group)

    @staticmethod
    def _make_buckets(params, cap):
        buckets, current, size, limit = [], [], 0, min(_FIRST_BUCKET_BYTES, cap)
        for p in reversed(params):
            nbytes = p.numel() * p.element_size()
            key = p.dtype
            if current and (size + nbytes > limit or current[-1].dtype != key):
                buckets.append(_Bucket(current))
                current, size, limit = [], 0, cap
            current.append(p)
            size += nbytes
        if current:
            buckets.append(_Bucket(current))
        return buckets

    # ------------------------------------------------------------------------- forward
    def forward(self, *inputs, **kwargs):
        if self._started:
            unready = [self._names[id(p)] for p in self._params if id(p) not in self._ready]
            raise RuntimeError(_UNUSED_MESSAGE.format(names=', '.join(unready)))
        if self.broadcast_buffers and self.require_forward_param_sync:
            buffers = list(self.module.buffers())
            if buffers:
                with autograd.no_grad():
                    self._broadcast(buffers)
        output = self.module(*inputs, **kwargs)
        if autograd.is_grad_enabled() and self.require_backward_grad_sync \
                and self.find_unused_parameters:
            used = _reachable_leaves(output)
            self._used = used
            for p in self._params:
                if id(p) not in used:
                    self._mark_ready(p)
        return output

    @contextlib.contextmanager
    def no_sync(self):
        """Backward passes inside this context accumulate gradients locally; the first
        backward after it averages the accumulated gradients."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    # ------------------------------------------------------------------------- backward
    def _hook(self, p):
        if not self.require_backward_grad_sync:
            return
        self._mark_ready(p)

    def _mark_ready(self, p):
        if id(p) in self._ready:
            return                      # a second backward through the same graph
        self._ready.add(id(p))
        self._started = True
        bucket = self._bucket_of[id(p)]
        bucket.pending -= 1
        buckets = self._buckets
        while self._next_bucket < len(buckets) and buckets[self._next_bucket].pending == 0:
            self._launch(buckets[self._next_bucket])
            self._next_bucket += 1
        if self._next_bucket == len(self._buckets):
            self._finish()

    def _launch(self, bucket):
        flat = bucket.flat
        for p, off in zip(bucket.params, bucket.offsets):
            n = p.numel()
            used = self._used is None or id(p) in self._used
            if p.grad is None or not used:
                flat[off:off + n] = 0
            else:
                flat[off:off + n] = array_of(p.grad).reshape(-1)
        flat /= self._world
        t = wrap(flat, self._params[0].device)
        bucket.work = dist.all_reduce(t, group=self.process_group, async_op=True)

    def _finish(self):
        used_anywhere = None
        if self._used is not None:      # which parameters some rank used
            mask = autograd.tensor([id(p) in self._used for p in self._params],
                                   dtype=autograd.int32, device=self._params[0].device)
            dist.all_reduce(mask, group=self.process_group)
            used_anywhere = {id(p) for p, u in zip(self._params, mask.tolist()) if u}
        for bucket in self._buckets:
            bucket.work.wait()
            bucket.work = None
            for p, off in zip(bucket.params, bucket.offsets):
                if used_anywhere is not None and id(p) not in used_anywhere:
                    continue            # unused on every rank: .grad stays as it was
                avg = bucket.flat[off:off + p.numel()].reshape(tuple(p.shape))
                if p.grad is None:
                    p.grad = wrap(avg.copy(), p.device)
                else:
                    array_of(p.grad)[...] = avg
                    increment_version(p.grad)
            bucket.pending = len(bucket.params)
        self._ready.clear()
        self._next_bucket = 0
        self._used = None
        self._started = False


def _reachable_leaves(output):
    """ids of the leaves the graph of ``output`` (tensors in any nesting) reaches."""
    stack, seen, leaves = [], set(), set()

    def collect(obj):
        if isinstance(obj, autograd.Tensor):
            if obj.grad_fn is not None:
                stack.append(obj.grad_fn)
            elif obj.requires_grad:
                leaves.add(id(obj))
        elif isinstance(obj, (list, tuple)):
            for o in obj:
                collect(o)
        elif isinstance(obj, dict):
            for o in obj.values():
                collect(o)
    collect(output)
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        variable = getattr(fn, 'variable', None)
        if variable is not None:
            leaves.add(id(variable))
        for nxt, _ in fn.next_functions:
            if nxt is not None:
                stack.append(nxt)
    return leaves
