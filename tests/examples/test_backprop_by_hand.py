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
