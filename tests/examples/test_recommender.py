"""Matrix factorisation recovers a low-rank ratings matrix down to the noise floor."""
import pytest

import autograd
from example_scripts import load_example

recommender = load_example('recommender')


def test_masked_loss_ignores_unobserved_entries():
    pred = autograd.zeros(2, 2)
    mask = autograd.tensor([[True, False], [False, True]])
    a = autograd.tensor([[1.0, 100.0], [-100.0, 3.0]])
    b = autograd.tensor([[1.0, 0.0], [0.0, 3.0]])
    assert recommender.masked_mse(pred, a, mask).item() == 5.0  # (1 + 9) / 2
    assert recommender.masked_mse(pred, b, mask).item() == 5.0


@pytest.mark.slow
def test_held_out_rmse_reaches_the_noise_floor():
    noise = 0.1
    result = recommender.train(n_users=200, n_items=150, rank=4, noise=noise, epochs=150,
                               seed=1, log=None)
    # the best possible held-out RMSE is the noise itself; a constant predictor is ~10x worse
    assert result['constant_rmse'] > 8 * noise
    assert result['test_rmse'] < 1.35 * noise
    # most of the error left is the noise: the clean matrix is recovered to well below it
    assert result['clean_rmse'] < 0.85 * noise
