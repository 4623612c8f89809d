"""Delta-bar-delta (S0 L456-478): the gain rule's numbers by hand, its limits, and gains
that let full-batch descent on digits outrun plain gradient descent at the same global
learning rate."""
import pytest

import autograd
from example_scripts import load_example, run_example

dbd = load_example('delta_bar_delta')


def gains_along(grads, **kw):
    """The gain of one weight after each step of a loss whose gradient is ``grads[t]``."""
    w = autograd.zeros(1, dtype=autograd.float64, requires_grad=True)
    opt = dbd.DeltaBarDelta([w], lr=0.01, **kw)
    out = []
    for g in grads:
        opt.zero_grad()
        (w * g).sum().backward()
        opt.step()
        out.append(opt.gains[0].item())
    return out, w.item()


def test_the_gain_grows_by_0_05_while_the_sign_holds():
    # first step: no previous gradient, the product is 0, not > 0: 0.95 * 1
    gains, w = gains_along([2.0] * 5)
    assert gains == pytest.approx([0.95, 1.0, 1.05, 1.1, 1.15], abs=1e-12)
    # w = -lr * sum(gain_t * g_t)
    assert w == pytest.approx(-0.01 * 2.0 * sum(gains), abs=1e-12)


def test_the_gain_decays_by_0_95_when_the_sign_flips_down_to_the_limit():
    gains, _ = gains_along([1.0, -1.0] * 3)
    assert gains == pytest.approx([0.95 ** k for k in range(1, 7)], abs=1e-12)
    gains, _ = gains_along([1.0, -1.0] * 30)           # 0.95^45 < 0.1
    assert gains[-1] == pytest.approx(0.1)
    gains, _ = gains_along([1.0] * 250)                 # 0.95 + 0.05 * 249 > 10
    assert gains[-1] == pytest.approx(10.0)


def test_jacobs_bar_compares_with_the_average_of_past_gradients():
    # theta = 0.7: after +1, +1, +1 the delta-bar is 0.3, 0.51, 0.657; a small -0.1 is a
    # disagreement for both rules (gain 1.05 -> 0.9975), and the bar stays positive
    # (-0.03 + 0.46 = 0.43), so the next +1 agrees with the bar but not with the last -0.1
    last, _ = gains_along([1.0, 1.0, 1.0, -0.1, 1.0])
    bar, _ = gains_along([1.0, 1.0, 1.0, -0.1, 1.0], compare='bar')
    assert last[-1] == pytest.approx(0.95 * 0.95 * 1.05)
    assert bar[-1] == pytest.approx(0.95 * 1.05 + 0.05)
    with pytest.raises(ValueError, match='compare'):
        dbd.DeltaBarDelta([autograd.zeros(1)], compare='mean')


def test_delta_bar_delta_script(tmp_path):
    r = run_example('delta_bar_delta', tmp_path, '--epochs', 40)
    gd = r['gradient descent']
    for name in ('delta-bar-delta (text)', 'delta-bar-delta (Jacobs bar)',
                 'delta-bar-delta + momentum'):
        # the same global lr; the gains (+0.05 a step: ~2.8 after 40) do the rest
        assert r[name]['loss'] < 0.8 * gd['loss'], name
        assert r[name]['mean gain'] > 1.5, name            # consistent signs raised the gains
        assert r[name]['accuracy'] > gd['accuracy'] + 0.05, name
    assert r['delta-bar-delta + momentum']['accuracy'] > 0.85
    assert (tmp_path / 'delta_bar_delta.png').stat().st_size > 0
