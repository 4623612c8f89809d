"""Every loss against PyTorch: value, gradient and (where PyTorch has one) second-order
gradient, for each reduction and option, including logits of magnitude 1e4."""
import warnings

import numpy as np
import pytest

import autograd
import nn
from layer_check import check_layer
from oracle import check_op, check_raises, is_torch_tensor, rand, to_numpy, torch, functional as F

REDUCTIONS = ['mean', 'sum', 'none']


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')      # PyTorch's deprecation notes (kl_div 'mean')
        yield


X = rand(4, 5)
T = rand(4, 5, seed=7)
Y = np.array([1, 0, 4, 2])
W5 = rand(5, low=0.1, high=2.0, seed=9)
PROBS = np.random.default_rng(1).dirichlet(np.ones(5), 4)


# ----------------------------------------------------------------------------- cross-entropy

CE_OPTIONS = [{}, dict(weight=True), dict(ignore_index=0), dict(label_smoothing=0.2),
              dict(weight=True, label_smoothing=0.3, ignore_index=4)]


def _opts(lib, kw):
    kw = dict(kw)
    if kw.get('weight') is True:
        kw['weight'] = lib.tensor(W5)
    return kw


@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('kw', CE_OPTIONS)
def test_cross_entropy_class_indices(reduction, kw):
    check_op(lambda lib, x: F(lib).cross_entropy(x, lib.tensor(Y), reduction=reduction,
                                                 **_opts(lib, kw)), X)


@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('kw', [{}, dict(weight=True), dict(weight=True, label_smoothing=0.3)])
def test_cross_entropy_default_ignore_index_rows(reduction, kw):
    """Targets at the default ignore_index (-100) contribute nothing, with class weights and
    label smoothing too (which would otherwise fill their rows)."""
    y = Y.copy()
    y[[1, 3]] = -100
    check_op(lambda lib, x: F(lib).cross_entropy(x, lib.tensor(y), reduction=reduction,
                                                 **_opts(lib, kw)), X)


@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('kw', CE_OPTIONS[:3])
def test_nll_loss(reduction, kw):
    check_op(lambda lib, x: F(lib).nll_loss(x, lib.tensor(Y), reduction=reduction,
                                            **_opts(lib, kw)), X)


@pytest.mark.parametrize('reduction', REDUCTIONS)
def test_cross_entropy_spatial_targets(reduction):
    x = rand(2, 4, 3, 2)
    y = np.random.default_rng(0).integers(0, 4, (2, 3, 2))
    y[0, 0, 0] = -100
    for fn in ('cross_entropy', 'nll_loss'):
        check_op(lambda lib, x: getattr(F(lib), fn)(x, lib.tensor(y), reduction=reduction,
                                                    weight=lib.tensor(W5[:4])), x)
    check_op(lambda lib, x: F(lib).cross_entropy(x, lib.tensor(y), reduction=reduction,
                                                 label_smoothing=0.1), x)


@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('smoothing', [0.0, 0.25])
def test_cross_entropy_probabilities_with_target_gradient(reduction, smoothing):
    check_op(lambda lib, x, t: F(lib).cross_entropy(x, t, reduction=reduction,
                                                    label_smoothing=smoothing,
                                                    weight=lib.tensor(W5)), X, PROBS)
    check_op(lambda lib, x, t: F(lib).cross_entropy(x, t, reduction=reduction),
             rand(2, 4, 3), rand(2, 4, 3, low=0, high=1, seed=3))


@pytest.mark.parametrize('reduction', REDUCTIONS)
def test_cross_entropy_unbatched(reduction):
    check_op(lambda lib, x: F(lib).cross_entropy(x, lib.tensor(2), reduction=reduction),
             rand(5))
    check_op(lambda lib, x, t: F(lib).cross_entropy(x, t, reduction=reduction), rand(5),
             PROBS[0])


@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('dtype', ['float64', 'float32'])
def test_cross_entropy_huge_logits(reduction, dtype):
    big = (X * 1e4).astype(dtype)
    check_op(lambda lib, x: F(lib).cross_entropy(x, lib.tensor(Y), reduction=reduction,
                                                 label_smoothing=0.1), big)


