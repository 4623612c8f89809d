"""Monte-Carlo tree search with a policy/value network trained by self-play (AlphaZero-lite).

Aggarwal, *Neural Networks and Deep Learning*, sec. 9.7.1 (AlphaGo, and its zero-knowledge
enhancements).  From a board s the search follows, at every node, the move of the largest
upper bound

    u(s, a) = Q(s, a) + K P(s, a) sqrt(sum_b N(s, b)) / (N(s, a) + 1)          (eq. 9.27)

until it leaves the tree; the new leaf is evaluated and every edge on the path updates its
visit count N and its mean value Q.  *Plain* MCTS uses uniform priors P and evaluates the
leaf with one random roll-out to the end of the game (+1 / -1 / 0).  The *AlphaZero* search
takes P(s, .) and the leaf's value v(s) from one network with a softmax policy head and a
tanh value head.  Self-play: every move is sampled from the visit counts
pi(s, a) ~ N(s, a)^(1 / tau) (tau = 1 for the first moves, then greedy), the game is played
to the end, and each position gets the final result z(s) from the view of the player to
move; the network then minimises

    L = (v(s) - z(s))^2 - sum_a pi(s, a) log p(s, a) + lambda ||W||^2        (eq. 9.28)

(lambda as Adam's ``weight_decay``).  The game is tic-tac-toe.  Measured: win/draw/loss
rates of the network-guided search against random play and against plain MCTS with the same
number of simulations per move (first move alternating).

Run: python examples/mcts.py [--epochs 12] [--out runs/mcts]
(``--epochs`` is the number of self-play / training iterations.)
"""
import math

import numpy

import _data  # noqa: F401  (first: makes the repository importable from a checkout)
import autograd
import nn
import optim

LINES = [(0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6)]


class TicTacToe:
    """A position: ``board`` (9,) with +1 / -1 / 0, and ``player`` (+1 or -1) to move."""

    def __init__(self, board=None, player=1):
        self.board = numpy.zeros(9, numpy.int8) if board is None else board
        self.player = player

    def moves(self):
        return numpy.flatnonzero(self.board == 0)

    def play(self, a):
        board = self.board.copy()
        board[a] = self.player
        return TicTacToe(board, -self.player)

    def winner(self):
        """+1 or -1 for a completed line, 0 for a draw, None while the game goes on."""
        for i, j, k in LINES:
            s = int(self.board[i]) + int(self.board[j]) + int(self.board[k])
            if s == 3 or s == -3:
                return s // 3
        return 0 if not (self.board == 0).any() else None

    def features(self):
        """(18,) float32: the mover's stones and the opponent's (the board as the player
        to move sees it, as the text's value network encodes 'player' and 'opponent')."""
        b = self.board * self.player
        return numpy.concatenate([b == 1, b == -1]).astype(numpy.float32)

    def key(self):
        return self.board.tobytes() + bytes([self.player & 0xff])


class PolicyValueNet(nn.Module):
    """(N, 18) positions -> (move logits (N, 9), values (N,) in [-1, 1])."""

    def __init__(self, hidden=64):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(18, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                                  nn.ReLU())
        self.policy = nn.Linear(hidden, 9)
        self.value = nn.Linear(hidden, 1)

    def forward(self, x):
        h = self.body(x)
        return self.policy(h), self.value(h).tanh().squeeze(-1)


class NetEvaluator:
    """Leaf evaluation by the network: (priors over the legal moves, value for the mover);
    cached per position (the network does not change during one search batch)."""

    def __init__(self, net, device=None):
        self.net, self.device, self.cache = net, device, {}

    def __call__(self, game, rng):
        key = game.key()
        if key not in self.cache:
            with autograd.no_grad():
                logits, v = self.net(autograd.tensor(game.features()[None], device=self.device))
            logits = logits[0].cpu().numpy().astype(numpy.float64)
            self.cache[key] = (logits, float(v.item()))
        logits, v = self.cache[key]
        legal = game.moves()
        p = numpy.exp(logits[legal] - logits[legal].max())
        return p / p.sum(), v


