"""One rank of the distributed tests (tests/test_distributed.py starts it under mpirun):
``python -m mpi4py tests/distributed_worker.py SCENARIO``.  Each scenario checks its
results against NumPy on every rank and prints ``OK <scenario> <rank>``."""
import os
import sys

import numpy as np

import autograd
import autograd.distributed as dist
import nn
import optim
from autograd.utils.data import DistributedSampler


def collectives():
    dist.init_process_group('mpi')
    r, w = dist.get_rank(), dist.get_world_size()
    assert dist.is_initialized() and dist.get_backend() == 'mpi'
    base = [np.arange(6.).reshape(2, 3) * (k + 1) - k for k in range(w)]
    for op, ref in ((dist.ReduceOp.SUM, np.sum), (dist.ReduceOp.PRODUCT, np.prod),
                    (dist.ReduceOp.MIN, np.min), (dist.ReduceOp.MAX, np.max),
                    (dist.ReduceOp.AVG, np.mean)):
        t = autograd.tensor(base[r])
        v = t._version
        dist.all_reduce(t, op)
        np.testing.assert_allclose(t.numpy(), ref(np.stack(base), axis=0), rtol=1e-15)
        assert t._version > v, 'in-place collectives bump the version counter'
    t = autograd.tensor([7, 8, 9]) * (r + 1)                    # integers, AVG floors
    dist.all_reduce(t, dist.ReduceOp.AVG)
    assert t.tolist() == [sum(x * (k + 1) for k in range(w)) // w for x in (7, 8, 9)]
    t = autograd.tensor([r == 0, False])                        # bool SUM is logical or
    dist.all_reduce(t)
    assert t.tolist() == [True, False] and t.dtype == autograd.bool
    t = autograd.tensor([1.5, 2.5], dtype=autograd.float16) * (r + 1)
    dist.all_reduce(t)
    assert t.dtype == autograd.float16 and t.tolist() == [1.5 * w * (w + 1) / 2, 2.5 * w * (w + 1) / 2]
    # broadcast, reduce
    t = autograd.tensor(base[r])
    dist.broadcast(t, src=w - 1)
    np.testing.assert_array_equal(t.numpy(), base[w - 1])
    t = autograd.tensor(base[r])
    dist.reduce(t, dst=0, op=dist.ReduceOp.SUM)
    np.testing.assert_array_equal(t.numpy(), np.sum(base, 0) if r == 0 else base[r])
    # all_gather, all_gather_into_tensor, reduce_scatter_tensor
    outs = [autograd.zeros(2, 3, dtype=autograd.float64) for _ in range(w)]
    dist.all_gather(outs, autograd.tensor(base[r]))
    for k in range(w):
        np.testing.assert_array_equal(outs[k].numpy(), base[k])
    out = autograd.zeros(2 * w, 3, dtype=autograd.float64)
    dist.all_gather_into_tensor(out, autograd.tensor(base[r]))
    np.testing.assert_array_equal(out.numpy(), np.concatenate(base))
    inp = autograd.tensor(np.arange(3. * w) + r)
    out = autograd.zeros(3, dtype=autograd.float64)
    dist.reduce_scatter_tensor(out, inp)
    total = sum(np.arange(3. * w) + k for k in range(w))
    np.testing.assert_array_equal(out.numpy(), total[3 * r:3 * r + 3])
    # gather, scatter
    gl = [autograd.zeros(2, 3, dtype=autograd.float64) for _ in range(w)] if r == 1 else None
    dist.gather(autograd.tensor(base[r]), gl, dst=1)
    if r == 1:
        for k in range(w):
            np.testing.assert_array_equal(gl[k].numpy(), base[k])
    t = autograd.zeros(2, 3, dtype=autograd.float64)
    dist.scatter(t, [autograd.tensor(b) for b in base] if r == 0 else None, src=0)
    np.testing.assert_array_equal(t.numpy(), base[r])
    # point to point, async handles
    if r == 0:
        dist.send(autograd.tensor([5., 6.], dtype=autograd.float64), dst=1)
        work = dist.irecv(t2 := autograd.zeros(2, dtype=autograd.float64), src=1)
        work.wait()
        assert t2.tolist() == [1., 2.]
    elif r == 1:
        t2 = autograd.zeros(2, dtype=autograd.float64)
        assert dist.recv(t2) == 0 and t2.tolist() == [5., 6.]
        dist.isend(autograd.tensor([1., 2.], dtype=autograd.float64), dst=0).wait()
    t = autograd.ones(4) * (r + 1)
    work = dist.all_reduce(t, async_op=True)
    assert work.wait() and work.is_completed()
    assert t.tolist() == [w * (w + 1) / 2] * 4
    # a subgroup of the odd ranks
    g = dist.new_group([k for k in range(w) if k % 2 == 1])
    if r % 2 == 1:
        t = autograd.tensor([float(r)])
        dist.all_reduce(t, group=g)
        assert t.item() == sum(k for k in range(w) if k % 2 == 1)
        assert dist.get_rank(g) == r // 2
    else:
        assert g is dist.GroupMember.NON_GROUP_MEMBER and dist.get_rank(g) == -1
    # bad input
    for bad, kind in ((lambda: dist.all_reduce([1.0]), TypeError),
                      (lambda: dist.all_reduce(autograd.ones(4, 4).t()), ValueError),
                      (lambda: dist.all_reduce(autograd.ones(2), op='sum'), TypeError),
                      (lambda: dist.broadcast(autograd.ones(2), src=w), ValueError),
                      (lambda: dist.all_gather([autograd.ones(2)], autograd.ones(2)), ValueError),
                      (lambda: dist.init_process_group('mpi'), ValueError)):
        try:
            bad()
        except kind:
            pass
        else:
            raise AssertionError(f'{bad} did not raise {kind.__name__}')
    dist.barrier()
    dist.destroy_process_group()
    assert not dist.is_initialized()


def before_init():
    for call in (lambda: dist.get_rank(), lambda: dist.all_reduce(autograd.ones(2)),
                 lambda: nn.parallel.DistributedDataParallel(nn.Linear(2, 2))):
        try:
            call()
        except ValueError as e:
            assert 'init_process_group' in str(e)
        else:
            raise AssertionError('a collective before init_process_group did not raise')


def _model(seed):
    autograd.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 16), nn.BatchNorm1d(16), nn.Tanh(), nn.Linear(16, 16),
                         nn.ReLU(), nn.Linear(16, 3)).double()


