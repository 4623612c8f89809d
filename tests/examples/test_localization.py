"""Classification and localisation (sec. 8.6.2): boxes are (top-left corner, width, height)
of the pasted digit's ink; IoU by hand; the regression head trained on frozen convolutional
features leaves them bit-for-bit unchanged and finds the digits far better than the mean
box does.  The sliding window (book: "perform the localization at multiple locations in the
image ... and then integrate the results"): the window network's convolutional maps on the
whole canvas are bit-for-bit the maps of each window, its outputs those of the loop over
windows (the only difference: BLAS sums the fully connected layers in another order), its
head the two fully connected layers it stands for; trained, it localises the digits better
than the box-regression head and the fully convolutional pass is faster than the loop."""
import numpy
import pytest

import autograd
from example_scripts import load_example, run_example

loc = load_example('localization')


def test_boxes_are_the_pasted_ink():
    X, _ = loc._data.mnist5k()
    images, boxes = loc.place_digits(X[:20], seed=3)
    for image, box in zip(images[:, 0], boxes * loc.CANVAS):
        r0, c0, h, w = loc.ink_box(image)
        numpy.testing.assert_allclose(box, [c0, r0, w, h], atol=1e-4)   # x, y, w, h


def test_iou_by_hand():
    a = autograd.tensor([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0]])
    b = autograd.tensor([[1.0, 1.0, 2.0, 2.0], [0.0, 0.0, 1.0, 1.0], [2.0, 2.0, 1.0, 1.0]])
    # overlap 1 of union 4 + 4 - 1; identical; disjoint
    numpy.testing.assert_allclose(loc.iou(a, b).cpu().numpy(), [1 / 7, 1.0, 0.0], rtol=1e-6)


def test_heads_share_the_backbone_features():
    backbone = loc.Backbone().eval()
    cls_head = loc.classification_head(backbone.maps, backbone.side)
    box_head = loc.regression_head(backbone.maps, backbone.side)
    with autograd.no_grad():
        f = backbone(autograd.zeros(2, 1, loc.CANVAS, loc.CANVAS))
        assert tuple(f.shape) == (2, 32, 7, 7)
        assert tuple(cls_head(f).shape) == (2, 10) and tuple(box_head(f).shape) == (2, 4)
    # two fully connected layers each; the regression head ends in a linear regression layer
    assert sum(isinstance(m, loc.nn.Linear) for m in cls_head) == 2
    assert sum(isinstance(m, loc.nn.Linear) for m in box_head) == 3
    assert isinstance(box_head[-1], loc.nn.Linear)


def _canvases(n, seed=0):
    X, y = loc._data.mnist5k()
    images, boxes = loc.place_digits(X[:n], seed=seed)
    return images, y[:n], boxes


def test_window_grid_tiles_the_canvas():
    assert loc.GRID == 5
    corners = [i * loc.STRIDE - loc.PAD for i in range(loc.GRID)]
    assert corners[0] <= 0 and corners[-1] + loc.WINDOW >= loc.CANVAS
    # every placed digit is held (COVERAGE of its box) by at least one window of the grid
    _, _, boxes = _canvases(200, seed=1)
    ox, oy = (a.ravel() for a in numpy.meshgrid(numpy.arange(loc.GRID) * loc.STRIDE,
                                                 numpy.arange(loc.GRID) * loc.STRIDE))
    for box in boxes:
        holds, _ = loc.window_targets(numpy.repeat(box[None], ox.size, 0), ox, oy)
        assert holds.any()


def test_window_targets_by_hand():
    # a 4 x 6 box at canvas (x, y) = (5, 7): padded (7, 9)
    box = numpy.array([[5, 7, 4, 6]], numpy.float32) / loc.CANVAS
    holds, rel = loc.window_targets(box, numpy.array([4]), numpy.array([8]))
    assert holds[0]
    numpy.testing.assert_allclose(rel[0] * loc.WINDOW, [3, 1, 4, 6], atol=1e-5)
    # the window at padded (9, 9) covers 2 of the 4 columns: half the box, not held
    holds, _ = loc.window_targets(box, numpy.array([9]), numpy.array([9]))
    assert not holds[0]


def test_window_data_labels_match_the_windows():
    images, labels, boxes = _canvases(30, seed=2)
    windows, classes, rel, holds = loc.window_data(images, labels, boxes, seed=0)
    assert windows.shape == (90, 1, loc.WINDOW, loc.WINDOW)
    numpy.testing.assert_array_equal(classes[:30][holds[:30]], labels[holds[:30]])
    assert (classes[~holds] == loc.BACKGROUND).all() and holds.mean() > 0.3
    # counted in pixels: a held digit's box has COVERAGE of its pixels in the window, and
    # the window's ink lies inside the box relative to the window
    for w, r, h, i in zip(windows, rel, holds, numpy.tile(numpy.arange(30), 3)):
        x, y, bw, bh = numpy.round(r * loc.WINDOW).astype(int)
        m = 2 * loc.WINDOW                                   # room around the window
        inside = numpy.zeros((2 * m + loc.WINDOW,) * 2, bool)
        inside[m + y:m + y + bh, m + x:m + x + bw] = True
        in_window = inside[m:m + loc.WINDOW, m:m + loc.WINDOW]
        assert h == (in_window.sum() >= loc.COVERAGE * bw * bh)
        assert (w[0][~in_window] == 0).all()


