"""Echo-state network: a fixed random reservoir scaled to a spectral radius, a trained linear
readout, on the yearly sunspot numbers; and the linear shift-matrix reservoir that is exactly
an autoregressive AR(p) model.

Aggarwal, *Neural Networks and Deep Learning*, sec. 7.4 (eq. 7.7: W_hh <- W_hh / |lambda_max|,
then W_hh = gamma W_0 with gamma tuned on held-out data; sparse hidden-to-hidden connections,
their number linear in the number of hidden units; W_xh = beta W_1; only the output layer is
trained, "a case of linear regression") and sec. 7.9's "Relationship with autoregressive
models" (a p x p W_hh with ones at (i, i+1) shifts the state, W_xh copies x_t into the
vacated unit, so h_t is the last p values of the series and W_hy h_t is an AR(p) forecast).

The reservoir runs h_t = tanh(W_xh x_t + W_hh h_{t-1} + b) over the whole series; the readout
y_t = W_hy [h_t; 1] predicting x_{t+1} is a ridge regression, solved from its normal equations
with ``autograd.linalg.solve`` on the reservoir's own device.  The spectral radius
|lambda_max| of eq. 7.7 is the largest modulus of W_0's eigenvalues, complex in general
(``autograd.linalg.eigvals``); the largest singular value, ``linalg.matrix_norm(W, 2)``,
would only bound it from above.

Data: the yearly mean sunspot numbers 1700-2008 shipped with ``statsmodels`` (no download);
the last 60 years are held out, the 40 before them choose gamma.

Run: ``python examples/echo_state.py [--hidden 200] [--ar-order 9]``
"""
import math

import numpy

import _data  # noqa: I001  (before autograd: it makes a source checkout importable)
import autograd

DTYPE = autograd.float64     # least squares in double precision


def sunspots():
    """Yearly mean sunspot numbers 1700-2008: (years (309,) int, values (309,) float64)."""
    from statsmodels.datasets import sunspots as data
    frame = data.load_pandas().data
    return frame['YEAR'].to_numpy().astype(int), frame['SUNACTIVITY'].to_numpy(numpy.float64)


def spectral_radius(W):
    """max |lambda_i(W)|, the largest modulus of W's (complex) eigenvalues, from
    ``autograd.linalg.eigvals`` on W's own device."""
    with autograd.no_grad():
        return autograd.linalg.eigvals(W).abs().amax().item()


def random_reservoir(hidden, gamma, beta=0.5, connections=10, seed=0, device=None):
    """W_hh = gamma W_0 / |lambda_max(W_0)| with ``connections`` non-zero standard-normal
    entries per row (eq. 7.7); W_xh = beta W_1 and a bias, W_1 and b uniform in [-1, 1].
    Returns (W_xh (hidden, 1), W_hh (hidden, hidden), b (hidden,))."""
    g = autograd.Generator().manual_seed(seed)
    kw = dict(generator=g, dtype=DTYPE, device='cpu')
    W0 = autograd.randn(hidden, hidden, **kw)
    keep = autograd.rand(hidden, hidden, **kw) < connections / hidden
    W0 = (W0 * keep).to(device)
    W_hh = W0 * (gamma / spectral_radius(W0))
    W_xh = (beta * (2 * autograd.rand(hidden, 1, **kw) - 1)).to(device)
    b = (beta * (2 * autograd.rand(hidden, **kw) - 1)).to(device)
    return W_xh, W_hh, b


def shift_reservoir(p, device=None):
    """The book's linear reservoir: W_hh has ones at (i, i+1) (here: h_t[i] = h_{t-1}[i-1],
    with unit 0 the newest), W_xh copies x_t into unit 0, no bias.  Then h_t =
    (x_t, x_{t-1}, ..., x_{t-p+1})."""
    W_hh = autograd.zeros(p, p, dtype=DTYPE, device=device)
    W_hh[1:, :-1] = autograd.eye(p - 1, dtype=DTYPE, device=device)
    W_xh = autograd.zeros(p, 1, dtype=DTYPE, device=device)
    W_xh[0, 0] = 1.0
    return W_xh, W_hh, autograd.zeros(p, dtype=DTYPE, device=device)


def run_reservoir(x, W_xh, W_hh, b, activation=autograd.tanh):
    """States h_1 .. h_T (T, hidden) of h_t = act(W_xh x_t + W_hh h_{t-1} + b), h_0 = 0;
    x: (T,) on the reservoir's device.  Nothing here is trained: no graph is recorded."""
    with autograd.no_grad():
        drive = x.unsqueeze(1) @ W_xh.T + b                      # (T, hidden)
        h = autograd.zeros(W_hh.shape[0], dtype=DTYPE, device=x.device)
        states = []
        for t in range(x.shape[0]):
            h = activation(drive[t] + W_hh @ h)
            states.append(h)
        return autograd.stack(states)


def ridge_readout(H, y, alpha=1e-6):
    """The readout trained as linear regression: (w, c) minimising
    mean (H w + c - y)^2 + alpha ||w||^2 (the intercept c not penalised), from the normal
    equations ([H 1]^T [H 1] / n + alpha diag(1, .., 1, 0)) [w; c] = [H 1]^T y / n."""
    with autograd.no_grad():
        n, d = H.shape
        X = autograd.cat([H, autograd.ones(n, 1, dtype=H.dtype, device=H.device)], 1)
        penalty = autograd.ones(d + 1, dtype=H.dtype, device=H.device)
        penalty[d] = 0.0
        A = X.T @ X / n + alpha * autograd.diag(penalty)
        solution = autograd.linalg.solve(A, X.T @ y / n)
    return solution[:d], solution[d]