def _data(seed, n):
    rng = np.random.default_rng(seed)
    return (autograd.tensor(rng.normal(size=(n, 5))),
            autograd.tensor(rng.integers(0, 3, size=n)))


def ddp():
    """2 ranks with DDP equal one process trained on the combined batches (float64)."""
    dist.init_process_group('mpi')
    r, w = dist.get_rank(), dist.get_world_size()
    per, steps, accum = 4, 6, 2
    x, y = _data(0, per * w * steps * accum)
    ref = _model(1)                 # the single process, on every rank
    model = nn.parallel.DistributedDataParallel(_model(100 + r), bucket_cap_mb=0.0005)
    # construction broadcast rank 0's weights: compare to a model built with rank 0's seed
    rank0 = _model(100)
    for a, b in zip(model.module.parameters(), rank0.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    ref.load_state_dict(model.module.state_dict())
    assert list(model.state_dict())[0].startswith('module.')
    assert len(model._buckets) > 1, 'the test must cover several buckets'
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    opt_ref = optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    for step in range(steps):
        opt.zero_grad()
        opt_ref.zero_grad()
        for micro in range(accum):          # gradient accumulation with no_sync
            lo = (step * accum + micro) * per * w
            xb, yb = x[lo:lo + per * w], y[lo:lo + per * w]
            mine = slice(r * per, (r + 1) * per)
            ctx = model.no_sync() if micro < accum - 1 else _null()
            with ctx:
                (loss_fn(model(xb[mine]), yb[mine]) / accum).backward()
            # the reference sees the combined batch as per-rank means averaged
            parts = [loss_fn(ref(xb[k * per:(k + 1) * per]), yb[k * per:(k + 1) * per])
                     for k in range(w)]
            (sum(parts) / (w * accum)).backward()
        for p, q in zip(model.module.parameters(), ref.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12, atol=1e-13)
        opt.step()
        opt_ref.step()
    for p, q in zip(model.module.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-12,
                                   atol=1e-13)
    # the buffers follow rank 0's (broadcast at each forward)
    bn = model.module[1]
    everyone = [autograd.zeros(16, dtype=autograd.float64) for _ in range(w)]
    dist.all_gather(everyone, bn.running_mean.clone())
    assert not all(np.array_equal(e.numpy(), everyone[0].numpy()) for e in everyone)
    model.eval()
    model(x[:4])
    dist.all_gather(everyone, bn.running_mean.clone())
    assert all(np.array_equal(e.numpy(), everyone[0].numpy()) for e in everyone)
    dist.destroy_process_group()


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _Branchy(nn.Module):
    """Rank-dependent use of a branch: parameters unused on some ranks."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 3).double()
        self.b = nn.Linear(3, 3).double()
        self.never = nn.Linear(3, 3).double()

    def forward(self, x, use_b):
        h = self.a(x)
        return self.b(h) if use_b else h


def unused():
    dist.init_process_group('mpi')
    r, w = dist.get_rank(), dist.get_world_size()
    autograd.manual_seed(0)
    model = nn.parallel.DistributedDataParallel(_Branchy(), find_unused_parameters=True)
    x = autograd.tensor(np.random.default_rng(r).normal(size=(4, 3)))
    model(x, use_b=(r == 0)).sum().backward()
    # b's gradient: rank 0's divided by w on every rank; never: untouched (None)
    gb = model.module.b.weight.grad.clone()
    everyone = [autograd.zeros(3, 3, dtype=autograd.float64) for _ in range(w)]
    dist.all_gather(everyone, gb)
    for e in everyone:
        np.testing.assert_array_equal(e.numpy(), gb.numpy())
    assert model.module.never.weight.grad is None
    # without find_unused_parameters the next forward names the parameters
    plain = nn.parallel.DistributedDataParallel(_Branchy())
    plain(x, use_b=True).sum().backward()
    try:
        plain(x, use_b=True)
    except RuntimeError as e:
        assert 'never.weight' in str(e) and 'find_unused_parameters' in str(e)
    else:
        raise AssertionError('unused parameters went unnoticed')
    dist.destroy_process_group()


def syncbn():
    """SyncBatchNorm on 2 ranks equals BatchNorm on the combined batch."""
    dist.init_process_group('mpi')
    r, w = dist.get_rank(), dist.get_world_size()
    rng = np.random.default_rng(5)
    full = rng.normal(size=(4 * w, 3, 5)) * 2 + 1
    autograd.manual_seed(0)
    bn = nn.BatchNorm1d(3).double()
    with autograd.no_grad():
        bn.weight.copy_(autograd.tensor([1., 2., 3.]))
        bn.bias.copy_(autograd.tensor([.1, .2, .3]))
    sync = nn.SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(_copy(bn)))[0]
    assert isinstance(sync, nn.SyncBatchNorm)
    xs = autograd.tensor(full, requires_grad=True)
    ref = bn(xs)
    coef = autograd.tensor(rng.normal(size=full.shape))
    (ref * coef).sum().backward()
    mine = slice(4 * r, 4 * (r + 1))
    x = autograd.tensor(full[mine], requires_grad=True)
    out = sync(x)
    (out * coef[mine]).sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy()[mine], rtol=1e-12,
                               atol=1e-13)
    np.testing.assert_allclose(x.grad.numpy(), xs.grad.numpy()[mine], rtol=1e-11, atol=1e-12)
    for name in ('weight', 'bias'):
        g = getattr(sync, name).grad.clone()
        dist.all_reduce(g)          # the parameter gradients DDP would sum
        np.testing.assert_allclose(g.numpy(), getattr(bn, name).grad.numpy(), rtol=1e-11)
    for name in ('running_mean', 'running_var'):
        np.testing.assert_allclose(getattr(sync, name).numpy(), getattr(bn, name).numpy(),
                                   rtol=1e-12)
    dist.destroy_process_group()


def _copy(bn):
    other = nn.BatchNorm1d(3).double()
    other.load_state_dict(bn.state_dict())
    return other


def sampler():
    dist.init_process_group('mpi')
    r, w = dist.get_rank(), dist.get_world_size()
    s = DistributedSampler(range(11), shuffle=True, seed=3)
    assert (s.num_replicas, s.rank) == (w, r)
    mine = list(s)
    everyone = [autograd.zeros(len(mine), dtype=autograd.int64) for _ in range(w)]
    dist.all_gather(everyone, autograd.tensor(mine))
    union = sorted(sum((e.tolist() for e in everyone), []))
    assert set(union) == set(range(11)) and len(union) == s.total_size
    s.set_epoch(1)
    assert list(s) != mine
    dist.destroy_process_group()


def fails():
    """Rank 1 raises in the middle of training; rank 0 waits in a collective."""
    dist.init_process_group('mpi')
    if dist.get_rank() == 1:
        raise ValueError('rank 1 fails on purpose')
    dist.all_reduce(autograd.ones(3))
    print('rank 0 was not stopped', flush=True)


def exits():
    dist.init_process_group('mpi')
    if dist.get_rank() == 1:
        sys.exit(3)
    dist.all_reduce(autograd.ones(3))


def killed():
    dist.init_process_group('mpi')
    if dist.get_rank() == 1:
        os.kill(os.getpid(), 9)
    dist.all_reduce(autograd.ones(3))


def times_out():
    import datetime
    dist.init_process_group('mpi', timeout=datetime.timedelta(seconds=1))
    if dist.get_rank() == 0:
        try:
            dist.all_reduce(autograd.ones(3))
        except dist.DistBackendError as e:
            assert 'timed out' in str(e)
            print(f'OK times_out {dist.get_rank()}', flush=True)
            os._exit(0)
    import time
    time.sleep(3)
    os._exit(0)


def hooks():
    """Tensor.register_post_accumulate_grad_hook, as the reducer uses it (one process)."""
    seen = []
    w = autograd.ones(3, requires_grad=True)
    h = w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.tolist()))
    (w * 2).sum().backward()
    (w * 3).sum().backward()
    assert seen == [[2.] * 3, [5.] * 3], seen
    autograd.grad((w * 2).sum(), w)         # autograd.grad accumulates nothing: no call
    h.remove()
    (w * 1).sum().backward()
    assert len(seen) == 2


SCENARIOS = {f.__name__: f for f in (collectives, before_init, ddp, unused, syncbn, sampler,
                                      fails, exits, killed, times_out, hooks)}



def nccl(real=False):
    """The NCCL backend on cuda tensors: collectives and DDP.  On the CuPy stand-in its
    communicator is replaced by tests/fake_nccl.py (the plumbing test); with ``real``, real
    NCCL on one GPU per rank."""
    if not real:
        import fake_nccl
        from autograd.distributed import _nccl
        _nccl._module = fake_nccl
    dist.init_process_group('nccl')
    r, w = dist.get_rank(), dist.get_world_size()
    assert dist.get_backend() == 'nccl'
    cuda = autograd.device(f'cuda:{r}' if real else 'cuda')
    if real:
        import cupy
        cupy.cuda.Device(r).use()
    base = [np.arange(6.).reshape(2, 3) * (k + 1) - k for k in range(w)]
    for op, ref in ((dist.ReduceOp.SUM, np.sum), (dist.ReduceOp.MAX, np.max),
                    (dist.ReduceOp.AVG, np.mean)):
        t = autograd.tensor(base[r], device=cuda)
        dist.all_reduce(t, op)
        np.testing.assert_allclose(t.cpu().numpy(), ref(np.stack(base), axis=0), rtol=1e-15)
    t = autograd.tensor(base[r], device=cuda)
    dist.broadcast(t, src=1)
    np.testing.assert_array_equal(t.cpu().numpy(), base[1])
    out = autograd.zeros(2 * w, 3, dtype=autograd.float64, device=cuda)
    dist.all_gather_into_tensor(out, autograd.tensor(base[r], device=cuda))
    np.testing.assert_array_equal(out.cpu().numpy(), np.concatenate(base))
    out = autograd.zeros(3, dtype=autograd.float64, device=cuda)
    dist.reduce_scatter_tensor(out, autograd.tensor(np.arange(3. * w) + r, device=cuda))
    total = sum(np.arange(3. * w) + k for k in range(w))
    np.testing.assert_array_equal(out.cpu().numpy(), total[3 * r:3 * r + 3])
    gl = [autograd.zeros(2, 3, dtype=autograd.float64, device=cuda) for _ in range(w)]
    dist.gather(autograd.tensor(base[r], device=cuda), gl if r == 0 else None, dst=0)
    if r == 0:
        for k in range(w):
            np.testing.assert_array_equal(gl[k].cpu().numpy(), base[k])
    t = autograd.zeros(2, 3, dtype=autograd.float64, device=cuda)
    dist.scatter(t, [autograd.tensor(b, device=cuda) for b in base] if r == 1 else None, src=1)
    np.testing.assert_array_equal(t.cpu().numpy(), base[r])
    if not real:
        kinds = {name for name, _ in fake_nccl.CALLS}
        assert {'allReduce', 'bcast', 'allGather', 'reduceScatter', 'send', 'recv'} <= kinds
    # DDP on cuda tensors over NCCL equals the reference on the combined batch
    x, y = _data(0, 8 * w)
    ref = _model(1).to(cuda)
    model = nn.parallel.DistributedDataParallel(_model(100 + r).to(cuda))
    ref.load_state_dict(model.module.state_dict())
    x, y = x.to(cuda), y.to(cuda)
    loss_fn = nn.CrossEntropyLoss()
    loss_fn(model(x[8 * r:8 * (r + 1)]), y[8 * r:8 * (r + 1)]).backward()
    (sum(loss_fn(ref(x[8 * k:8 * (k + 1)]), y[8 * k:8 * (k + 1)]) for k in range(w)) / w).backward()
    for p, q in zip(model.module.parameters(), ref.parameters()):
        assert p.grad.device == cuda
        np.testing.assert_allclose(p.grad.cpu().numpy(), q.grad.cpu().numpy(), rtol=1e-12,
                                   atol=1e-13)
    dist.destroy_process_group()


SCENARIOS['nccl'] = nccl
SCENARIOS['nccl_gpus'] = lambda: nccl(real=True)


if __name__ == '__main__':
    name = sys.argv[1]
    SCENARIOS[name]()
    rank = int(os.environ.get('PMI_RANK', 0))
    print(f'OK {name} {rank}', flush=True)