def test_cross_entropy_gradient_is_softmax_minus_onehot():
    x = autograd.tensor(X, requires_grad=True)
    nn.functional.cross_entropy(x, autograd.tensor(Y), reduction='sum').backward()
    e = np.exp(X - X.max(1, keepdims=True))
    expected = e / e.sum(1, keepdims=True) - np.eye(5)[Y]
    np.testing.assert_allclose(to_numpy(x.grad), expected, rtol=1e-12)


def test_cross_entropy_is_one_node():
    x = autograd.tensor(X, requires_grad=True)
    loss = nn.functional.cross_entropy(x, autograd.tensor(Y))
    assert loss.grad_fn.next_functions[0][0].name() == 'AccumulateGrad'


def test_cross_entropy_all_ignored_mean_is_nan():
    check_op(lambda lib, x: F(lib).cross_entropy(x, lib.tensor([-100] * 4)), X, grad=False)


CE_ERRORS = [
    (lambda lib, x: F(lib).cross_entropy(x, lib.tensor([1, 2])), ValueError, 'batch_size'),
    (lambda lib, x: F(lib).cross_entropy(x, lib.tensor([1, 2, 5, 0])), IndexError,
     'out of bounds'),
    (lambda lib, x: F(lib).cross_entropy(x, lib.tensor(Y), weight=lib.ones(3)), RuntimeError,
     'weight tensor should be defined'),
    (lambda lib, x: F(lib).cross_entropy(x, lib.tensor(Y, dtype=lib.int32)), RuntimeError,
     'Long or Byte'),
    (lambda lib, x: F(lib).cross_entropy(x, lib.zeros(4, 3)), RuntimeError, 'multi-target'),
    (lambda lib, x: F(lib).cross_entropy(x, lib.zeros(4, 5), ignore_index=1), RuntimeError,
     'ignore_index'),
    (lambda lib, x: F(lib).cross_entropy(x, lib.tensor(Y), label_smoothing=1.5), RuntimeError,
     'label_smoothing'),
    (lambda lib, x: F(lib).cross_entropy(x, lib.tensor(Y), reduction='avg'), ValueError,
     'not a valid value'),
    (lambda lib, x: F(lib).nll_loss(x.reshape(2, 5, 2, 1), lib.zeros(2, 3, 3, dtype=lib.long)),
     RuntimeError, 'size mismatch'),
    # a 0-d target is a batch of 0 beside a batched input (one row, a smoothed, weighted or
    # spatial loss, a float target too): PyTorch's ValueError, not an error in backward
    (lambda lib, x: F(lib).cross_entropy(x[:1], lib.tensor(2)), ValueError,
     r'Expected input batch_size \(1\) to match target batch_size \(0\)\.'),
    (lambda lib, x: F(lib).nll_loss(x, lib.tensor(2), reduction='sum'), ValueError,
     r'Expected input batch_size \(4\) to match target batch_size \(0\)\.'),
    (lambda lib, x: F(lib).cross_entropy(x[:1], lib.tensor(2), label_smoothing=0.1), ValueError,
     r'batch_size \(1\) to match target batch_size \(0\)'),
    (lambda lib, x: F(lib).cross_entropy(x[:1], lib.tensor(2), weight=lib.ones(5)), ValueError,
     r'batch_size \(1\) to match target batch_size \(0\)'),
    (lambda lib, x: F(lib).cross_entropy(x.reshape(1, 5, 4), lib.tensor(2)), ValueError,
     r'batch_size \(1\) to match target batch_size \(0\)'),
    (lambda lib, x: F(lib).cross_entropy(x[:1], lib.tensor(0.5)), ValueError,
     r'batch_size \(1\) to match target batch_size \(0\)'),
]


@pytest.mark.parametrize('fn,exc,match', CE_ERRORS)
def test_class_loss_errors_match_pytorch(fn, exc, match):
    check_raises(fn, X, exc=exc, match=match)


