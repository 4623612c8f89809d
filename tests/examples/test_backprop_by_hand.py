"""Backprop by hand (path enumeration, dynamic programming) against the engine's backward()."""
import math

import pytest

from example_scripts import load_example, run_example

bbh = load_example('backprop_by_hand')


def _grads(name, **point):
    fn, default = bbh.GRAPHS[name]
    rows, _, _ = bbh.check_graph(name, fn, point or default, 'cpu')
    return {r['input']: r for r in rows}


def test_sum_times_matches_hand_derivation():
    # f = (x + y) z at (-2, 5, -4): df/dx = df/dy = z = -4, df/dz = x + y = 3
    g = _grads('sum_times')
    for k, expected in dict(x=-4.0, y=-4.0, z=3.0).items():
        assert g[k]['by_paths'] == expected
        assert g[k]['by_backprop'] == expected
        assert g[k]['by_engine'] == expected


@pytest.mark.parametrize('name, n_paths', [('product_graph', 32), ('squaring_chain', 1)])
def test_w_to_the_32_has_gradient_32_w_31(name, n_paths):
    w = 1.1
    g = _grads(name, w=w)['w']
    assert g['paths'] == n_paths
    expected = 32 * w ** 31
    for key in ('by_paths', 'by_backprop', 'by_engine'):
        assert g[key] == pytest.approx(expected, rel=1e-12)


def test_product_graph_paths_double_per_layer_while_backprop_edges_grow_linearly():
    table = bbh.scaling_table(10)
    assert [r['paths'] for r in table] == [2 ** d for d in range(1, 11)]
    assert [r['edges'] for r in table] == [4 * d - 2 for d in range(1, 11)]


def test_shared_input_sums_its_two_paths():
    # f = x y + sin x: df/dx = y + cos x (two paths), df/dy = x
    g = _grads('shared_input', x=0.5, y=3.0)
    assert g['x']['paths'] == 2
    assert g['x']['by_paths'] == pytest.approx(3.0 + math.cos(0.5), rel=1e-14)
    assert g['x']['by_engine'] == pytest.approx(3.0 + math.cos(0.5), rel=1e-14)
    assert g['y']['by_engine'] == pytest.approx(0.5, rel=1e-14)


def test_sigmoid_net_gradients_match_finite_differences():
    fn, point = bbh.GRAPHS['sigmoid_net']
    g = _grads('sigmoid_net')
    h = 1e-6
    for k in point:
        plus = fn(bbh.hand, **{**{n: bbh.Node(v) for n, v in point.items()},
                               k: bbh.Node(point[k] + h)}).value
        minus = fn(bbh.hand, **{**{n: bbh.Node(v) for n, v in point.items()},
                                k: bbh.Node(point[k] - h)}).value
        assert g[k]['by_engine'] == pytest.approx((plus - minus) / (2 * h), abs=1e-9)
        assert g[k]['by_paths'] == pytest.approx(g[k]['by_engine'], rel=1e-12)


def test_main_agrees_with_backward_everywhere(tmp_path):
    result = run_example('backprop_by_hand', tmp_path, '--depth', 6)
    assert result['worst_relative_error'] < 1e-12
    # the visualiser drew the product graph: 9 multiplications forward, summed gradients back
    forward = (tmp_path / 'product_graph_forward.dot').read_text()
    assert forward.count('label="Mul"') == 9
    assert (tmp_path / 'product_graph_backward.dot').exists()


# ---- the book's Figs. 3.1-3.3 and the chapter's exercises 2-4 (sec. 3.10) ----------------

W_POINTS = [1.0, -0.7, 1.9, math.sqrt(math.pi / 4)]   # the last: w^2 = pi/4, sin = cos


@pytest.mark.parametrize('w', W_POINTS)
def test_fig_3_1_cos_w_squared_is_one_path_giving_minus_2w_sin_w_squared(w):
    g = _grads('cos_square', w=w)['w']
    assert g['paths'] == 1
    expected = -2 * w * math.sin(w * w)                # the book's univariate chain rule
    for key in ('by_paths', 'by_backprop', 'by_engine'):
        assert g[key] == pytest.approx(expected, rel=1e-14, abs=1e-15), key


