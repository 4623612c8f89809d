"""The cuda path never makes the host wait where PyTorch does not.

On a GPU every read of device data on the host (``int(a)``, ``a.item()``, ``a.get()``),
every op whose output size depends on the data (``nonzero``, ``unique``, ``bincount``,
boolean-mask indexing) and every explicit ``synchronize`` stalls the queue of kernels.
The CuPy stand-in counts them (``cupy_stand_in.count_syncs``, with the project's frame
responsible); each representative training step below, on the ``cuda`` device, makes none
after warm-up, as the same step makes none in PyTorch on CUDA.  Host-to-device copies are
counted too, and a step makes none of those either.
"""
import pytest

import autograd
import autograd.cuda
import nn
import optim
from autograd.distributions import Categorical
from device_helpers import run_child, stand_in_active
from nn import functional as F

WARM, COUNTED = 2, 3


@pytest.fixture
def stand_in(cuda):
    """The stand-in's module (its counter); skips on a real GPU, where nothing counts."""
    if not stand_in_active():
        pytest.skip('the sync counter is a tool of the CuPy stand-in')
    import cupy_stand_in
    return cupy_stand_in


def count_step(stand_in, step):
    """The counter of ``COUNTED`` calls of ``step`` after ``WARM`` uncounted ones."""
    for _ in range(WARM):
        step()
    with stand_in.count_syncs() as counter:
        for _ in range(COUNTED):
            step()
    return counter


def assert_no_waits(stand_in, step):
    counter = count_step(stand_in, step)
    assert counter.count() == 0, 'the host waited on the device:\n' + counter.report()
    assert not counter.to_device, 'host-to-device copies:\n' + counter.report()


# ----------------------------------------------------------------------------- the counter

def test_counter_counts_reads_sizes_synchronisations_and_copies(stand_in, cuda):
    import cupy
    a = cupy.arange(6.0)
    with stand_in.count_syncs() as c:
        float(a[0]), int(a[1]), bool(a[2]), a[3].item(), a.tolist(), a.get(), cupy.asnumpy(a)
        a.nonzero(), cupy.unique(a), cupy.bincount(cupy.arange(3)), a[a > 2], cupy.where(a > 1)
        a[a > 4] = 0.0
        cupy.cuda.Device(0).synchronize()
        cupy.asarray([1.0, 2.0]), cupy.asarray(3.0)
        a + 1, a[1:3], cupy.where(a > 1, a, 0.0), a.sum()           # none of these waits
    kinds = [e.kind for e in c.events]
    assert kinds == ['to_host'] * 7 + ['data_dependent'] * 6 + ['synchronize'] + \
        ['to_device'] * 2
    assert c.count() == 14 and len(c.to_device) == 2
    assert all(e.where.startswith('tests/cuda/test_sync_counts.py:') for e in c.events)


def test_counter_names_the_project_frame_responsible(stand_in, cuda):
    """The frame blamed is the code that asked for the read (here the test and
    ``clip_grad_norm_(error_if_nonfinite=True)``), not the engine's sync point it called."""
    y = autograd.tensor([[1.0, 2.0]], device=cuda, requires_grad=True)
    with stand_in.count_syncs() as c:
        y.sum().item()
        repr(y)
    assert [e.where for e in c.syncs] == [f'tests/cuda/test_sync_counts.py:{line}'
                                         for line in (73, 74)]
    y.sum().backward()
    with stand_in.count_syncs() as c:
        nn.utils.clip_grad_norm_([y], 1.0, error_if_nonfinite=True)
    assert [e.where.split(':')[0] for e in c.syncs] == ['nn/utils/clip_grad.py']


# ----------------------------------------------------------------------------- training steps

def test_mlp_cross_entropy_sgd_momentum(stand_in, cuda):
    model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 5)).to(cuda)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = autograd.randn(16, 20, device=cuda), autograd.randint(0, 5, (16,), device=cuda)

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    assert_no_waits(stand_in, step)


def test_cnn_batchnorm_maxpool_adam(stand_in, cuda):
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8, momentum=None), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 4 * 4, 10)).to(cuda)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    x, y = autograd.randn(4, 3, 16, 16, device=cuda), autograd.randint(0, 10, (4,), device=cuda)

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    assert_no_waits(stand_in, step)


