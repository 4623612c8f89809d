"""Chapter 6.5.3: the discriminative RBM: eq. 6.28 against brute force, eq. 6.29 against
the engine, and what it learns on binarised digits."""
import numpy

from example_scripts import load_example, run_example


def test_closed_form_posterior_is_the_marginal_over_hidden_states():
    crbm = load_example('classification_rbm')
    a = crbm.autograd
    dev = a.get_default_device()
    gen = a.Generator(dev).manual_seed(3)
    model = crbm.ClassificationRBM(6, 3, 5, device=dev, dtype=a.float64)   # Fig. 6.7's sizes
    with a.no_grad():
        for p in model.parameters():
            p.copy_(a.randn(p.shape, generator=gen, device=dev, dtype=a.float64))
    v = (a.rand(9, 6, generator=gen, device=dev) < 0.5).to(a.float64)
    closed = a.softmax(model(v), 1).detach().cpu().numpy()
    numpy.testing.assert_allclose(closed, crbm.brute_force_posterior(model, v).cpu().numpy(),
                                  rtol=1e-12)
    assert closed.shape == (9, 3)


def test_discriminative_rbm_learns_binarised_digits(tmp_path):
    r = run_example('classification_rbm', tmp_path, '--epochs', 8, '--hidden', 50)
    assert r['eq. 6.28 vs brute force: max error'] < 1e-12
    assert r['eq. 6.29 vs engine: max error'] < 1e-12
    assert r['held-out accuracy'] >= 0.88          # chance 0.1; the full run reaches ~0.93
    assert (tmp_path / 'classification_rbm.png').stat().st_size > 0
