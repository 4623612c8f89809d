"""The recurrent attention model (sec. 10.2.1): the glimpse sensor is the retina the text
describes (checked against a pixel-by-pixel NumPy computation), the locations' REINFORCE
term has the score-function gradient of eq. 10.1 with a baseline, the reward is 1 for a
correct class and 0 otherwise, REINFORCE trains the locator and the core but not the
classifier, the oracle's glimpse sees the digit whole, and a reduced run learns to look at
the digit far more often than a random glimpse does."""
import numpy
import pytest

import autograd
from autograd.distributions import Normal
from example_scripts import load_example, run_example

ra = load_example('recurrent_attention')


def reference_glimpse(img, loc, g=6, scales=3, factor=2):
    """rho(X, l) by hand: scale k is the g f^k square around pixel round((l + 1) / 2 * H),
    zero outside the image, each f^k x f^k block averaged."""
    H = img.shape[0]
    cr, cc = [int(numpy.round((v + 1) / 2 * H)) for v in loc]
    out = []
    for k in range(scales):
        side, f = g * factor ** k, factor ** k
        patch = numpy.zeros((side, side))
        for i in range(side):
            for j in range(side):
                r, c = cr - side // 2 + i, cc - side // 2 + j
                if 0 <= r < H and 0 <= c < H:
                    patch[i, j] = img[r, c]
        small = numpy.zeros((g, g))
        for i in range(g):
            for j in range(g):
                small[i, j] = patch[i * f:(i + 1) * f, j * f:(j + 1) * f].mean()
        out.append(small)
    return numpy.stack(out)


def test_glimpse_sensor_matches_a_hand_computation():
    rng = numpy.random.default_rng(0)
    X = rng.random((5, 64)).astype(numpy.float32)
    canvas, pos = ra.make_canvases(X, 16, rng, clutter=2)
    # the digit is where make_canvases says (max with the clutter under it)
    for i in range(5):
        r, c = pos[i]
        assert (canvas[i, r:r + 8, c:c + 8] >= X[i].reshape(8, 8)).all()
    locs = numpy.array([[0, 0], [-1, -1], [0.5, -0.3], [1, 1], [-0.2, 0.9]], numpy.float32)
    got = ra.glimpse(autograd.tensor(canvas), autograd.tensor(locs)).cpu().numpy()
    assert got.shape == (5, 3, 6, 6)
    for i in range(5):
        numpy.testing.assert_allclose(got[i], reference_glimpse(canvas[i], locs[i]),
                                      rtol=1e-6, atol=1e-7)
    # the retina: the finest scale is full resolution, the resolution drops with distance
    img = canvas[0]
    numpy.testing.assert_allclose(got[0, 0], img[5:11, 5:11], rtol=1e-6)
    numpy.testing.assert_allclose(got[0, 1], img[2:14, 2:14].reshape(6, 2, 6, 2).mean((1, 3)),
                                  rtol=1e-6)


def test_two_scale_retina_sees_the_whole_canvas_from_its_centre():
    """The example's retina: 8 x 8 at full resolution and 32 x 32 at a quarter of it."""
    rng = numpy.random.default_rng(2)
    canvas, _ = ra.make_canvases(rng.random((3, 64)).astype(numpy.float32), 32, rng)
    locs = numpy.array([[0, 0], [0.3, -0.6], [-1, 1]], numpy.float32)
    got = ra.glimpse(autograd.tensor(canvas), autograd.tensor(locs), 8, 2, 4).cpu().numpy()
    assert got.shape == (3, 2, 8, 8)
    for i in range(3):
        numpy.testing.assert_allclose(got[i], reference_glimpse(canvas[i], locs[i], 8, 2, 4),
                                      rtol=1e-6, atol=1e-7)
    numpy.testing.assert_allclose(got[0, 1], canvas[0].reshape(8, 4, 8, 4).mean((1, 3)),
                                  rtol=1e-6)


def test_returns_sum_the_future_rewards():
    r = autograd.tensor([[1.0], [0.0], [1.0]])
    numpy.testing.assert_allclose(ra.returns(r).cpu().numpy().ravel(), [2, 1, 1])
    numpy.testing.assert_allclose(ra.returns(r, 0.5).cpu().numpy().ravel(), [1.25, 0.5, 1])


