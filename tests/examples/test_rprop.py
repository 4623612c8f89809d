"""Rprop as the shorter text S0 (L1039-1057) defines it, by hand, against ``optim.Rprop``:
the same trajectory until a gradient changes sign, the variants' different answers to a
flip, and a digits network that Rprop trains full-batch."""
import numpy
import pytest

import autograd
from example_scripts import load_example, run_example

rp = load_example('rprop')


def test_the_texts_rule_on_one_weight_by_hand():
    # f(w) = (w - 3)^2 from 0, Delta_0 = 1, eta+ = 1.2, eta- = 0.5: steps 1, 1.2, 1.44 up
    # (no sign change), then the gradient flips at 3.64: Delta = 0.72 back to 2.92, flips
    # again: Delta = 0.36 to 3.28, again: 0.18 to 3.10, then no flip: 0.216 to 2.884
    assert rp.trajectory('text') == pytest.approx(
        [0, 1, 2.2, 3.64, 2.92, 3.28, 3.1, 2.884, 2.992], abs=1e-12)
    # PyTorch's rule (iRprop-): after the flip the weight waits one iteration at 3.64
    assert rp.trajectory('irprop-') == pytest.approx(
        [0, 1, 2.2, 3.64, 3.64, 2.92, 2.92, 3.28, 3.28], abs=1e-12)
    # Rprop+ with weight backtracking: the flip undoes the last change (back to 2.2)
    assert rp.trajectory('rprop+') == pytest.approx(
        [0, 1, 2.2, 3.64, 2.2, 2.92, 3.784, 2.92, 3.352], abs=1e-12)


def test_optim_rprop_is_the_hand_written_irprop_minus():
    assert rp.trajectory('optim') == rp.trajectory('irprop-')


def test_all_variants_coincide_until_the_first_sign_flip():
    dev = autograd.get_default_device()
    gen = autograd.Generator(dev).manual_seed(0)
    target = 5 + 5 * autograd.rand(50, dtype=autograd.float64, generator=gen, device=dev)

    def run(variant, steps):
        w = autograd.zeros(50, dtype=autograd.float64, device=dev, requires_grad=True)
        opt = (rp.optim.Rprop([w], lr=0.01) if variant == 'optim'
               else rp.HandRprop([w], lr=0.01, variant=variant))
        for _ in range(steps):
            opt.zero_grad()
            ((w - target) ** 2).sum().backward()
            opt.step()
        return w.detach(), opt

    # Delta grows 0.01 * 1.2^k: 20 steps cover 1.87 < 5, so no gradient changes sign
    ref, _ = run('optim', 20)
    for v in rp.VARIANTS:
        w, opt = run(v, 20)
        assert opt.flips == [0] * 20
        assert autograd.equal(w, ref), v
    # 40 steps overshoot the targets: the text's rule now moves where PyTorch's waits
    w_text, opt = run('text', 40)
    assert sum(opt.flips) > 0
    assert not autograd.equal(w_text, run('optim', 40)[0])
    assert autograd.equal(run('irprop-', 40)[0], run('optim', 40)[0])


def test_step_sizes_stay_in_their_range():
    w = autograd.tensor([0.0], requires_grad=True)
    opt = rp.HandRprop([w], lr=1.0, step_sizes=(0.1, 2.0))
    for _ in range(10):
        opt.zero_grad()
        (-w).sum().backward()            # constant gradient: Delta grows by 1.2 each step
        opt.step()
    assert opt.delta[0].item() == pytest.approx(2.0)
    with pytest.raises(ValueError, match='variant'):
        rp.HandRprop([w], variant='rprop++')


def test_rprop_script_on_digits(tmp_path):
    r = run_example('rprop', tmp_path, '--epochs', 30)
    # written by hand, PyTorch's rule is optim.Rprop to the last bit, on the whole network
    assert r['hand irprop- vs optim.Rprop: max |weight difference|'] == 0.0
    assert r['hand text vs optim.Rprop: max |weight difference|'] > 1e-3
    for name in ('optim.Rprop', 'hand text', 'hand rprop+'):
        assert r[name]['accuracy'] > 0.85, name        # 30 full-batch steps, 10 classes
    assert r['hand text']['sign flips'] > 0
    numpy.testing.assert_allclose(r['paths']['optim'], r['paths']['irprop-'])
    assert (tmp_path / 'rprop.png').stat().st_size > 0
