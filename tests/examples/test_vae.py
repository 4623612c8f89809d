"""The variational autoencoder learns: its held-out ELBO climbs far above the untrained one."""
import math

import pytest

import autograd
from example_scripts import load_example

vae = load_example('vae')


def test_kl_term_is_the_closed_form_gaussian_kl():
    # KL(N(mu, s^2) || N(0, 1)) = (mu^2 + s^2 - 1) / 2 - log s, per dimension
    mu = autograd.tensor([[0.5, -1.0]], dtype=autograd.float64)
    logvar = autograd.tensor([[math.log(0.25), 0.0]], dtype=autograd.float64)
    logits = autograd.zeros(1, 3, dtype=autograd.float64)
    x = autograd.tensor([[0.0, 1.0, 0.5]], dtype=autograd.float64)
    total, rec, kl = vae.negative_elbo(logits, x, mu, logvar)
    expected_kl = (0.25 + 0.25 - 1) / 2 - math.log(0.5) + (1.0 + 1.0 - 1) / 2
    assert kl.item() == pytest.approx(expected_kl, rel=1e-12)
    assert rec.item() == pytest.approx(3 * math.log(2.0), rel=1e-12)  # p = 1/2 per pixel
    assert total.item() == pytest.approx(expected_kl + 3 * math.log(2.0), rel=1e-12)


def test_reparameterised_sample_carries_gradients_to_mu_and_logvar():
    model = vae.VAE(6, latent=2, hidden=4)
    logits, mu, logvar = model(autograd.rand(3, 6))
    logits.sum().backward()
    assert model.mu.weight.grad.abs().sum().item() > 0
    assert model.logvar.weight.grad.abs().sum().item() > 0


@pytest.mark.slow
def test_elbo_and_reconstruction_improve_on_mnist5k():
    result = vae.train('mnist5k', latent=8, epochs=3, n_test=500, log=None)
    initial, final = result['initial'], result['final']
    # untrained: about -784 ln 2 = -543 nats; three epochs reach about -190
    assert final['elbo'] > initial['elbo'] + 250
    assert final['mse'] < 0.3 * initial['mse']
    assert final['kl'] > 1.0  # the code is used: the posterior has not collapsed to the prior


# ---- the conditional VAE (sec. 4.10.4.2): completing digits with a missing bottom half ----

def test_the_damage_keeps_the_top_half_rows():
    keep = vae.bottom_half_missing(4).reshape(4, 4).cpu().tolist()
    assert keep == [[1.0] * 4, [1.0] * 4, [0.0] * 4, [0.0] * 4]


def test_the_context_enters_both_encoder_and_decoder():
    model = vae.VAE(6, latent=2, hidden=4, n_cond=6)
    x, c = autograd.rand(3, 6), autograd.rand(3, 6).requires_grad_()
    logits, mu, logvar = model(x, c)
    assert logits.shape == (3, 6) and mu.shape == (3, 2)
    (g_enc,) = autograd.grad(mu.sum(), c, retain_graph=True)
    (g_dec,) = autograd.grad(model.decode(mu.detach(), c).sum(), c)
    assert g_enc.abs().sum().item() > 0 and g_dec.abs().sum().item() > 0


@pytest.mark.slow
def test_conditional_vae_completes_missing_halves_better_than_the_mean_digit(tmp_path):
    from example_scripts import run_example
    result = run_example('vae', tmp_path, '--conditional', '--epochs', 10)
    assert result['completion_mse'] < 0.8 * result['mean_image_mse']     # seed 0: 0.72
    # the missing half is ambiguous: different z give different completions there, while
    # the half the context shows varies less
    assert result['spread_missing'] > 1.3 * result['spread_kept']        # seed 0: 1.6
    assert (tmp_path / 'conditional_completions.png').exists()
