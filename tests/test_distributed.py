"""autograd.distributed, DistributedDataParallel, SyncBatchNorm and DistributedSampler on 2
MPI ranks over loopback (tests/distributed_worker.py is each rank's program).

Jobs can never hang the suite: each runs under the environment's own ``mpirun`` with
``MPIEXEC_TIMEOUT`` below the test's own timeout, in its own process group (killed as a
group if the timeout passes anyway), with one BLAS thread per rank; every job asserts the
world size it got (an ``mpirun`` of another MPI would start N worlds of size 1)."""
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

mpi4py = pytest.importorskip('mpi4py', reason="the distributed extra: pip install "
                             "'autograd-engine[distributed]'")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.join(ROOT, 'tests')
WORKER = os.path.join(HERE, 'distributed_worker.py')
MPIRUN = (shutil.which('mpirun', path=os.path.dirname(sys.executable))
          or shutil.which('mpiexec', path=os.path.dirname(sys.executable))
          or shutil.which('mpirun'))
pytestmark = pytest.mark.skipif(MPIRUN is None, reason='no mpirun beside this Python')


def launch(scenario, np=2, timeout=60, cuda=False, script=WORKER):
    """Run ``script scenario`` on ``np`` ranks; returns (exit status, output, seconds)."""
    env = dict(os.environ, MPIEXEC_TIMEOUT=str(timeout - 10), OPENBLAS_NUM_THREADS='1',
               OMP_NUM_THREADS='1', PYTHONPATH=os.pathsep.join(
                   [ROOT, HERE] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep)
                                   if p]))
    if not cuda:            # the MPI backend's scenarios: CPU tensors
        env.pop('AUTOGRAD_DEVICE', None)
    start = time.monotonic()
    proc = subprocess.Popen([MPIRUN, '-np', str(np), sys.executable, '-m', 'mpi4py', script,
                             *scenario.split()], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail(f'{scenario}: the job outlived its timeout and was killed:\n{out}')
    return proc.returncode, out, time.monotonic() - start


def passes(scenario, np=2, **kw):
    status, out, _ = launch(scenario, np, **kw)
    assert status == 0, out
    for rank in range(np):
        assert f'OK {scenario} {rank}' in out, out


@pytest.mark.parametrize('scenario', ['collectives', 'ddp', 'unused', 'syncbn', 'sampler'])
def test_two_ranks(scenario):
    """Each collective against NumPy; DDP (several buckets, momentum, no_sync accumulation,
    buffers broadcast) equals one process on the combined batches to 1e-12 in float64;
    find_unused_parameters; SyncBatchNorm equals BatchNorm on the combined batch."""
    passes(scenario)


def test_three_ranks_collectives():
    passes('collectives', np=3)


def test_before_init_and_hooks():
    passes('before_init', np=1)
    passes('hooks', np=1)


@pytest.mark.parametrize('scenario, status', [('fails', 1), ('exits', 3), ('killed', None)])
def test_a_failing_rank_ends_the_job(scenario, status):
    """A rank that raises, exits non-zero or is killed while its peer waits in a collective
    ends the whole job in seconds, with a non-zero status."""
    code, out, seconds = launch(scenario, timeout=60)
    assert code != 0, out
    if status is not None:
        assert code == status, out
    assert seconds < 20, f'{scenario} took {seconds:.1f}s to end the job'
    assert 'rank 0 was not stopped' not in out


def test_collective_timeout():
    """A collective a peer never joins raises DistBackendError after the group's timeout."""
    passes_once = launch('times_out', timeout=60)
    assert 'OK times_out 0' in passes_once[1], passes_once[1]


@pytest.mark.skipif(os.environ.get('CUNUMPY_FAKE_CUPY', '') != '1',
                    reason='the NCCL plumbing runs on the CuPy stand-in (the cuda test leg)')
def test_nccl_backend_plumbing():
    """The NCCL backend on cuda tensors, its communicator replaced by tests/fake_nccl.py (the
    same pointer-based calls as cupy.cuda.nccl): collectives and DDP."""
    passes('nccl', cuda=True)


def _gpus():
    if os.environ.get('CUNUMPY_FAKE_CUPY', '') == '1':
        return 0
    import autograd
    return autograd.cuda.device_count() if autograd.cuda.is_available() else 0


@pytest.mark.skipif(_gpus() < 2, reason='GPU-only: real NCCL needs two GPUs')
def test_nccl_on_two_gpus():
    """Real NCCL (cupy.cuda.nccl), one GPU per rank: collectives and DDP."""
    passes('nccl_gpus', cuda=True)


def test_sampler_matches_pytorch():
    torch_data = pytest.importorskip('torch.utils.data')
    from autograd.utils.data import DistributedSampler
    for n, replicas, drop_last in [(10, 3, False), (10, 3, True), (2, 4, False), (7, 2, True),
                                   (12, 4, False)]:
        for rank in range(replicas):
            ours = DistributedSampler(range(n), replicas, rank, shuffle=False,
                                      drop_last=drop_last)
            theirs = torch_data.DistributedSampler(range(n), replicas, rank, shuffle=False,
                                                   drop_last=drop_last)
            assert list(ours) == list(theirs) and len(ours) == len(theirs)
    # shuffled: one permutation shared by the ranks, fixed by seed + epoch
    shards = [list(DistributedSampler(range(9), 3, r, seed=4)) for r in range(3)]
    assert sorted(sum(shards, [])) == list(range(9))
    again = DistributedSampler(range(9), 3, 0, seed=4)
    assert list(again) == shards[0]
    again.set_epoch(1)
    assert list(again) != shards[0]
    with pytest.raises(ValueError, match='Invalid rank 3'):
        DistributedSampler(range(9), 3, 3)


@pytest.mark.slow
def test_example_trains_on_two_ranks(tmp_path):
    """examples/distributed_mnist.py, reduced: two ranks learn the digits, rank 0 alone
    prints and writes the checkpoint."""
    script = os.path.join(ROOT, 'examples', 'distributed_mnist.py')
    status, out, _ = launch(f'--epochs 3 --out {tmp_path}', script=script, timeout=120)
    assert status == 0, out
    assert out.count('epoch 3:') == 1, out          # one rank logs
    accuracy = float(out.split('epoch 3:')[1].split('accuracy')[1].split(',')[0])
    assert accuracy > 0.85, out
    assert (tmp_path / 'checkpoint.pt').exists()