def readout_predict(H, readout):
    w, c = readout
    return H @ w + c


def rmse(a, b):
    return math.sqrt(((a - b) ** 2).mean().item())


def forecast(series, n_test=60, n_valid=40, hidden=200, gammas=(0.5, 0.8, 0.95, 1.2, 2.0),
             beta=0.5, alpha=1e-4, washout=20, ar_order=9, seed=0, device=None):
    """One-year-ahead forecasts of ``series`` (T,) by echo-state networks of each spectral
    radius gamma (readout fitted on the years before the validation block), the best gamma
    refitted on train + validation and scored on the last ``n_test`` years.  Returns the
    validation RMSE per gamma, the chosen gamma, the test RMSE, and for scale the test RMSE
    of persistence (x_{t+1} = x_t) and of an AR(``ar_order``) model fitted on the same years
    (through the shift reservoir); values in the series' own units."""
    device = device or autograd.get_default_device()
    T = len(series)
    n_fit = T - n_test - n_valid
    mean, std = series[:n_fit].mean(), series[:n_fit].std()
    x = autograd.tensor((series - mean) / std, dtype=DTYPE, device=device)
    inputs, targets = x[:-1], x[1:]                  # h_t predicts x_{t+1}
    fit = slice(washout, n_fit - 1)
    valid = slice(n_fit - 1, n_fit + n_valid - 1)
    test = slice(n_fit + n_valid - 1, T - 1)
    valid_rmse, radius = {}, {}
    for gamma in gammas:
        W_xh, W_hh, b = random_reservoir(hidden, gamma, beta, seed=seed, device=device)
        radius[gamma] = spectral_radius(W_hh)
        H = run_reservoir(inputs, W_xh, W_hh, b)
        readout = ridge_readout(H[fit], targets[fit], alpha)
        with autograd.no_grad():
            valid_rmse[gamma] = std * rmse(readout_predict(H[valid], readout), targets[valid])
    best = min(valid_rmse, key=valid_rmse.get)
    W_xh, W_hh, b = random_reservoir(hidden, best, beta, seed=seed, device=device)
    H = run_reservoir(inputs, W_xh, W_hh, b)
    both = slice(washout, n_fit + n_valid - 1)
    readout = ridge_readout(H[both], targets[both], alpha)
    with autograd.no_grad():
        prediction = readout_predict(H[test], readout)
        test_rmse = std * rmse(prediction, targets[test])
        persistence = std * rmse(inputs[test], targets[test])
    # the same readout on the linear shift reservoir: an AR(ar_order) forecast
    S = run_reservoir(inputs, *shift_reservoir(ar_order, device), activation=lambda a: a)
    ar = ridge_readout(S[both], targets[both], alpha=0.0)
    with autograd.no_grad():
        ar_rmse = std * rmse(readout_predict(S[test], ar), targets[test])
    return dict(valid_rmse=valid_rmse, radius=radius, gamma=best, test_rmse=test_rmse,
                persistence_rmse=persistence, ar_rmse=ar_rmse,
                prediction=prediction.cpu().numpy() * std + mean)


def ar_through_shift_reservoir(series, p, device=None):
    """The AR(p) coefficients read off the readout of the linear shift reservoir: the
    readout weight on unit i is the coefficient of x_{t-i}.  Returns (coefficients (p,),
    intercept) in the units of ``series``, fitted by least squares on all of it."""
    device = device or autograd.get_default_device()
    x = autograd.tensor(series, dtype=DTYPE, device=device)
    W_xh, W_hh, b = shift_reservoir(p, device)
    H = run_reservoir(x[:-1], W_xh, W_hh, b, activation=lambda a: a)
    # the first p-1 states still hold the zero h_0: an AR(p) fit starts at t = p
    w, c = ridge_readout(H[p - 1:], x[p:], alpha=0.0)
    return w.cpu().numpy(), c.item()


def plot(years, series, result, n_test, out):
    fig, ax = _data.figure(figsize=(7, 3.5))
    ax.plot(years, series, color='0.6', label='sunspot number')
    ax.plot(years[-n_test:], result['prediction'], color='tab:red',
            label=f'echo-state forecast (gamma = {result["gamma"]})')
    ax.set_xlabel('year')
    return _data.savefig(fig, out, 'sunspots.png', legend_fontsize=8)


def main(argv=None):
    p = _data.parser('echo_state', __doc__, epochs=0, epochs_help='unused')
    p.add_argument('--hidden', type=int, default=200)
    p.add_argument('--ar-order', type=int, default=9)
    args = p.parse_args(argv)
    years, series = sunspots()
    result = forecast(series, hidden=args.hidden, ar_order=args.ar_order, seed=args.seed,
                      device=args.device)
    plot(years, series, result, 60, args.out)
    for gamma, r in result['valid_rmse'].items():
        print(f'gamma {gamma}: spectral radius measured {result["radius"][gamma]:.3f}, '
              f'validation RMSE {r:.2f}')
    print(f'echo-state network (gamma {result["gamma"]}): test RMSE {result["test_rmse"]:.2f} '
          f'vs AR({args.ar_order}) {result["ar_rmse"]:.2f} and persistence '
          f'{result["persistence_rmse"]:.2f} (sunspot number, 1949-2008)')
    coef, intercept = ar_through_shift_reservoir(series, args.ar_order, args.device)
    print(f'shift reservoir readout = AR({args.ar_order}) coefficients: '
          + ' '.join(f'{c:.4f}' for c in coef) + f', intercept {intercept:.3f}')
    result['ar'] = (coef, intercept)
    return result


if __name__ == '__main__':
    main()