def rollout_evaluator(game, rng):
    """Plain MCTS: uniform priors and one random roll-out (value for the player to move)."""
    legal = game.moves()
    g = game
    while g.winner() is None:
        g = g.play(rng.choice(g.moves()))
    return numpy.full(len(legal), 1.0 / len(legal)), float(g.winner() * game.player)


class Node:
    __slots__ = ('game', 'moves', 'P', 'N', 'W', 'children')

    def __init__(self, game, priors):
        self.game, self.moves, self.P = game, game.moves(), priors
        self.N = numpy.zeros(len(self.moves))
        self.W = numpy.zeros(len(self.moves))        # total value, for the player to move here
        self.children = {}


def search(game, evaluate, simulations, rng, K=1.5):
    """Visit counts N(s, a) of the root's legal moves after ``simulations`` searches with
    the upper bound of eq. 9.27.  ``evaluate(game, rng)`` -> (priors, value for the mover)."""
    root = Node(game, evaluate(game, rng)[0])
    for _ in range(simulations):
        node, path = root, []
        while True:
            Q = numpy.divide(node.W, node.N, out=numpy.zeros_like(node.W), where=node.N > 0)
            u = Q + K * node.P * math.sqrt(node.N.sum()) / (node.N + 1)      # eq. 9.27
            i = int(numpy.argmax(u + 1e-9 * rng.random(len(u))))            # random tie-break
            path.append((node, i))
            nxt = node.game.play(node.moves[i])
            w = nxt.winner()
            if w is not None:                     # terminal: the rules give the value
                value = float(w * nxt.player)
                break
            if i not in node.children:            # a new leaf: the evaluator's value
                priors, value = evaluate(nxt, rng)
                node.children[i] = Node(nxt, priors)
                break
            node = node.children[i]
        # back up: value is for the player to move at nxt; each edge's owner is the other
        for n, i in reversed(path):
            value = -value
            n.N[i] += 1
            n.W[i] += value
    return root.moves, root.N


def choose(game, evaluate, simulations, rng, tau=0.0):
    """A move from the visit counts: pi ~ N^(1/tau), or the most visited for tau = 0.
    Returns (move, pi over all 9 squares)."""
    moves, N = search(game, evaluate, simulations, rng)
    pi = numpy.zeros(9)
    if tau == 0:
        best = numpy.flatnonzero(N == N.max())
        a = int(moves[rng.choice(best)])
        pi[moves] = N / N.sum()
    else:
        p = N ** (1 / tau)
        p = p / p.sum()
        pi[moves] = p
        a = int(rng.choice(moves, p=p))
    return a, pi


def self_play(evaluate, simulations, rng, explore_moves=3):
    """One game against itself: [(features, pi, z)] for every position."""
    game, history = TicTacToe(), []
    while game.winner() is None:
        a, pi = choose(game, evaluate, simulations, rng,
                       tau=1.0 if len(history) < explore_moves else 0.0)
        history.append((game.features(), pi, game.player))
        game = game.play(a)
    w = game.winner()
    return [(f, pi, float(w * player)) for f, pi, player in history]


def alphazero_loss(net, x, pi, z):
    """Eq. 9.28 without the L2 term (Adam's weight decay adds it): squared value error
    plus the cross-entropy of the policy to the search's visit distribution."""
    logits, v = net(x)
    return ((v - z) ** 2).mean() - (pi * logits.log_softmax(-1)).sum(-1).mean()


