"""Tabular Q-learning and SARSA (sec. 9.4.3): on the cliff Q-learning takes the edge path,
SARSA the safe one; tic-tac-toe tables learn to beat a random opponent (sec. 9.3.2)."""
import numpy
import pytest

from example_scripts import load_example

tabular = load_example('tabular_rl')


def test_cliff_step_sends_a_fall_back_to_the_start_with_minus_100():
    assert tabular.cliff_step((2, 5), 2) == ((3, 0), -100.0, False)
    assert tabular.cliff_step((2, 11), 2) == ((3, 11), -1.0, True)
    assert tabular.cliff_step((0, 0), 0) == ((0, 0), -1.0, False)   # walls hold the walker


def test_q_learning_takes_the_edge_path_and_sarsa_the_safe_one():
    q_table, q_returns = tabular.cliff_walk('q-learning', episodes=300, seed=0)
    s_table, s_returns = tabular.cliff_walk('sarsa', episodes=300, seed=0)
    q_path, s_path = tabular.greedy_path(q_table), tabular.greedy_path(s_table)
    assert q_path[-1] == s_path[-1] == tabular.GOAL
    assert len(q_path) - 1 == 13                    # the shortest path: up, 11 right, down
    assert all(r == 2 for r, _ in q_path[1:-1])     # every step on the row by the cliff
    assert len(s_path) - 1 > 13
    assert min(r for r, _ in s_path) <= 1           # SARSA keeps a row between it and the edge
    # while exploring, Q-learning falls more often: SARSA's online return is higher
    assert numpy.mean(s_returns[-100:]) > numpy.mean(q_returns[-100:]) + 10


@pytest.mark.parametrize('method', ['q-learning', 'monte-carlo'])
def test_tictactoe_tables_beat_the_random_opponent(method):
    table = tabular.train_tictactoe(method, games=4000, seed=0)
    win, draw, loss = tabular.evaluate_tictactoe(table, games=500)
    rand_win, _, rand_loss = tabular.random_baseline(games=500)
    assert win > 0.85 and win > rand_win + 0.25
    assert loss < 0.06 and loss < rand_loss / 4


def test_winner_reads_rows_columns_and_diagonals():
    assert tabular.winner((1, 1, 1, 0, 0, 0, 0, 0, 0)) == 1
    assert tabular.winner((2, 0, 0, 0, 2, 0, 0, 0, 2)) == 2
    assert tabular.winner((1, 2, 1, 1, 2, 2, 2, 1, 1)) == 0
