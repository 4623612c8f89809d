"""Hand-written NumPy floors for some of tools/benchmark.py's workloads: the same step
(forward, backward, optimizer update; same shapes, dtype, initial weights and data) with
no graph, no tensors and no dispatch, as a person would write it for that one network.
The engine's time above a floor is its bookkeeping.

Each ``floor_*(seed)`` returns ``step() -> loss`` (a float), so a test can check that
the floor computes what the workload computes."""
import numpy as np


def _init(shapes, seed=0):
    """Parameters as tools/benchmark.py's ``_same_init`` draws them (one NumPy stream,
    in parameter order)."""
    rng = np.random.default_rng(seed)
    out = []
    for shape in shapes:
        bound = 1.0 / np.sqrt(shape[-1]) if len(shape) > 1 else 0.05
        out.append(rng.uniform(-bound, bound, shape).astype(np.float32))
    return out


def tiny_chain():
    rng = np.random.default_rng(0)
    a = rng.standard_normal(4).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)

    def step():
        u = a * b + a
        e = np.exp(u)
        t = np.tanh(e)
        y = t * b - a
        g = np.ones_like(y)                 # d sum / dy
        gt = g * b
        gb = g * t
        ge = gt * (1 - t * t)
        gu = ge * e
        ga = gu * b + gu - g
        gb = gb + gu * a
        return float(y.sum()), ga, gb
    return step


def _softmax_xent(z, y):
    """Mean cross-entropy of logits ``z`` (N, C) against labels ``y``, and dL/dz."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    n = len(y)
    loss = float(np.log(s[:, 0]).sum() - z[np.arange(n), y].sum()) / n
    e /= s
    e[np.arange(n), y] -= 1
    e /= n
    return loss, e


def _mlp(batch):
    w1, b1, w2, b2, w3, b3 = params = _init([(256, 784), (256,), (128, 256), (128,),
                                             (10, 128), (10,)])
    rng = np.random.default_rng(1)
    x = rng.standard_normal((batch, 784)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    bufs = [None] * len(params)

    def step():
        h1 = np.maximum(x @ w1.T + b1, 0)
        h2 = np.maximum(h1 @ w2.T + b2, 0)
        loss, g3 = _softmax_xent(h2 @ w3.T + b3, y)
        g2 = (g3 @ w3) * (h2 > 0)
        g1 = (g2 @ w2) * (h1 > 0)
        grads = [g1.T @ x, g1.sum(0), g2.T @ h1, g2.sum(0), g3.T @ h2, g3.sum(0)]
        for i, (p, g) in enumerate(zip(params, grads)):     # SGD, momentum 0.9
            if bufs[i] is None:
                bufs[i] = g
            else:
                bufs[i] *= 0.9
                bufs[i] += g
            p -= 0.01 * bufs[i]
        return loss
    return step


def mlp_b64():
    return _mlp(64)


def mlp_b512():
    return _mlp(512)


def regression_mlp():
    w1, b1, w2, b2, w3, b3 = params = _init([(32, 4), (32,), (32, 32), (32,), (1, 32), (1,)])
    rng = np.random.default_rng(1)
    x = rng.standard_normal((16, 4)).astype(np.float32)
    y = rng.standard_normal((16, 1)).astype(np.float32)

    def step():
        h1 = np.maximum(x @ w1.T + b1, 0)
        h2 = np.maximum(h1 @ w2.T + b2, 0)
        d = h2 @ w3.T + b3 - y
        loss = float((d * d).mean())
        g3 = d * np.float32(2 / d.size)
        g2 = (g3 @ w3) * (h2 > 0)
        g1 = (g2 @ w2) * (h1 > 0)
        grads = [g1.T @ x, g1.sum(0), g2.T @ h1, g2.sum(0), g3.T @ h2, g3.sum(0)]
        for p, g in zip(params, grads):
            p -= 0.01 * g
        return loss
    return step


def char_mlp():
    emb, w1, b1, w2, b2 = params = _init([(27, 10), (200, 30), (200,), (27, 200), (27,)])
    rng = np.random.default_rng(1)
    x = rng.integers(0, 27, (32, 3))
    y = rng.integers(0, 27, 32)

    def step():
        e = emb[x].reshape(32, 30)
        h = np.tanh(e @ w1.T + b1)
        loss, g2 = _softmax_xent(h @ w2.T + b2, y)
        gh = (g2 @ w2) * (1 - h * h)
        ge = np.zeros_like(emb)
        np.add.at(ge, x, (gh @ w1).reshape(32, 3, 10))
        grads = [ge, gh.T @ e, gh.sum(0), g2.T @ h, g2.sum(0)]
        for p, g in zip(params, grads):
            p -= 0.1 * g
        return loss
    return step


FLOORS = {'tiny-chain': tiny_chain, 'mlp-b64': mlp_b64, 'mlp-b512': mlp_b512,
          'regression-mlp': regression_mlp, 'char-mlp': char_mlp}
