"""Chapter 6.7: stacked RBMs unrolled into a deep autoencoder, against random init."""
import numpy

from example_scripts import load_example, run_example


def test_unrolled_encoder_and_decoder_carry_the_rbm_weights():
    dbn = load_example('deep_belief_net')
    a = dbn.autograd
    dev = a.get_default_device()
    rbms = [dbn.rbm_example.RBM(6, 4, device=dev), dbn.rbm_example.RBM(4, 2, device=dev)]
    model = dbn.unroll(rbms, device=dev)
    v = a.rand(3, 6, device=dev)
    with a.no_grad():
        code = rbms[1].p_h(rbms[0].p_h(v))                    # the stack's upward pass
        logits = model(v)
        expected = rbms[1].p_v(code) @ rbms[0].W.T + rbms[0].b          # decoder, pre-sigmoid
    numpy.testing.assert_allclose(logits.cpu().numpy(), expected.cpu().numpy(), rtol=1e-5)
    numpy.testing.assert_allclose(model[:4](v).detach().cpu().numpy(), code.cpu().numpy(),
                                  rtol=1e-5)
    assert logits.shape == (3, 6)


def test_pretraining_beats_random_initialisation(tmp_path):
    r = run_example('deep_belief_net', tmp_path, '--data', 'digits', '--n', 1797,
                    '--epochs', 6, '--pretrain-epochs', 4)
    pre = r['stacked RBMs: held-out MSE after fine-tuning']
    rand = r['random init: held-out MSE after fine-tuning']
    assert r['stacked RBMs: held-out MSE before fine-tuning'] < 0.6 * r[
        'random init: held-out MSE before fine-tuning']
    assert pre < 0.85 * rand
    assert pre < r['stacked RBMs: held-out MSE before fine-tuning']   # fine-tuning helps
    assert (tmp_path / 'deep_belief_net.png').stat().st_size > 0