def test_unbatched_input_takes_a_0d_target():
    check_op(lambda lib, x: F(lib).cross_entropy(x[0], lib.tensor(2)), X)
    check_op(lambda lib, x: F(lib).nll_loss(x[0], lib.tensor(3), reduction='none'), X)


# ----------------------------------------------------------------------------- binary

P = rand(4, 5, low=0.05, high=0.95)
PT = rand(4, 5, low=0.0, high=1.0, seed=3)


@pytest.mark.parametrize('reduction', REDUCTIONS)
def test_binary_cross_entropy(reduction):
    check_op(lambda lib, x, t: F(lib).binary_cross_entropy(x, t, reduction=reduction), P, PT)
    check_op(lambda lib, x, t: F(lib).binary_cross_entropy(x, t, reduction=reduction,
                                                           weight=lib.tensor(W5)), P, PT)


def test_binary_cross_entropy_clamps_log_at_minus_100():
    x = np.array([0.0, 1.0, 0.5])
    t = np.array([1.0, 0.0, 0.5])
    check_op(lambda lib, x: F(lib).binary_cross_entropy(x, lib.tensor(t), reduction='none'), x,
             double=False, rtol=1e-8)


@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('scale', [1.0, 1e4])
def test_bce_with_logits(reduction, scale):
    x = X * scale
    check_op(lambda lib, x, t: F(lib).binary_cross_entropy_with_logits(x, t,
                                                                       reduction=reduction), x, PT)
    check_op(lambda lib, x, t: F(lib).binary_cross_entropy_with_logits(
        x, t, reduction=reduction, pos_weight=lib.tensor(np.arange(1.0, 6.0)),
        weight=lib.tensor(rand(4, 1, low=0.1, seed=4))), x, PT)


@pytest.mark.parametrize('reduction', REDUCTIONS)
def test_target_gradients_of_first_order(reduction):
    """First derivatives alone (no graph of the backward) take each loss's array formulas."""
    check_op(lambda lib, x, t: F(lib).cross_entropy(x, t, reduction=reduction, label_smoothing=0.25,
                                                    weight=lib.tensor(W5)), X, PROBS, double=False)
    check_op(lambda lib, x, t: F(lib).binary_cross_entropy(x, t, reduction=reduction,
                                                           weight=lib.tensor(W5)), P, PT,
             double=False)
    check_op(lambda lib, x, t: F(lib).binary_cross_entropy_with_logits(
        x, t, reduction=reduction, pos_weight=lib.tensor(np.arange(1.0, 6.0)),
        weight=lib.tensor(rand(4, 1, low=0.1, seed=4))), X, PT, double=False)


def test_binary_losses_size_errors():
    check_raises(lambda lib, x, t: F(lib).binary_cross_entropy(x, t), P, PT[:, :3],
                 exc=ValueError)
    check_raises(lambda lib, x, t: F(lib).binary_cross_entropy_with_logits(x, t), X, PT[:3],
                 exc=ValueError)
    check_raises(lambda lib, x, t: F(lib).binary_cross_entropy(x * 2, t), P, PT,
                 match='between 0 and 1')


# ----------------------------------------------------------------------------- regression

@pytest.mark.parametrize('reduction', REDUCTIONS)
def test_regression_losses(reduction):
    w = rand(4, 5, low=0.1, seed=2)
    check_op(lambda lib, x, t: F(lib).mse_loss(x, t, reduction=reduction), X, T)
    check_op(lambda lib, x, t: F(lib).mse_loss(x, t, reduction=reduction, weight=lib.tensor(w)),
             X, T)
    check_op(lambda lib, x, t: F(lib).l1_loss(x, t, reduction=reduction), X, T)
    check_op(lambda lib, x, t: F(lib).l1_loss(x, t, reduction=reduction, weight=lib.tensor(w)),
             X, T)
    for beta in [1.0, 0.5, 0.0]:
        check_op(lambda lib, x, t: F(lib).smooth_l1_loss(x, t, reduction=reduction, beta=beta),
                 X, T)
    for delta in [1.0, 0.3]:
        check_op(lambda lib, x, t: F(lib).huber_loss(x, t, reduction=reduction, delta=delta),
                 X, T)
    check_op(lambda lib, x, t: F(lib).huber_loss(x, t, reduction=reduction,
                                                 weight=lib.tensor(w)), X, T)


