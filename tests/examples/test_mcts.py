"""Monte-Carlo tree search with a self-play policy/value network (sec. 9.7.1): the game's
rules, the search's tactics, the loss of eq. 9.28, and AlphaZero-lite beating random play
and plain MCTS."""
import numpy
import pytest

import autograd
from example_scripts import load_example

mcts = load_example('mcts')


def board(s):
    """'X' = +1, 'O' = -1, '.' = empty, row by row."""
    return numpy.array([{'X': 1, 'O': -1, '.': 0}[c] for c in s], numpy.int8)


def test_rules():
    assert mcts.TicTacToe(board('XXXOO....'), -1).winner() == 1
    assert mcts.TicTacToe(board('O.X.OX..O'), 1).winner() == -1          # a diagonal
    assert mcts.TicTacToe(board('XOXXOOOXX'), 1).winner() == 0           # full: a draw
    assert mcts.TicTacToe(board('XO.......'), 1).winner() is None
    g = mcts.TicTacToe().play(4)
    assert g.player == -1 and g.board[4] == 1 and list(g.moves()) == [0, 1, 2, 3, 5, 6, 7, 8]
    # features: the board as the player to move sees it (its own stones first)
    f = g.features()
    assert f[4 + 9] == 1 and f[4] == 0 and f.sum() == 1


@pytest.mark.parametrize('position, player, best', [
    ('XX.OO....', 1, 2),        # X completes the top row
    ('XX.OO....', -1, 5),       # O completes the middle row (and would lose otherwise)
    ('X..XO.O..', -1, 2),       # O completes the diagonal 2-4-6
])
def test_plain_search_takes_the_immediate_win(position, player, best):
    rng = numpy.random.default_rng(0)
    a, pi = mcts.choose(mcts.TicTacToe(board(position), player), mcts.rollout_evaluator,
                        200, rng)
    assert a == best and pi.argmax() == best and pi.sum() == pytest.approx(1)


def test_plain_search_blocks_the_opponents_line():
    rng = numpy.random.default_rng(0)
    # O to move: X threatens 0-4-8; every other move loses at once
    a, _ = mcts.choose(mcts.TicTacToe(board('XO..X....'), -1), mcts.rollout_evaluator, 300, rng)
    assert a == 8


def test_self_play_results_are_from_the_movers_view():
    rng = numpy.random.default_rng(3)
    game = mcts.self_play(mcts.rollout_evaluator, 20, rng)
    z = [s[2] for s in game]
    # consecutive positions belong to alternate players: their results are opposite
    assert all(a == -b for a, b in zip(z, z[1:]))
    assert all(s[1].sum() == pytest.approx(1) for s in game)
    # the last mover won (+1) or drew (0), never lost by its own move
    assert z[-1] in (0.0, 1.0)


def test_loss_is_eq_9_28():
    autograd.manual_seed(0)
    net = mcts.PolicyValueNet(hidden=8).double()
    x = autograd.rand(5, 18, dtype=autograd.float64)
    pi = autograd.rand(5, 9, dtype=autograd.float64)
    pi = pi / pi.sum(1, keepdim=True)
    z = autograd.tensor([1.0, -1.0, 0.0, 1.0, -1.0], dtype=autograd.float64)
    logits, v = net(x)
    lg, vv, p, zz = (t.detach().cpu().numpy() for t in (logits, v, pi, z))
    log_p = lg - numpy.log(numpy.exp(lg).sum(1, keepdims=True))
    expected = ((vv - zz) ** 2).mean() - (p * log_p).sum(1).mean()
    assert mcts.alphazero_loss(net, x, pi, z).item() == pytest.approx(expected, rel=1e-12)
    assert (v.abs() <= 1).all().item()


@pytest.mark.slow
def test_alphazero_lite_beats_random_and_plain_mcts():
    # the README's training (12 rounds of 30 games); after 8 rounds of 20 the net is still
    # even with plain MCTS (22 wins, 24 losses in 60 games), so which side wins 30 games
    # turns on the products' rounding
    net = mcts.train(iterations=12, games=30, simulations=25, seed=0, log=None)
    zero, plain = mcts.players(net, 25)
    rng = numpy.random.default_rng(1)
    w, d, l = mcts.match(zero, mcts.random_player, 30, rng)
    assert w >= 22 and l <= 3                 # seed 0: 27 wins, 1 draw, 2 losses
    w, d, l = mcts.match(zero, plain, 30, rng)
    assert w > l                              # seed 0: 15 wins, 13 draws, 2 losses