def test_lstm_adam_clip_grad_norm(stand_in, cuda):
    rnn, head = nn.LSTM(8, 16, num_layers=2, batch_first=True).to(cuda), nn.Linear(16, 4).to(cuda)
    params = list(rnn.parameters()) + list(head.parameters())
    opt = optim.Adam(params, lr=1e-3)
    x, y = autograd.randn(4, 7, 8, device=cuda), autograd.randint(0, 4, (4,), device=cuda)

    def step():
        opt.zero_grad()
        out, _ = rnn(x)
        F.cross_entropy(head(out[:, -1]), y).backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
    assert_no_waits(stand_in, step)


def test_embedding_attention_adamw_onecycle_ignore_index(stand_in, cuda):
    emb = nn.Embedding(50, 16, padding_idx=0).to(cuda)
    mha = nn.MultiheadAttention(16, 4, batch_first=True).to(cuda)
    head = nn.Linear(16, 50).to(cuda)
    params = [*emb.parameters(), *mha.parameters(), *head.parameters()]
    opt = optim.AdamW(params, lr=1e-3)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, total_steps=100)
    tokens = autograd.randint(0, 50, (4, 9), device=cuda)
    target = autograd.randint(0, 50, (4, 9), device=cuda)       # class 0 is ignored

    def step():
        opt.zero_grad()
        h = emb(tokens)
        a, _ = mha(h, h, h, need_weights=False)
        F.cross_entropy(head(a).reshape(-1, 50), target.reshape(-1), ignore_index=0).backward()
        opt.step()
        sched.step()
    assert_no_waits(stand_in, step)


def test_gru_rmsprop(stand_in, cuda):
    rnn, head = nn.GRU(8, 16, batch_first=True).to(cuda), nn.Linear(16, 1).to(cuda)
    opt = optim.RMSprop([*rnn.parameters(), *head.parameters()], lr=1e-3)
    x, y = autograd.randn(4, 7, 8, device=cuda), autograd.randn(4, 1, device=cuda)

    def step():
        opt.zero_grad()
        _, h = rnn(x)
        F.mse_loss(head(h[-1]), y).backward()
        opt.step()
    assert_no_waits(stand_in, step)


def test_transformer_block_causal_label_smoothing(stand_in, cuda):
    layer = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, dropout=0.1,
                                       batch_first=True).to(cuda)
    head = nn.Linear(16, 10).to(cuda)
    opt = optim.AdamW([*layer.parameters(), *head.parameters()], lr=1e-3)
    x, y = autograd.randn(4, 9, 16, device=cuda), autograd.randint(0, 10, (36,), device=cuda)
    mask = nn.Transformer.generate_square_subsequent_mask(9, device=cuda)

    def step():
        opt.zero_grad()
        out = layer(x, src_mask=mask, is_causal=True)
        F.cross_entropy(head(out).reshape(-1, 10), y, label_smoothing=0.1).backward()
        opt.step()
    assert_no_waits(stand_in, step)


