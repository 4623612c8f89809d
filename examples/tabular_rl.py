"""Tabular reinforcement learning: Q-learning vs SARSA on the cliff walk, and tic-tac-toe.

Aggarwal, *Neural Networks and Deep Learning*, sec. 9.3.2 and 9.4.3 ("Learning without
function approximators").  With a small state space the values live in a table:

- Q-learning, eq. 9.11:  Q(s, a) <- (1 - alpha) Q(s, a) + alpha (r + gamma max_a' Q(s', a'))
  (off-policy: the target uses the best next action);
- SARSA, eq. 9.12:       Q(s, a) <- (1 - alpha) Q(s, a) + alpha (r + gamma Q(s', a'))
  with a' the action the epsilon-greedy policy really takes next (on-policy);
- the Monte-Carlo table of sec. 9.3.2: after a game, each of the player's moves is
  credited with +gamma^(r-1) (win), 0 (draw) or -gamma^(r-1) (loss), r the number of the
  player's moves left including it; the value is the average credit.

The cliff walk (Sutton and Barto, example 6.6) is the text's robot at the cliff: a 4 x 12
grid, -1 per step, -100 and back to the start for stepping off the bottom edge.  With
exploration epsilon = 0.1, Q-learning learns the shortest path along the edge; SARSA, which
pays for its own exploratory steps, learns the safe path away from it (end of 9.4.3).

Tic-tac-toe (9.3.2): the learner plays X against a fixed random opponent; the tables hold
the values of (board, move) pairs.  Tables need no gradients: they are NumPy arrays and a
dict here (the neural versions of these methods are in dqn.py and policy_gradient.py).

Run: python examples/tabular_rl.py [--epochs 500] [--games 20000] [--out runs/tabular_rl]
(``--epochs`` is the number of cliff-walk episodes.)
"""
import numpy

import _data

# ----------------------------------------------------------------------------- cliff walk
ROWS, COLS = 4, 12
START, GOAL = (3, 0), (3, 11)
MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1))          # up, right, down, left


def cliff_step(state, action):
    """One move on the cliff grid: (next state, reward, episode over)."""
    r = min(max(state[0] + MOVES[action][0], 0), ROWS - 1)
    c = min(max(state[1] + MOVES[action][1], 0), COLS - 1)
    if r == 3 and 0 < c < COLS - 1:                 # off the cliff: back to the start
        return START, -100.0, False
    return (r, c), -1.0, (r, c) == GOAL


def epsilon_greedy(q_row, epsilon, rng):
    """A random action with probability epsilon, else the best one (ties broken at random)."""
    if rng.random() < epsilon:
        return int(rng.integers(len(q_row)))
    return int(rng.choice(numpy.flatnonzero(q_row == q_row.max())))


def cliff_walk(method, episodes=500, alpha=0.5, gamma=1.0, epsilon=0.1, seed=0):
    """Learn the cliff walk with 'q-learning' (eq. 9.11) or 'sarsa' (eq. 9.12).
    Returns (Q (4, 12, 4), the reward of each training episode)."""
    rng = numpy.random.default_rng(seed)
    Q = numpy.zeros((ROWS, COLS, 4))
    returns = []
    for _ in range(episodes):
        s, total, done = START, 0.0, False
        a = epsilon_greedy(Q[s], epsilon, rng)
        while not done:
            s2, r, done = cliff_step(s, a)
            a2 = epsilon_greedy(Q[s2], epsilon, rng)
            if done:                                # the text: Q(s, a) is simply set to r
                target = r
            elif method == 'q-learning':
                target = r + gamma * Q[s2].max()
            else:
                target = r + gamma * Q[s2][a2]
            Q[s][a] = (1 - alpha) * Q[s][a] + alpha * target
            s, a, total = s2, a2, total + r
        returns.append(total)
    return Q, returns


def greedy_path(Q, limit=100):
    """The states visited by the greedy policy from the start (stops at the goal)."""
    s, path = START, [START]
    while s != GOAL and len(path) < limit:
        s, _, _ = cliff_step(s, int(Q[s].argmax()))
        path.append(s)
    return path


# ----------------------------------------------------------------------------- tic-tac-toe
LINES = [(0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6)]


def winner(board):
    """1 (X) or 2 (O) if that player has three in a line, 0 otherwise."""
    for i, j, k in LINES:
        if board[i] and board[i] == board[j] == board[k]:
            return board[i]
    return 0


class Table:
    """Values of (board, move) pairs, created on first sight with small random values
    (the text's initial table)."""

    def __init__(self, rng):
        self.rng, self.values, self.counts = rng, {}, {}

    def row(self, board):
        if board not in self.values:
            self.values[board] = self.rng.normal(0, 1e-3, 9)
            self.counts[board] = numpy.zeros(9)
        return self.values[board]

    def best(self, board):
        free = [i for i in range(9) if board[i] == 0]
        row = self.row(board)
        return max(free, key=lambda i: row[i])

    def act(self, board, epsilon):
        free = [i for i in range(9) if board[i] == 0]
        if self.rng.random() < epsilon:
            return int(self.rng.choice(free))
        return self.best(board)


