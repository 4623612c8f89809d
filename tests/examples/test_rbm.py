"""Chapter 6.4: the binary RBM example: the CD update through the engine, exact
likelihoods by enumeration, and what training on binarised digits reaches."""
import itertools

import numpy
import pytest

from example_scripts import load_example, run_example


@pytest.fixture(scope='module')
def rbmod():
    return load_example('rbm')


def small_rbm(rbmod, d=5, m=3, seed=0):
    a = rbmod.autograd
    gen = a.Generator(a.get_default_device()).manual_seed(seed)
    rbm = rbmod.RBM(d, m, device=a.get_default_device())
    with a.no_grad():
        for p in rbm.parameters():
            p.copy_(a.randn(p.shape, generator=gen, device=p.device))
    return rbm, gen


def test_free_energy_surrogate_gradient_is_minus_the_books_cd_update(rbmod):
    a = rbmod.autograd
    rbm, gen = small_rbm(rbmod, 20, 7)
    v = (a.rand(16, 20, generator=gen, device=rbm.W.device) < 0.5).float()
    v_neg = rbmod.gibbs_chain(rbm, v, 3, gen)
    rbmod.cd_surrogate(rbm, v, v_neg).backward()
    dW, db, dc = rbmod.hand_update(rbm, v, v_neg)
    for grad, update in ((rbm.W.grad, dW), (rbm.b.grad, db), (rbm.c.grad, dc)):
        numpy.testing.assert_allclose(grad.cpu().numpy(), -update.cpu().numpy(),
                                      rtol=1e-5, atol=1e-6)


def test_free_energy_and_log_likelihood_match_brute_force_enumeration(rbmod):
    a = rbmod.autograd
    rbm, _ = small_rbm(rbmod)
    W, b, c = (p.detach().cpu().numpy().astype(float) for p in (rbm.W, rbm.b, rbm.c))
    V = numpy.array(list(itertools.product([0, 1], repeat=5)), float)
    H = numpy.array(list(itertools.product([0, 1], repeat=3)), float)
    E = -(V @ b)[:, None] - (H @ c)[None] - numpy.einsum('vi,ij,hj->vh', V, W, H)
    logZ = numpy.log(numpy.exp(-E).sum())
    F = -numpy.log(numpy.exp(-E).sum(1))
    Vt = a.tensor(V, dtype=a.float32, device=rbm.W.device)
    numpy.testing.assert_allclose(rbm.free_energy(Vt).detach().cpu().numpy(), F, rtol=1e-5)
    assert rbmod.log_partition(rbm) == pytest.approx(logZ, rel=1e-6)
    assert rbmod.log_likelihood(rbm, Vt[:7]) == pytest.approx((-F[:7] - logZ).mean(), rel=1e-5)


def test_books_initialisation_is_the_independent_pixel_model(rbmod):
    a = rbmod.autograd
    X = a.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0], [1.0, 0.0]], device=a.get_default_device())
    rbm = rbmod.RBM(2, 3, data=X, device=X.device)
    numpy.testing.assert_allclose(rbm.b.detach().cpu().numpy(),
                                  [numpy.log(0.75 / 0.25), numpy.log(0.25 / 0.75)], rtol=1e-5)
    assert (rbm.c == 0).all() and rbm.W.abs().max().item() < 0.1


def test_cd_training_on_binarised_digits(tmp_path):
    r = run_example('rbm', tmp_path, '--data', 'digits', '--n', 1797, '--epochs', 8,
                    '--small-epochs', 8, '--hidden', 25)
    assert r['reconstruction error after CD-1 (held out)'] < 0.7 * r[
        'reconstruction error at start']
    start = r['12 hidden, held-out log-likelihood: initialisation (independent pixels)']
    for name in ('CD-1', 'CD-10', 'PCD-1'):     # nats per 64-pixel image
        assert r[f'12 hidden, held-out log-likelihood: {name}'] > start + 2.5, name
    assert r['filters shown'] == 25 and (tmp_path / 'rbm.png').stat().st_size > 0
