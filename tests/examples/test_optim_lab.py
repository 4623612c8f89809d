"""Examples 13 and 14: optimizer trajectories on toy surfaces, and gradient checking of a
user-written layer."""
import math

import numpy
import pytest

from example_scripts import load_example, run_example


@pytest.fixture(scope='module')
def lab():
    return load_example('optimization_lab')


def run(lab, surface, optimizer, start=None):
    f, default_start, steps, _, lrs = lab.SURFACES[surface]
    return lab.descend(f, start or default_start, optimizer, lrs[optimizer], steps)


# ---- 13. optimisation lab -----------------------------------------------------------

@pytest.mark.parametrize('optimizer', ['SGD', 'momentum', 'Nesterov', 'AdaGrad', 'RMSProp',
                                       'AdaDelta', 'Adam'])
def test_every_optimizer_finds_the_bottom_of_the_bowl(lab, optimizer):
    x, y = run(lab, 'bowl', optimizer)[-1]
    assert lab.bowl(x, y) < 1e-3


def test_gradient_descent_escapes_the_saddle_as_the_linearisation_predicts(lab):
    # On f = x^2 - y^2, GD multiplies y by (1 + 2 lr) each step: from 1e-3 with lr 0.1,
    # |y| first exceeds 1 at step ceil(ln(1000) / ln(1.2)) = 38.
    path = run(lab, 'saddle', 'SGD')
    assert lab.escape_step(path) == math.ceil(math.log(1000) / math.log(1.2))


def test_adaptive_methods_escape_the_saddle_faster_than_gradient_descent(lab):
    sgd = lab.escape_step(run(lab, 'saddle', 'SGD'))
    for optimizer in ('AdaGrad', 'RMSProp', 'Adam'):
        assert lab.escape_step(run(lab, 'saddle', optimizer)) < sgd / 3, optimizer


def test_nothing_escapes_from_exactly_on_the_ridge(lab):
    for optimizer in ('SGD', 'Adam'):
        x, y = run(lab, 'saddle', optimizer, start=(-1.5, 0.0))[-1]
        assert y == 0.0, optimizer
        # ... yet it does descend, along the ridge into the saddle point (from x = -1.5:
        # SGD ends at -3e-10, Adam at -0.0066), so an optimizer that did nothing fails here
        assert abs(x) < 0.05, optimizer


def test_momentum_and_adam_reach_the_rosenbrock_minimum_where_gd_crawls(lab):
    for optimizer in ('momentum', 'Nesterov', 'Adam'):
        x, y = run(lab, 'Rosenbrock', optimizer)[-1]
        assert math.hypot(x - 1, y - 1) < 0.01, optimizer
    x, y = run(lab, 'Rosenbrock', 'SGD')[-1]
    assert math.hypot(x - 1, y - 1) > 0.2


# ---- gradient clipping (sec. 3.5.5) and Polyak averaging (sec. 3.5.7) ------------------

def test_norm_clipping_rescues_a_step_at_which_rosenbrock_overflows(lab):
    steps = 3000

    def final(lr, clip=None):
        return lab.descend_clipped(lab.rosenbrock, (-1.5, 2.0), lr, steps, clip, 1.0)

    overflow = final(3e-3)
    assert len(overflow) < 20 and not numpy.isfinite(overflow[-1]).all()
    stable = math.hypot(*(final(1e-3)[-1] - 1.0))
    norm = math.hypot(*(final(3e-3, 'norm')[-1] - 1.0))
    value = math.hypot(*(final(3e-3, 'value')[-1] - 1.0))
    assert norm < 0.5 * stable              # the clipped large step gets further
    assert norm < value < stable            # bending the direction (value clipping) costs


