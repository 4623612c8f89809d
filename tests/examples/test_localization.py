"""Classification and localisation (sec. 8.6.2): boxes are (top-left corner, width, height)
of the pasted digit's ink; IoU by hand; the regression head trained on frozen convolutional
features leaves them bit-for-bit unchanged and finds the digits far better than the mean
box does."""
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


@pytest.mark.slow
def test_regression_head_on_frozen_features_finds_the_digits():
    r = loc.run(epochs=4, box_epochs=3, finetune_epochs=0, n_test=500, n_train=1500, lr=5e-3,
                log=None)
    accuracy, mean_iou, hit = r['frozen']
    assert r['frozen_weights_unchanged']
    assert accuracy > 0.6                                  # chance is 0.1
    assert mean_iou > r['mean_box'][0] + 0.2 and hit > 2 * r['mean_box'][1]


@pytest.mark.slow
def test_the_script_runs_all_three_steps_and_draws_boxes(tmp_path):
    r = run_example('localization', tmp_path, '--epochs', 1, '--box-epochs', 1,
                    '--finetune-epochs', 1, '--n-train', 128)
    assert r['frozen_weights_unchanged'] and set(r) >= {'frozen', 'finetuned', 'mean_box'}
    assert (tmp_path / 'boxes.png').stat().st_size > 0