def train(iterations=12, games=30, simulations=25, epochs=20, batch=64, lr=3e-3,
          weight_decay=1e-4, seed=0, device=None, log=print):
    """AlphaZero-lite: ``iterations`` rounds of ``games`` self-play games with the current
    network guiding the search, then ``epochs`` passes of Adam over the positions of the last
    few rounds.  Returns the network."""
    autograd.manual_seed(seed)
    rng = numpy.random.default_rng(seed)
    net = PolicyValueNet().to(device)
    opt = optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    memory = []
    for it in range(iterations):
        net.eval()
        evaluate = NetEvaluator(net, device)
        rounds = [s for _ in range(games) for s in self_play(evaluate, simulations, rng)]
        memory = (memory + [rounds])[-4:]
        data = [s for r in memory for s in r]
        x = autograd.tensor(numpy.stack([d[0] for d in data]), device=device)
        pi = autograd.tensor(numpy.stack([d[1] for d in data]), dtype=autograd.float32,
                             device=device)
        z = autograd.tensor([d[2] for d in data], dtype=autograd.float32, device=device)
        net.train()
        for _ in range(epochs):
            perm = rng.permutation(len(data))
            for j in range(0, len(data), batch):
                idx = autograd.tensor(perm[j:j + batch], device=device)
                loss = alphazero_loss(net, x[idx], pi[idx], z[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
        if log:
            with autograd.no_grad():
                full = alphazero_loss(net, x, pi, z).item()
            log(f'iteration {it + 1}: {len(data)} positions, loss {full:.3f}')
    net.eval()
    return net


def random_player(game, rng):
    return int(rng.choice(game.moves()))


def match(first, second, games, rng):
    """(wins, draws, losses) of player ``first`` over ``games`` games, the first move
    alternating.  A player is a function (game, rng) -> move."""
    wins = draws = losses = 0
    for g in range(games):
        players = (first, second) if g % 2 == 0 else (second, first)
        game, turn = TicTacToe(), 0
        while game.winner() is None:
            game = game.play(players[turn % 2](game, rng))
            turn += 1
        w = game.winner()
        mine = 1 if g % 2 == 0 else -1             # the board colour ``first`` played
        if w == 0:
            draws += 1
        elif w == mine:
            wins += 1
        else:
            losses += 1
    return wins, draws, losses


def players(net, simulations, device=None):
    """(the network-guided search, plain MCTS) as players with ``simulations`` each."""
    evaluate = NetEvaluator(net, device)
    return (lambda game, rng: choose(game, evaluate, simulations, rng)[0],
            lambda game, rng: choose(game, rollout_evaluator, simulations, rng)[0])


def main(argv=None):
    args = _data.parser('mcts', __doc__, epochs=12, epochs_help='self-play iterations'
                        ).parse_args(argv)
    sims, games = 25, 100
    net = train(args.epochs, simulations=sims, seed=args.seed, device=args.device)
    rng = numpy.random.default_rng(args.seed + 1)
    zero, plain = players(net, sims, args.device)
    untrained = PolicyValueNet().to(args.device).eval()
    zero_untrained = players(untrained, sims, args.device)[0]
    result = {}
    for name, a, b in (('AlphaZero vs random', zero, random_player),
                       ('plain MCTS vs random', plain, random_player),
                       ('AlphaZero vs plain MCTS', zero, plain),
                       ('untrained-net MCTS vs plain MCTS', zero_untrained, plain)):
        w, d, l = match(a, b, games, rng)
        result[name] = (w, d, l)
        print(f'{name}: {w} wins, {d} draws, {l} losses in {games} games ({sims} simulations '
              'a move)')
    fig, ax = _data.figure(figsize=(7, 3.5))
    names = list(result)
    wdl = numpy.array([result[n] for n in names], float) / games
    left = numpy.zeros(len(names))
    for col, label, colour in zip(wdl.T, ('win', 'draw', 'loss'),
                                  ('tab:green', '0.7', 'tab:red')):
        ax.barh(names, col, left=left, label=label, color=colour)
        left += col
    ax.set(xlabel='fraction of games', title='tic-tac-toe, 25 simulations a move')
    print('plot:', _data.savefig(fig, args.out, 'matches.png', legend_fontsize=8))
    return result


if __name__ == '__main__':
    main()