@pytest.mark.parametrize('w', W_POINTS)
def test_fig_3_3_sin_plus_cos_of_w_squared_sums_two_paths(w):
    g = _grads('sin_cos_square', w=w)['w']
    assert g['paths'] == 2
    expected = -2 * w * math.sin(w * w) + 2 * w * math.cos(w * w)     # eq. 3.5's derivative
    for key in ('by_paths', 'by_backprop', 'by_engine'):
        assert g[key] == pytest.approx(expected, rel=1e-13, abs=1e-14), key


def test_fig_3_3_lists_the_two_path_products_of_the_book():
    w = 1.3
    paths = sorted(bbh.book_paths(bbh.sin_cos_square, w=w), key=lambda p: p[1])
    y = w * w
    # first path: dK/dp * g'(y) * f'(w) = 1 * (-sin y) * 2w; second: 1 * cos(z) * 2w
    expected = sorted([[2 * w, -math.sin(y), 1.0], [2 * w, math.cos(y), 1.0]],
                      key=math.prod)
    for (factors, product), want in zip(paths, expected):
        assert factors == pytest.approx(want, rel=1e-15)
        assert product == pytest.approx(math.prod(want), rel=1e-15)
    # at w^2 = pi/4 the two paths cancel exactly: the derivative is 0 (one path alone is not)
    w = math.sqrt(math.pi / 4)
    products = [p for _, p in bbh.book_paths(bbh.sin_cos_square, w=w)]
    assert abs(products[0]) > 1 and sum(products) == pytest.approx(0.0, abs=1e-15)


def _exercise(name):
    fn, point, upstream = bbh.EXERCISES[name]
    rows, _, _ = bbh.check_graph(name, fn, point, bbh.autograd.get_default_device(), upstream)
    return {r['input']: r for r in rows}


@pytest.mark.parametrize('name, paths, expected', [
    # 2: o = x1 x2, dL/do = 5, x = (2, 3): dL/dx1 = 5 x2, dL/dx2 = 5 x1
    ('exercise 2', 1, dict(x1=15.0, x2=10.0)),
    # 3: o = sum of the six x_i x_j, dL/do = 2, x = (1, 2, 3, 4): 2 * (10 - x_i)
    ('exercise 3', 3, dict(x1=18.0, x2=16.0, x3=14.0, x4=12.0)),
    # 4: o = max of them = x3 x4 = 12: only that unit passes dL/do on, 2 x4 and 2 x3
    ('exercise 4', 3, dict(x1=0.0, x2=0.0, x3=8.0, x4=6.0)),
])
def test_chapter_exercises_2_to_4_by_paths_by_backprop_and_by_the_engine(name, paths, expected):
    g = _exercise(name)
    assert set(g) == set(expected)
    for x, want in expected.items():
        assert g[x]['paths'] == paths
        assert g[x]['by_paths'] == want and g[x]['by_backprop'] == want, x
        assert g[x]['by_engine'] == want, x


def test_exercise_4_max_splits_the_gradient_among_ties_as_amax_does():
    # x = (1, 1, 1, 1): all six products tie at 1, each gets 1/6 of dL/do = 2, and x_i
    # reaches o through three of them with local derivative 1: dL/dx_i = 3 * 2 / 6 = 1
    fn, _, upstream = bbh.EXERCISES['exercise 4']
    rows, _, _ = bbh.check_graph('ties', fn, dict(x1=1.0, x2=1.0, x3=1.0, x4=1.0),
                                 bbh.autograd.get_default_device(), upstream)
    for r in rows:
        assert r['by_paths'] == pytest.approx(1.0) and r['by_engine'] == pytest.approx(1.0)


def test_main_reports_the_figures_and_the_exercises(tmp_path):
    result = run_example('backprop_by_hand', tmp_path, '--depth', 3)
    assert {r['graph'] for r in result['rows']} >= {'cos_square', 'sin_cos_square'}
    assert len(result['fig_3_3_paths']) == 2
    assert [r['by_engine'] for r in result['exercises']['exercise 3']] == [18, 16, 14, 12]
    assert (tmp_path / 'sin_cos_square_backward.dot').exists()