def test_norm_clipping_keeps_the_direction_and_value_clipping_bends_it(lab):
    point = lab.Point((-1.5, 2.0))
    lab.rosenbrock(point.p[0], point.p[1]).backward()
    g = point.p.grad.clone()
    lab.nn.utils.clip_grad_norm_(point.parameters(), 1.0)
    numpy.testing.assert_allclose(point.p.grad.cpu().numpy(), (g / g.norm()).cpu().numpy())
    point.p.grad = g.clone()
    lab.nn.utils.clip_grad_value_(point.parameters(), 1.0)
    numpy.testing.assert_allclose(point.p.grad.cpu().numpy(), g.sign().cpu().numpy())


def test_polyak_averages_follow_eq_3_57_and_the_recursive_formula(lab):
    iterates, mean, ema = lab.noisy_descent(lab.bowl, (-4.0, 1.5), 0.1, 60, beta=0.95)
    for t in (1, 10, 60):                  # the mean of W_1 .. W_t
        numpy.testing.assert_allclose(mean[t], iterates[1:t + 1].mean(0), rtol=1e-10)
    expected = iterates[1].copy()          # W^f_t = (1 - beta) W_t + beta W^f_{t-1}
    for t in range(2, 61):
        expected = 0.05 * iterates[t] + 0.95 * expected
    numpy.testing.assert_allclose(ema[60], expected, rtol=1e-10)


def test_polyak_averages_stop_the_bouncing_around_the_minimum(lab):
    iterates, mean, ema = lab.noisy_descent(lab.bowl, (-4.0, 1.5), 0.1, 200)

    def bouncing(path):                    # mean distance to the minimum, last 50 steps
        return numpy.hypot(*path[-50:].T).mean()
    assert bouncing(mean) < 0.25 * bouncing(iterates)
    assert bouncing(ema) < 0.6 * bouncing(iterates)


def short_paths(lab, steps=40, optimizers=None):
    return {name: {o: lab.descend(f, start, o, lrs[o], steps) for o in optimizers or lrs}
            for name, (f, start, _, _, lrs) in lab.SURFACES.items()}


def labelled_lines(ax):
    return [line for line in ax.get_lines() if not line.get_label().startswith('_')]


def test_rosenbrock_figure_is_one_panel_per_optimizer_and_a_log_distance_panel(lab):
    paths = short_paths(lab)['Rosenbrock']
    fig = lab.plot_rosenbrock(paths)
    assert len(fig.axes) == 7 + 1
    for ax, name in zip(fig.axes, lab.OPTIMIZERS):   # each panel shows its optimizer alone
        assert [line.get_label() for line in labelled_lines(ax)] == [name]
        assert ax.get_title().startswith(name)
    summary = fig.axes[-1]
    assert summary.get_yscale() == 'log'
    assert [line.get_label() for line in labelled_lines(summary)] == list(lab.OPTIMIZERS)
    # the plotted distances are the trajectories' distances to (1, 1)
    numpy.testing.assert_allclose(labelled_lines(summary)[-1].get_ydata(),
                                  numpy.hypot(*(paths['Adam'] - 1.0).T))


def test_progress_figure_draws_seven_distinguishable_log_scaled_curves_per_surface(lab):
    fig = lab.plot_progress(short_paths(lab))
    assert len(fig.axes) == 3
    for ax in fig.axes:
        assert ax.get_yscale() == 'log'
        lines = labelled_lines(ax)
        assert len(lines) == 7
        styles = {(line.get_color(), line.get_linestyle(), line.get_marker()) for line in lines}
        assert len(styles) == 7                      # no two optimizers look alike
    saddle = {line.get_label(): line.get_ydata() for line in labelled_lines(fig.axes[1])}
    assert saddle['SGD'][0] == pytest.approx(1e-3)   # |y| from the start 1e-3 off the ridge


def test_trajectory_figure_covers_the_bowl_and_the_saddle(lab):
    fig = lab.plot_trajectories(short_paths(lab, 10, ['SGD', 'Adam']))
    assert [ax.get_title() for ax in fig.axes] == ['bowl', 'saddle']
    assert all(len(labelled_lines(ax)) == 2 for ax in fig.axes)


