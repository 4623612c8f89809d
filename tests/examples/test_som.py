"""Competitive learning, vector quantisation and the Kohonen map (sec. 10.5): the text's
lattice distance and damping, eq. 10.20 by hand, and a map that unfolds over the data."""
import math

import numpy
import pytest

import autograd
from example_scripts import load_example

som = load_example('som')


def test_lattice_distance_of_the_books_example_and_the_damping_kernel():
    coords = som.lattice(5, 'rectangular')
    i, k = 0, 3 * 5 + 2                        # 2 columns and 3 rows apart
    assert (coords[i] - coords[k]).norm().item() == pytest.approx(math.sqrt(13))
    d = som.damp(coords, i, sigma=2.0)
    assert d[k].item() == pytest.approx(math.exp(-13 / 8))      # eq. 10.21
    assert d[i].item() == 1.0


@pytest.mark.parametrize('kind,neighbours', [('rectangular', 4), ('hexagonal', 6)])
def test_interior_neurons_have_four_or_six_lattice_neighbours(kind, neighbours):
    coords = som.lattice(5, kind)
    dist = (coords.unsqueeze(0) - coords.unsqueeze(1)).norm(dim=2)
    centre = 2 * 5 + 2
    assert int(((dist[centre] > 0.5) & (dist[centre] < 1.01)).sum().item()) == neighbours


def test_competitive_update_is_eq_10_20():
    X = autograd.tensor([[1.0, 0.0]])
    gen = autograd.Generator(X.device).manual_seed(0)
    W0 = som.competitive_learning(X, 2, steps=0, generator=gen)
    gen.manual_seed(0)
    W1 = som.competitive_learning(X, 2, steps=1, alpha=0.5, generator=gen)
    p = int((W0 - X[0]).norm(dim=1).argmin().item())
    expected = W0.clone()
    expected[p] = W0[p] + 0.5 * (X[0] - W0[p])
    numpy.testing.assert_allclose(W1.cpu().numpy(), expected.cpu().numpy(), rtol=1e-6)


@pytest.mark.parametrize('kind', ['rectangular', 'hexagonal'])
def test_map_unfolds_over_the_square(kind):
    gen = autograd.Generator(autograd.get_default_device()).manual_seed(0)
    X = autograd.rand(1000, 2, generator=gen)
    coords = som.lattice(6, kind)
    W, kept = som.self_organising_map(X, 6, 1500, kind, generator=gen, snapshots=(0,))
    assert som.topographic_error(X, W, coords) < 0.05
    assert som.quantisation_error(X, W) < 0.5 * som.quantisation_error(X, kept[0])
    # the map spans the square: a neuron near every corner (the start is a ball at 0.7)
    corners = autograd.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    assert som.distances(corners, W).min(1).values.max().item() < 0.3
    assert som.distances(corners, kept[0]).min(1).values.min().item() > 0.6


def test_sensitivity_brings_dead_neurons_into_play():
    gen = autograd.Generator(autograd.get_default_device()).manual_seed(0)
    X = autograd.rand(600, 2, generator=gen) * 0.3         # data in one corner of the box
    X[0] = autograd.tensor([1.0, 1.0])                    # ... and one far point
    plain = som.cluster_sizes(X, som.competitive_learning(X, 12, 1500, generator=gen))
    gen.manual_seed(0)
    X2 = X.clone()
    vq = som.cluster_sizes(X2, som.competitive_learning(X2, 12, 1500, gamma=0.01,
                                                        generator=gen))
    assert int((vq > 0).sum().item()) > int((plain > 0).sum().item())
    assert vq.max().item() < plain.max().item()