def test_dcgan_step(stand_in, cuda):
    G = nn.Sequential(nn.ConvTranspose2d(8, 16, 4, 1, 0, bias=False), nn.BatchNorm2d(16),
                      nn.ReLU(), nn.ConvTranspose2d(16, 1, 4, 2, 1, bias=False),
                      nn.Tanh()).to(cuda)
    D = nn.Sequential(nn.Conv2d(1, 16, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
                      nn.Conv2d(16, 1, 4, 1, 0, bias=False), nn.Flatten()).to(cuda)
    opt_g = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = autograd.randn(4, 1, 8, 8, device=cuda)
    ones, zeros = autograd.ones(4, 1, device=cuda), autograd.zeros(4, 1, device=cuda)

    def step():
        fake = G(autograd.randn(4, 8, 1, 1, device=cuda))
        opt_d.zero_grad()
        (F.binary_cross_entropy_with_logits(D(real), ones) +
         F.binary_cross_entropy_with_logits(D(fake.detach()), zeros)).backward()
        opt_d.step()
        opt_g.zero_grad()
        F.binary_cross_entropy_with_logits(D(fake), ones).backward()
        opt_g.step()
    assert_no_waits(stand_in, step)


def test_vae_step(stand_in, cuda):
    enc = nn.Linear(20, 8).to(cuda)
    dec = nn.Sequential(nn.Linear(4, 20), nn.Sigmoid()).to(cuda)
    opt = optim.Adam([*enc.parameters(), *dec.parameters()], lr=1e-3)
    x = autograd.rand(8, 20, device=cuda)

    def step():
        opt.zero_grad()
        mu, logvar = enc(x).chunk(2, dim=1)
        z = mu + autograd.randn_like(mu) * (0.5 * logvar).exp()
        reconstruction = F.binary_cross_entropy(dec(z), x, reduction='sum')
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum()
        (reconstruction + kl).backward()
        opt.step()
    assert_no_waits(stand_in, step)


def _policy_step(cuda, validate_args):
    policy = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3)).to(cuda)
    opt = optim.Adam(policy.parameters(), lr=1e-2)
    obs, returns = autograd.randn(8, 6, device=cuda), autograd.randn(8, device=cuda)

    def step():
        opt.zero_grad()
        dist = Categorical(logits=policy(obs), validate_args=validate_args)
        action = dist.sample()
        (-(dist.log_prob(action) * returns).mean() - 0.01 * dist.entropy().mean()).backward()
        opt.step()
    return step


def test_policy_gradient_step(stand_in, cuda):
    assert_no_waits(stand_in, _policy_step(cuda, validate_args=False))


def test_policy_gradient_step_validating_syncs_where_pytorch_does(stand_in, cuda):
    """Argument validation (on by default, as in PyTorch) reads ``valid.all()`` on the host
    in PyTorch too: once for the logits, once for the sampled action."""
    counter = count_step(stand_in, _policy_step(cuda, validate_args=None))
    reads = [e.what for e in counter.syncs]
    assert {e.where.split(':')[0] for e in counter.syncs} == {
        'autograd/distributions/distribution.py'}, counter.report()
    assert reads.count('ndarray.item()') == 2 * COUNTED, counter.report()
    # besides: at that same sync, one read of the pending device-side check flags (gather's)
    assert reads.count('ndarray.tolist()') <= COUNTED, counter.report()
    assert len(reads) <= 3 * COUNTED


# ----------------------------------------------------------------------------- device-side checks

def test_a_device_check_raises_at_the_next_synchronisation(stand_in, cuda):
    logits = autograd.randn(4, 5, device=cuda)
    target = autograd.tensor([0, 1, 7, 2], device=cuda)          # 7: out of bounds
    with stand_in.count_syncs() as counter:
        loss = F.cross_entropy(logits, target)                     # no host read here
    assert counter.count() == 0, counter.report()
    with pytest.raises(IndexError, match='Target out of bounds'):
        loss.item()
    loss = F.cross_entropy(logits, target.clamp(max=4))            # raised once, then forgotten
    assert loss.item() > 0
    F.binary_cross_entropy(autograd.full((3,), 2.0, device=cuda), autograd.ones(3, device=cuda))
    with pytest.raises(RuntimeError, match='all elements of input should be between 0 and 1'):
        autograd.cuda.synchronize()


def test_on_the_cpu_a_data_check_raises_at_once():
    cpu = autograd.device('cpu')
    with pytest.raises(IndexError, match='Target out of bounds'):
        F.cross_entropy(autograd.randn(4, 5, device=cpu), autograd.tensor([0, 1, 7, 2], device=cpu))
    with pytest.raises(IndexError, match='index 7 is out of bounds for dimension 0 with size 4'):
        autograd.randn(4, device=cpu)[autograd.tensor([7], device=cpu)]


def test_rprop_and_causal_attention_step(stand_in, cuda):
    """Rprop fills its masks in place (``masked_fill_``, as PyTorch), a causal
    ``scaled_dot_product_attention`` passes its fill value, and ``relu6`` its bounds, as
    kernel arguments."""
    q = autograd.randn(2, 4, 6, 8, device=cuda, requires_grad=True)
    opt = optim.Rprop([q], lr=1e-2)

    def step():
        opt.zero_grad()
        F.scaled_dot_product_attention(F.relu6(q), q, q, is_causal=True).square().sum().backward()
        opt.step()
    assert_no_waits(stand_in, step)