@pytest.mark.parametrize('final_reward', [True, False])
def test_reinforce_gradient_is_the_score_function_formula(final_reward):
    """d loss / d mu of the location term is -(R - b) grad log pi(l) = -(R - b)(l - mu)/sigma^2
    per roll-out (averaged over the batch), and the reward is 1 exactly when correct: R is
    the last glimpse's reward (Mnih et al.) or the sum of the rewards after l_t (the text's
    R_t); the baseline b_t regresses on R by its own squared error."""
    gen = autograd.Generator(autograd.device(autograd.get_default_device())).manual_seed(0)
    T, B, C, sigma = 3, 4, 10, 0.15
    logits = autograd.randn(T, B, C, generator=gen, dtype=autograd.float64)
    y = logits[-1].argmax(1)
    y[0] = (y[0] + 1) % C                                       # roll-out 0 ends wrong
    mu = (0.3 * autograd.randn(T - 1, B, 2, generator=gen, dtype=autograd.float64)
          ).requires_grad_()
    policy = Normal(mu, sigma)
    loc = policy.sample().detach()
    logps = policy.log_prob(loc).sum(2)
    bases = autograd.tensor(numpy.full((T - 1, B), 0.4), dtype=autograd.float64,
                            requires_grad=True)
    loss, rewards = ra.hybrid_loss(logits, logps, bases, y, final_reward=final_reward)
    r = rewards.cpu().numpy()
    expect_r = (logits.argmax(2) == y).cpu().numpy().astype(float)
    numpy.testing.assert_array_equal(r, expect_r)
    assert set(numpy.unique(r)) <= {0.0, 1.0} and r[-1, 0] == 0 and r[-1, 1:].all()
    loss.backward()
    if final_reward:
        R = numpy.stack([r[-1], r[-1]])                         # r_T for both locations
    else:
        R = numpy.stack([r[1:].sum(0), r[2:].sum(0)])          # R_(t+1), gamma = 1
    A = R - 0.4
    m, l = mu.detach().cpu().numpy(), loc.cpu().numpy()
    expected = -A[..., None] * (l - m) / sigma ** 2 / B
    numpy.testing.assert_allclose(mu.grad.cpu().numpy(), expected, rtol=1e-9, atol=1e-12)
    # the baseline's gradient is that of its squared error alone (the advantage is detached)
    numpy.testing.assert_allclose(bases.grad.cpu().numpy(), 2 * (0.4 - R) / ((T - 1) * B),
                                  rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize('policy', ['grid', 'gaussian'])
def test_reinforce_trains_the_locator_and_the_core_not_the_classifier(policy):
    """log pi(l_t) sends its gradient into the locator, the core and the glimpse network
    (the recurrent network is trained by REINFORCE's objective) but not into the classifier
    or the baseline; b_t's squared error trains the baseline alone (it reads h detached)."""
    autograd.manual_seed(0)
    model = ra.RecurrentAttention(hidden=16, policy=policy)
    rng = numpy.random.default_rng(0)
    canvas = autograd.tensor(ra.make_canvases(rng.random((3, 64)), 32, rng)[0])
    logits, logps, bases = model(canvas, 4)
    assert logits.shape == (4, 3, 10) and logps.shape == (3, 3) and bases.shape == (3, 3)
    names = {n for n, _ in model.named_parameters()}
    logps.sum().backward(retain_graph=True)
    trained = {n for n, p in model.named_parameters()
               if p.grad is not None and p.grad.abs().sum().item() > 0}
    assert trained == names - {'classifier.weight', 'classifier.bias', 'baseline.weight',
                               'baseline.bias'}
    model.zero_grad()
    bases.sum().backward()
    trained = {n for n, p in model.named_parameters()
               if p.grad is not None and p.grad.abs().sum().item() > 0}
    assert trained == {'baseline.weight', 'baseline.bias'}


@pytest.mark.parametrize('policy', ['grid', 'gaussian'])
def test_detached_locator_and_baseline_see_a_detached_core(policy):
    """With ``detach=True`` REINFORCE alone trains the location network and the baseline:
    log pi(l_t) and b_t send no gradient into the core, the glimpse network or the
    classifier."""
    autograd.manual_seed(0)
    model = ra.RecurrentAttention(hidden=16, policy=policy, detach=True)
    rng = numpy.random.default_rng(0)
    canvas = autograd.tensor(ra.make_canvases(rng.random((3, 64)), 32, rng)[0])
    logits, logps, bases = model(canvas, 4)
    (logps.sum() + bases.sum()).backward()
    trained = {n for n, p in model.named_parameters()
               if p.grad is not None and p.grad.abs().sum().item() > 0}
    assert trained == {'locator.0.weight', 'locator.0.bias', 'locator.2.weight',
                       'locator.2.bias', 'baseline.weight', 'baseline.bias'}


def test_grid_policy_glimpses_at_the_cells_and_greedy_takes_the_mode():
    """The softmax policy's actions are the centres of the cells of a 4 x 4 partition
    (pixels 4, 12, 20, 28 of a 32-pixel canvas); the greedy roll-out glimpses at the most
    probable cell."""
    model = ra.RecurrentAttention(hidden=16)
    cells = model.cells.cpu().numpy()
    assert cells.shape == (16, 2)
    pixels = numpy.round((cells + 1) / 2 * 32)
    numpy.testing.assert_array_equal(numpy.unique(pixels), [4, 12, 20, 28])
    with autograd.no_grad():
        model.locator[2].weight.zero_()
        model.locator[2].bias.zero_()
        model.locator[2].bias[9] = 5.0                           # cell (2, 1): pixel (20, 12)
    canvas = autograd.zeros(2, 32, 32)
    assert numpy.round((ra.trajectory(model, canvas, 3)[1:] + 1) / 2 * 32).tolist() == \
        [[[20, 12], [20, 12]]] * 2
    autograd.manual_seed(0)
    _, logps, _ = model(canvas, 3)
    # log pi of a sampled cell: log softmax, 5 - log(e^5 + 15) for cell 9, else its -log
    z = numpy.log(numpy.exp(5.0) + 15)
    sampled = logps.detach().cpu().numpy().ravel()
    nearest = numpy.where(numpy.abs(sampled - (5 - z)) < 1, 5 - z, -z)
    numpy.testing.assert_allclose(sampled, nearest, rtol=1e-5)


def test_random_glimpses_are_uniform_on_the_cells():
    """The comparison's random policy draws each later glimpse uniformly from the 16 cells."""
    model = ra.RecurrentAttention(hidden=8)
    gen = autograd.Generator(autograd.device(autograd.get_default_device())).manual_seed(0)
    locs = []
    model.glimpse_network = lambda canvas, loc: (locs.append(loc), autograd.zeros(
        canvas.shape[0], 8, device=canvas.device))[1]
    with autograd.no_grad():
        _, logps, bases = model(autograd.zeros(4000, 32, 32), 3, 'random', generator=gen)
    assert logps is None and bases is None
    cells = numpy.round((numpy.concatenate([l.cpu().numpy() for l in locs[1:]]) + 1) * 16)
    idx = (cells[:, 0] - 4) / 8 * 4 + (cells[:, 1] - 4) / 8
    counts = numpy.bincount(idx.astype(int), minlength=16)
    assert counts.size == 16 and abs(counts / 8000 - 1 / 16).max() < 0.015   # 5 sd


def test_cells_place_each_digit_in_one_cell_and_the_oracle_sees_it_whole():
    """With ``cells=4`` each digit fills one 8 x 8 cell of the 32 x 32 canvas; the oracle's
    glimpse at ``centres(pos)`` reads it at full resolution, exactly."""
    rng = numpy.random.default_rng(3)
    X = rng.random((300, 64)).astype(numpy.float32)
    canvas, pos = ra.make_canvases(X, 32, rng, cells=4)
    assert set(numpy.unique(pos)) == {0, 8, 16, 24}
    assert len({tuple(p) for p in pos}) == 16                       # every cell is used
    L = ra.centres(pos, 32)
    got = ra.glimpse(autograd.tensor(canvas), autograd.tensor(L), 8, 2, 4).cpu().numpy()
    numpy.testing.assert_array_equal(got[:, 0], X.reshape(-1, 8, 8))
    model = ra.RecurrentAttention()
    cells = {tuple(c) for c in numpy.round(model.cells.cpu().numpy(), 6)}
    assert {tuple(c) for c in numpy.round(L, 6)} <= cells          # the policy can hit it
    # on_target: glimpse 2 at the digit, glimpse 3 one cell off
    paths = numpy.stack([numpy.zeros_like(L), L, L + 0.5]).astype(numpy.float32)
    hits = ra.on_target(paths, L, 32)
    assert hits.shape == (2, 300) and hits[0].all() and not hits[1].any()
    with pytest.raises(ValueError, match='4 x 4 cells of a 12-pixel canvas'):
        ra.make_canvases(X[:2], 12, rng, cells=4)


def test_curriculum_places_the_digits_in_the_central_square():
    rng = numpy.random.default_rng(1)
    X = rng.random((200, 64)).astype(numpy.float32)
    _, pos = ra.make_canvases(X, 32, rng, spread=12)
    assert pos.min() == 10 and pos.max() == 14               # (32 - 12) / 2 .. + 12 - 8
    _, pos = ra.make_canvases(X, 32, rng)
    assert pos.min() == 0 and pos.max() == 24                  # the whole canvas


def test_model_defaults_follow_the_text():
    model = ra.RecurrentAttention()
    assert model.scales >= 2 and model.factor > 1   # a retina of several resolutions
    assert model.where.in_features == 2             # the location l is encoded too
    assert model.combine.in_features == 2 * model.what.out_features   # another linear layer
    import inspect
    steps = inspect.signature(ra.train).parameters['steps'].default
    assert 6 <= steps <= 8                          # "between six and eight glimpses"


def test_main_runs_and_plots(tmp_path):
    res = run_example('recurrent_attention', tmp_path, '--epochs', '1', '--canvas', '16',
                      '--cells', '2', '--glimpses', '3', '--clutter', '1')
    assert len(res['accuracy']) == 3 and len(res['random_accuracy']) == 3
    assert len(res['oracle_accuracy']) == 3 and 0 <= res['any_glimpse_on_digit'] <= 1
    assert (tmp_path / 'recurrent_attention.png').exists()


@pytest.mark.slow
def test_reduced_run_learns_where_the_digit_is():
    """15 epochs, 3 glimpses, seeds 0-3: REINFORCE's policy sends the second glimpse to the
    digit's cell far more often than a uniformly random cell (1/16) would, and the trained
    networks read more digits through their learned glimpses than through random ones."""
    hit_rates, margins, seen = [], [], []
    for seed in range(4):
        model, history, acc, C, L = ra.train(epochs=15, steps=3, seed=seed)
        hits = ra.on_target(ra.trajectory(model, C, 3), L.cpu().numpy(), 32)
        gen = autograd.Generator(autograd.device(autograd.get_default_device())).manual_seed(0)
        Y = ra._data.to_tensors(*ra._data.split(*ra._data.digits(), 297, seed=seed)[2:],
                                device=C.device)[1]
        racc = ra.evaluate(model, C, Y, 3, 'random', gen)
        assert ra.evaluate(model, C, Y, 3) == acc
        hit_rates.append(hits[0].mean())
        seen.append(f'seed {seed}: train reward {history}, accuracy per glimpse {acc} (random '
                    f'glimpses {racc}), 2nd glimpse on the digit {hits[0].mean()}')
        margins.append(acc[-1] - racc[-1])
        assert acc[-1] > 0.4, seen[-1]
        assert history[-1] > history[0] + 0.3, seen[-1]
    # chance 1/16 = 0.0625 with sd 0.014 on 297 canvases (0.007 for the mean of four): 0.15
    # is six sd above it for one seed.  One seed's rate hangs on the last bit of float32
    # rounding (seed 0: 0.25 on the CPU, 0.14 on the cuda stand-in, 0.22 and 0.054 under
    # earlier roundings), the mean of four does not (CPU 0.23, stand-in 0.24).
    assert numpy.mean(hit_rates) > 0.15, seen
    # learned glimpses read more digits than random ones (seed 0 on the stand-in: by 0.02;
    # the mean of four by about 0.35 on both)
    assert numpy.mean(margins) > 0.05, seen