def test_mse_broadcast_warns_like_pytorch():
    with pytest.warns(UserWarning, match='different to the input size'):
        nn.functional.mse_loss(autograd.zeros(3, 1), autograd.zeros(3))
    check_op(lambda lib, x, t: F(lib).mse_loss(x, t), rand(3, 1), rand(3, seed=1))


def test_regression_option_errors():
    check_raises(lambda lib, x, t: F(lib).smooth_l1_loss(x, t, beta=-1.0), X, T)
    check_raises(lambda lib, x, t: F(lib).huber_loss(x, t, delta=0.0), X, T)


# ----------------------------------------------------------------------------- divergences

@pytest.mark.parametrize('reduction', REDUCTIONS + ['batchmean'])
@pytest.mark.parametrize('log_target', [False, True])
def test_kl_div(reduction, log_target):
    # a zero target contributes 0 (xlogy); PyTorch's target gradient there is NaN, so the
    # target gradient is compared on positive targets only
    t = np.log(PT + 0.01) if log_target else PT + 0.01
    check_op(lambda lib, x, t: F(lib).kl_div(x, t, reduction=reduction, log_target=log_target),
             X, t)
    if not log_target:
        tz = np.where(PT < 0.2, 0.0, PT)
        check_op(lambda lib, x: F(lib).kl_div(x, lib.tensor(tz), reduction=reduction), X)


@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('full', [False, True])
def test_gaussian_nll(reduction, full):
    var = rand(4, 5, low=0.1, high=2, seed=5)
    check_op(lambda lib, x, t, v: F(lib).gaussian_nll_loss(x, t, v, full=full,
                                                           reduction=reduction), X, T, var)
    check_op(lambda lib, x, t, v: F(lib).gaussian_nll_loss(x, t, v, full=full,
                                                           reduction=reduction), X, T, var[:, 0])
    # variances below eps are clamped, their gradient passing through as in PyTorch
    check_op(lambda lib, x, t, v: F(lib).gaussian_nll_loss(x, t, v, eps=0.5,
                                                           reduction=reduction), X, T, var,
             derivative=False)
    check_op(lambda lib, x, t: F(lib).gaussian_nll_loss(x, t, 0.7, reduction=reduction), X, T)


def test_gaussian_nll_errors():
    check_raises(lambda lib, x, t, v: F(lib).gaussian_nll_loss(x, t, v), X, T, -rand(4, 5),
                 exc=ValueError)
    check_raises(lambda lib, x, t, v: F(lib).gaussian_nll_loss(x, t, v), X, T, rand(3, 5),
                 exc=ValueError)


@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('full', [False, True])
def test_poisson_nll(reduction, full):
    counts = np.random.default_rng(0).integers(0, 5, (4, 5)).astype(float)
    check_op(lambda lib, x: F(lib).poisson_nll_loss(x, lib.tensor(counts), full=full,
                                                    reduction=reduction), X)
    check_op(lambda lib, x: F(lib).poisson_nll_loss(x, lib.tensor(counts), log_input=False,
                                                    full=full, reduction=reduction), P)
    check_op(lambda lib, x, t: F(lib).poisson_nll_loss(x, t, full=full, reduction=reduction),
             X, counts + 1.5)


# ----------------------------------------------------------------------------- margins

SIGNS = np.sign(rand(4, 5, seed=11))
SIGNS1 = np.sign(rand(4, seed=12))