def random_move(board, rng):
    return int(rng.choice([i for i in range(9) if board[i] == 0]))


def play_game(choose_x, rng):
    """X (``choose_x(board) -> cell``) against a random O.  Returns (X's boards and moves,
    X's reward: +1 win, -1 loss, 0 draw)."""
    board, history = (0,) * 9, []
    while True:
        move = choose_x(board)
        history.append((board, move))
        board = board[:move] + (1,) + board[move + 1:]
        if winner(board) == 1:
            return history, 1.0
        if 0 not in board:
            return history, 0.0
        o = random_move(board, rng)
        board = board[:o] + (2,) + board[o + 1:]
        if winner(board) == 2:
            return history, -1.0


def train_tictactoe(method, games=20000, alpha=0.2, gamma=0.9, epsilon=0.1, seed=0):
    """X learns against the random O by 'q-learning' (eq. 9.11; the state is the board X
    sees, the next state the board after O's reply) or 'monte-carlo' (sec. 9.3.2: averaged
    discounted final credit).  Returns the table."""
    rng = numpy.random.default_rng(seed)
    table = Table(rng)
    for _ in range(games):
        history, reward = play_game(lambda b: table.act(b, epsilon), rng)
        if method == 'monte-carlo':
            for back, (board, move) in enumerate(reversed(history)):
                row, count = table.row(board), table.counts[board]
                if count[move] == 0:
                    row[move] = 0.0                 # the random start is not a credit
                count[move] += 1
                row[move] += (reward * gamma ** back - row[move]) / count[move]
        else:
            for t, (board, move) in enumerate(history):
                row = table.row(board)
                if t + 1 < len(history):            # no reward until the game ends
                    nxt = history[t + 1][0]
                    free = [i for i in range(9) if nxt[i] == 0]
                    target = gamma * table.row(nxt)[free].max()
                else:
                    target = reward
                row[move] = (1 - alpha) * row[move] + alpha * target
    return table


def evaluate_tictactoe(table, games=1000, seed=1):
    """Greedy X against the random O: (win, draw, loss) fractions."""
    rng = numpy.random.default_rng(seed)
    outcomes = [play_game(table.best, rng)[1] for _ in range(games)]
    return tuple(outcomes.count(v) / games for v in (1.0, 0.0, -1.0))


def random_baseline(games=1000, seed=1):
    """Random X against random O: (win, draw, loss) fractions."""
    rng = numpy.random.default_rng(seed)
    outcomes = [play_game(lambda b: random_move(b, rng), rng)[1] for _ in range(games)]
    return tuple(outcomes.count(v) / games for v in (1.0, 0.0, -1.0))


def main(argv=None):
    p = _data.parser('tabular_rl', __doc__, epochs=500, epochs_help='cliff-walk episodes')
    p.add_argument('--games', type=int, default=20000, help='tic-tac-toe training games')
    args = p.parse_args(argv)
    result = {}
    fig, (ax_r, ax_p) = _data.figure(1, 2, figsize=(12, 3.8))
    for method in ('q-learning', 'sarsa'):
        Q, returns = cliff_walk(method, args.epochs, seed=args.seed)
        path = greedy_path(Q)
        rows = [r for r, _ in path]
        result[method] = {'path_length': len(path) - 1, 'highest_row': min(rows),
                          'mean_return_last_100': float(numpy.mean(returns[-100:]))}
        print(f'cliff walk, {method:10s}: greedy path {len(path) - 1} steps, up to row '
              f'{min(rows)}; training return (last 100 episodes) '
              f'{result[method]["mean_return_last_100"]:.1f}')
        smooth = numpy.convolve(returns, numpy.ones(10) / 10, mode='valid')
        ax_r.plot(smooth, label=method)
        ax_p.plot([c for _, c in path], [ROWS - 1 - r for r, _ in path], marker='o',
                  label=method)
    ax_r.set(xlabel='episode', ylabel='return (10-episode mean)', ylim=(-120, 0))
    ax_p.fill_between([0.5, COLS - 1.5], -0.4, 0.4, color='0.8', label='cliff')
    ax_p.set(xlabel='column', ylabel='row (0 = bottom)', title='greedy paths')
    print('plot:', _data.savefig(fig, args.out, 'cliff_walk.png', legend_fontsize=8))

    result['random X'] = random_baseline()
    print('tic-tac-toe, random X vs random O: win/draw/loss %.3f / %.3f / %.3f'
          % result['random X'])
    for method in ('monte-carlo', 'q-learning'):
        table = train_tictactoe(method, args.games, seed=args.seed)
        result[method + ' X'] = evaluate_tictactoe(table)
        print(f'tic-tac-toe, {method} X vs random O: win/draw/loss '
              '%.3f / %.3f / %.3f' % result[method + ' X'])
    return result


if __name__ == '__main__':
    main()