@pytest.mark.parametrize('dtype', [autograd.float32, autograd.float64])
def test_fully_convolutional_pass_is_the_window_loop(dtype):
    autograd.manual_seed(0)
    net = loc.WindowNet().to(dtype=dtype).eval()
    images = autograd.tensor(_canvases(16, seed=3)[0]).to(dtype)
    tol = 1e-13 if dtype == autograd.float64 else 1e-5
    with autograd.no_grad():
        padded = loc.pad_canvas(images)
        maps = net.features(padded)                                # (16, 32, 7, 7)
        for i in range(loc.GRID):
            for j in range(loc.GRID):
                r, c = i * loc.STRIDE, j * loc.STRIDE
                window = net.features(padded[:, :, r:r + loc.WINDOW, c:c + loc.WINDOW])
                # the convolutional maps: the same numbers (to the rounding of products
                # whose BLAS tiling differs with the image's width)
                numpy.testing.assert_allclose(window.cpu().numpy(),
                                              maps[:, :, i:i + 2, j:j + 2].cpu().numpy(),
                                              rtol=0, atol=tol)
        loop = loc.windows_loop(net, images)
        fully = loc.windows_fully_convolutional(net, images)
    assert tuple(fully.shape) == (16, 15, loc.GRID, loc.GRID)
    numpy.testing.assert_allclose(fully.cpu().numpy(), loop.cpu().numpy(), rtol=0, atol=tol)
    (c_loop, b_loop), (c_fully, b_fully) = loc.integrate(loop), loc.integrate(fully)
    assert autograd.equal(c_loop, c_fully)
    numpy.testing.assert_allclose(b_fully.cpu().numpy(), b_loop.cpu().numpy(), atol=tol)


def test_head_convolutions_are_fully_connected_layers():
    autograd.manual_seed(1)
    net = loc.WindowNet().double().eval()
    fc = net.fully_connected()
    assert [m.weight.shape for m in fc if isinstance(m, loc.nn.Linear)] == [(64, 128), (15, 64)]
    windows = autograd.randn(8, 1, loc.WINDOW, loc.WINDOW, dtype=autograd.float64)
    with autograd.no_grad():
        f = net.features(windows)
        assert tuple(f.shape) == (8, 32, 2, 2)
        numpy.testing.assert_allclose(fc(f).cpu().numpy(), net(windows).cpu().numpy(),
                                      rtol=0, atol=1e-13)


def test_integrate_merges_the_confident_windows_by_hand():
    maps = autograd.zeros(1, 15, loc.GRID, loc.GRID, dtype=autograd.float64)
    maps[0, loc.BACKGROUND] = 20.0                                 # background everywhere
    # window (1, 2) sure of a 7, window (1, 3) of a 7 too; their boxes in window units
    for j, box in ((2, [2, 3, 6, 8]), (3, [-2, 3, 6, 8])):
        maps[0, loc.BACKGROUND, 1, j] = 0.0
        maps[0, 7, 1, j] = 20.0
        maps[0, 11:, 1, j] = autograd.tensor(box, dtype=autograd.float64) / loc.WINDOW
    classes, boxes = loc.integrate(maps)
    assert classes.tolist() == [7]
    # both windows put the box at canvas x = 2 * 4 - 2 + 2 = 8 (= 3 * 4 - 2 - 2), y = 4 - 2 + 3
    numpy.testing.assert_allclose(boxes[0].cpu().numpy() * loc.CANVAS, [8, 5, 6, 8], atol=1e-6)


@pytest.mark.slow
def test_regression_head_on_frozen_features_finds_the_digits():
    r = loc.run(epochs=4, box_epochs=3, finetune_epochs=0, n_test=500, n_train=1500, lr=5e-3,
                log=None)
    accuracy, mean_iou, hit = r['frozen']
    assert r['frozen_weights_unchanged']
    assert accuracy > 0.6                                  # chance is 0.1
    assert mean_iou > r['mean_box'][0] + 0.2 and hit > 2 * r['mean_box'][1]
    # the sliding window, trained on windows of the same training canvases
    rows = loc.compare_sliding_window(r, epochs=3, log=None)
    loop = rows['sliding window, loop over windows']
    fully = rows['sliding window, fully convolutional']
    assert loop['mean_iou'] == fully['mean_iou'] and loop['accuracy'] == fully['accuracy']
    assert fully['mean_iou'] > mean_iou and fully['hit'] > 0.9
    assert fully['seconds'] < loop['seconds']


@pytest.mark.slow
def test_the_script_runs_all_three_steps_and_draws_boxes(tmp_path):
    r = run_example('localization', tmp_path, '--epochs', 1, '--box-epochs', 1,
                    '--finetune-epochs', 1, '--n-train', 128, '--window-epochs', 1,
                    '--n-test', 200)
    assert r['frozen_weights_unchanged'] and set(r) >= {'frozen', 'finetuned', 'mean_box'}
    assert set(r['sliding_window']) >= {'box-regression head', 'sliding window, loop over '
                                        'windows', 'sliding window, fully convolutional'}
    assert (tmp_path / 'boxes.png').stat().st_size > 0