@pytest.mark.slow
def test_optimization_lab_script_plots_all_trajectories(tmp_path):
    r = run_example('optimization_lab', tmp_path, '--only', 'SGD', 'Adam')
    assert set(r) == {'bowl', 'saddle', 'Rosenbrock', 'remedies', 'figures'}
    assert r['Rosenbrock']['Adam']['distance'] < 1e-3
    assert r['remedies']['clipping']['lr 3e-3']['distance'] == math.inf
    for name in ('trajectories', 'rosenbrock', 'progress', 'clipping_polyak'):
        assert (tmp_path / f'{name}.png').exists(), name
    assert len(r['figures']['rosenbrock'].axes) == 2 + 1
    assert r['figures']['clipping_polyak'].axes[1].get_yscale() == 'log'


# ---- 14. gradient checking ----------------------------------------------------------

@pytest.fixture(scope='module')
def demo():
    return load_example('gradcheck_demo')


def inputs(demo):
    g = demo.autograd.Generator(demo.autograd.get_default_device()).manual_seed(1)
    return tuple(demo.autograd.randn(*s, generator=g, dtype=demo.autograd.float64,
                                     requires_grad=True) for s in ((5, 3), (4, 3), (4,)))


def test_the_correct_layer_passes_gradcheck_and_gradgradcheck(demo):
    assert demo.autograd.gradcheck(demo.TanhLinear.apply, inputs(demo))
    assert demo.autograd.gradgradcheck(demo.TanhLinear.apply, inputs(demo))


@pytest.mark.parametrize('bug', ['WrongDerivative', 'IgnoresGradOutput'])
def test_gradcheck_catches_a_wrong_backward(demo, bug):
    fn = getattr(demo, bug).apply
    assert demo.autograd.gradcheck(fn, inputs(demo), raise_exception=False) is False
    with pytest.raises(demo.autograd.GradcheckError, match='Jacobian mismatch'):
        demo.autograd.gradcheck(fn, inputs(demo))


def test_demo_jacobians_agree_exactly_when_the_backward_is_right(demo):
    x, w, b = inputs(demo)
    numerical, analytical = demo.jacobians(lambda t: demo.TanhLinear.apply(t, w, b), x)
    assert len(numerical) == len(analytical) == 15 * 20
    assert max(abs(a - n) for a, n in zip(analytical, numerical)) < 1e-8


def test_gradcheck_demo_script_reports_and_the_checked_layer_trains(tmp_path):
    r = run_example('gradcheck_demo', tmp_path, '--epochs', 300)
    assert r['correct'] is True and r['gradgradcheck'] is True
    assert r['wrong derivative'] is False and r['ignores grad_output'] is False
    assert r['fit_mse'] < 5e-3                   # sin(x) has variance ~0.6 on [-2, 2]
    assert (tmp_path / 'jacobians.png').exists()
    fig = r['figure']
    assert [ax.get_title() for ax in fig.axes] == [
        'correct: passes', 'wrong derivative: caught', 'ignores grad_output: caught']
    for ax in fig.axes:
        assert ax.get_xscale() == ax.get_yscale() == 'symlog'
        depends, structural_zero, diagonal = labelled_lines(ax)
        x, y = depends.get_xdata(), depends.get_ydata()
        assert (x > 0).any() and (x < 0).any()   # entries of both signs are drawn
        assert len(x) + len(structural_zero.get_xdata()) == 4 * 3 * 4 * 2
        assert (structural_zero.get_xdata() == 0).all()
        lo, hi = ax.get_xlim()                   # nothing is clipped off either side
        assert lo < min(x) and max(x) < hi
    correct = labelled_lines(fig.axes[0])
    numpy.testing.assert_allclose(correct[0].get_ydata(), correct[0].get_xdata(), atol=1e-8)
    assert (correct[1].get_ydata() == 0).all()   # a right backward: zero where it must be
    assert (labelled_lines(fig.axes[2])[1].get_ydata() != 0).any()   # the bug shows off-block