@pytest.mark.parametrize('reduction', REDUCTIONS)
def test_margin_losses(reduction):
    check_op(lambda lib, x: F(lib).hinge_embedding_loss(x, lib.tensor(SIGNS), margin=0.5,
                                                        reduction=reduction), X)
    check_op(lambda lib, x: F(lib).soft_margin_loss(x, lib.tensor(SIGNS), reduction=reduction),
             X)
    check_op(lambda lib, x, t: F(lib).multilabel_soft_margin_loss(
        x, t, reduction=reduction, weight=lib.tensor(W5)), X, PT)
    for m in [0.0, 0.3]:
        check_op(lambda lib, a, b: F(lib).cosine_embedding_loss(a, b, lib.tensor(SIGNS1),
                                                                margin=m, reduction=reduction),
                 X, T)
        check_op(lambda lib, a, b: F(lib).margin_ranking_loss(a, b, lib.tensor(SIGNS1),
                                                              margin=m, reduction=reduction),
                 X[:, 0], T[:, 0])
    check_op(lambda lib, a, b: F(lib).cosine_embedding_loss(a, b, lib.tensor(-1.0),
                                                            margin=-0.5, reduction=reduction),
             X[0], T[0])


@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('p', [1, 2])
def test_multi_margin(reduction, p):
    # PyTorch has no second derivative for this loss
    check_op(lambda lib, x: F(lib).multi_margin_loss(x, lib.tensor(Y), p=p, margin=0.7,
                                                     reduction=reduction,
                                                     weight=lib.tensor(W5)), X, double=False)
    check_op(lambda lib, x: F(lib).multi_margin_loss(x, lib.tensor(3), p=p, reduction=reduction),
             rand(5), double=False)


@pytest.mark.parametrize('reduction', REDUCTIONS)
def test_multilabel_margin(reduction):
    y = np.array([[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [0, -1, 2, 2, 2], [4, 4, -1, 0, 0]])
    check_op(lambda lib, x: F(lib).multilabel_margin_loss(x, lib.tensor(y),
                                                          reduction=reduction), X * 0.3,
             double=False)
    check_op(lambda lib, x: F(lib).multilabel_margin_loss(x, lib.tensor(y[0]),
                                                          reduction=reduction), X[0] * 0.3,
             double=False)


@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('p', [1, 2, 3])
@pytest.mark.parametrize('swap', [False, True])
def test_triplet_margin(reduction, p, swap):
    check_op(lambda lib, a, b, c: F(lib).triplet_margin_loss(a, b, c, margin=0.8, p=p, swap=swap,
                                                             reduction=reduction),
             X, T, rand(4, 5, seed=13))


def test_margin_errors():
    check_raises(lambda lib, x: F(lib).multi_margin_loss(x, lib.tensor(Y), p=3), X,
                 exc=ValueError)
    check_raises(lambda lib, a, b, c: F(lib).triplet_margin_loss(a, b, c), X, T, X[0])
    check_raises(lambda lib, a, b: F(lib).margin_ranking_loss(a, b, lib.ones(4)), X, T)


# ----------------------------------------------------------------------------- CTC

T_, N_, C_ = 7, 3, 5
CTC_LOGITS = rand(T_, N_, C_)
CTC_TARGETS = np.array([[1, 2, 2, 0], [3, 1, 0, 0], [4, 4, 4, 1]])
CTC_IN = np.array([7, 5, 7])
CTC_LEN = np.array([3, 2, 3])


def _ctc(lib, lp, targets=CTC_TARGETS, in_lens=CTC_IN, tgt_lens=CTC_LEN, **kw):
    return F(lib).ctc_loss(lp, lib.tensor(targets), lib.tensor(in_lens), lib.tensor(tgt_lens),
                           **kw)


@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('zero_infinity', [False, True])
def test_ctc_loss(reduction, zero_infinity):
    kw = dict(reduction=reduction, zero_infinity=zero_infinity)
    # PyTorch's CTC has no second derivative
    check_op(lambda lib, x: _ctc(lib, x.log_softmax(2), **kw), CTC_LOGITS, double=False)
    # gradient with respect to the log-probabilities themselves (PyTorch's formula)
    lp = np.log(np.random.default_rng(1).dirichlet(np.ones(C_), (T_, N_)))
    check_op(lambda lib, x: _ctc(lib, x, **kw), lp, double=False, derivative=False)
    # an impossible alignment (2 frames for 3 labels with a repeat): infinite loss
    check_op(lambda lib, x: _ctc(lib, x.log_softmax(2), in_lens=np.array([2, 5, 7]), **kw),
             CTC_LOGITS, double=False)


def test_ctc_concatenated_targets_blank_and_lengths_as_tuples():
    cat = np.concatenate([CTC_TARGETS[n, :CTC_LEN[n]] for n in range(N_)])
    check_op(lambda lib, x: F(lib).ctc_loss(x.log_softmax(2), lib.tensor(cat), tuple(CTC_IN),
                                            tuple(CTC_LEN)), CTC_LOGITS, double=False)
    other_blank = np.array([[0, 1, 1, 3], [3, 4, 3, 3], [4, 0, 4, 1]])
    check_op(lambda lib, x: _ctc(lib, x.log_softmax(2), targets=other_blank, blank=2),
             CTC_LOGITS, double=False)


def test_ctc_unbatched_and_empty_target():
    check_op(lambda lib, x: F(lib).ctc_loss(x.log_softmax(1), lib.tensor(CTC_TARGETS[0, :3]),
                                            lib.tensor(7), lib.tensor(3)),
             CTC_LOGITS[:, 0], double=False)
    check_op(lambda lib, x: _ctc(lib, x.log_softmax(2), tgt_lens=np.array([3, 0, 3])),
             CTC_LOGITS, double=False)


def test_ctc_input_length_error():
    check_raises(lambda lib, x: _ctc(lib, x, in_lens=np.array([8, 5, 7])), CTC_LOGITS)


# ----------------------------------------------------------------------------- modules

LOSS_MODULES = [
    ('MSELoss', {}, 'reg'), ('L1Loss', dict(reduction='sum'), 'reg'),
    ('SmoothL1Loss', dict(beta=0.5), 'reg'), ('HuberLoss', dict(delta=0.5), 'reg'),
    ('CrossEntropyLoss', dict(label_smoothing=0.1, ignore_index=0), 'cls'),
    ('NLLLoss', dict(reduction='none'), 'cls'), ('MultiMarginLoss', dict(p=2), 'cls'),
    ('BCELoss', {}, 'prob'), ('BCEWithLogitsLoss', {}, 'logit'),
    ('KLDivLoss', dict(reduction='batchmean'), 'logit'), ('SoftMarginLoss', {}, 'sign'),
    ('HingeEmbeddingLoss', dict(margin=2.0), 'sign'), ('PoissonNLLLoss', {}, 'reg'),
    ('MultiLabelSoftMarginLoss', {}, 'logit'),
]


@pytest.mark.parametrize('name,kw,kind', LOSS_MODULES)
def test_loss_modules(name, kw, kind):
    target = {'reg': T, 'cls': Y, 'prob': PT, 'logit': PT, 'sign': SIGNS}[kind]
    x = P if kind == 'prob' else X

    def call(layer, x):
        lib = torch if is_torch_tensor(x) else autograd
        return layer(x, lib.tensor(target))
    check_layer(lambda lnn: getattr(lnn, name)(**kw), x, call=call)


def test_weighted_loss_modules_keep_weight_as_buffer():
    for cls in ['CrossEntropyLoss', 'NLLLoss', 'BCELoss']:
        theirs = getattr(torch.nn, cls)(weight=torch.tensor(W5))
        ours = getattr(nn, cls)(weight=autograd.tensor(W5))
        assert list(ours.state_dict()) == list(theirs.state_dict()) == ['weight']
    ours = nn.BCEWithLogitsLoss(pos_weight=autograd.ones(5))
    assert list(ours.state_dict()) == ['pos_weight']
    check_layer(lambda lnn: lnn.CrossEntropyLoss(
        weight=(torch if lnn is torch.nn else autograd).tensor(W5)), X,
        call=lambda layer, x: layer(x, (torch if isinstance(x, torch.Tensor) else autograd)
                                    .tensor(Y)))


def test_legacy_size_average_and_reduce():
    for sa, rd, expected in [(False, None, 'sum'), (None, False, 'none'), (True, True, 'mean')]:
        assert nn.MSELoss(size_average=sa, reduce=rd).reduction == expected
        assert torch.nn.MSELoss(size_average=sa, reduce=rd).reduction == expected
    check_op(lambda lib, x, t: F(lib).mse_loss(x, t, size_average=False), X, T)
