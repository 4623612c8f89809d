"""Neuroevolution (S0 L1603-1631): the direct encoding, the genetic operators, a GA that
learns digits, and backprop reaching the same accuracy in far fewer evaluations."""
import pytest

import autograd
from example_scripts import load_example, run_example

ne = load_example('neuroevolution')


def gen():
    return autograd.Generator(autograd.get_default_device()).manual_seed(0)


def test_direct_encoding_is_one_gene_per_weight_and_bias():
    assert ne.n_genes() == 64 * 16 + 16 + 16 * 10 + 10
    # a genotype decodes to the network nn.Sequential computes with the same numbers
    model = ne.nn.Sequential(ne.nn.Linear(64, 16), ne.nn.Tanh(), ne.nn.Linear(16, 10))
    model.to(autograd.get_default_device())
    genes = autograd.cat([autograd.cat([l.weight.T.flatten(), l.bias])
                          for l in (model[0], model[2])]).unsqueeze(0).detach()
    X = autograd.rand(7, 64, generator=gen(), device=genes.device)
    assert autograd.allclose(ne.forward(genes, X)[0], model(X).detach(), atol=1e-6)


def test_uniform_crossover_takes_every_gene_from_a_parent():
    dev = autograd.get_default_device()
    mothers = autograd.zeros(50, 200, device=dev)
    fathers = autograd.ones(50, 200, device=dev)
    child = ne.crossover(mothers, fathers, gen())
    assert ((child == 0) | (child == 1)).all().item()
    assert child.mean().item() == pytest.approx(0.5, abs=0.02)


def test_mutation_touches_genes_with_probability_p():
    pop = autograd.zeros(100, 400, device=autograd.get_default_device())
    out = ne.mutate(pop, 0.05, 0.1, gen())
    assert (out != 0).float().mean().item() == pytest.approx(0.05, abs=0.005)
    assert out[out != 0].std().item() == pytest.approx(0.1, rel=0.1)


def test_tournament_picks_the_fittest_entrant():
    fit = autograd.arange(10.0, device=autograd.get_default_device())
    picks = ne.tournament(fit, 10, 200, gen())
    # ten entrants drawn with replacement from ten: the best of them is usually 9
    assert (picks == 9).float().mean().item() > 0.6
    picks = ne.tournament(fit, 1, 2000, gen())              # k = 1: no selection pressure
    assert picks.float().mean().item() == pytest.approx(4.5, abs=0.3)


def test_elitism_never_loses_the_best_fitness():
    X, y = ne._data.digits()
    X, y = ne._data.to_tensors(X[:300], y[:300], device=autograd.get_default_device())
    _, history = ne.evolve(X, y, 15, gen(), size=20)
    best = [h['fitness'] for h in history]
    assert all(b2 >= b1 for b1, b2 in zip(best, best[1:]))
    assert best[-1] > best[0]


@pytest.mark.slow
def test_neuroevolution_script(tmp_path):
    r = run_example('neuroevolution', tmp_path, '--epochs', 40, '--population', 50)
    ga, bp = r['genetic algorithm'], r['backprop']
    assert ga['train accuracy'] > 0.5          # from 10% by selection and variation alone
    assert bp['test accuracy'] > 0.93
    # backprop reaches 50% training accuracy in a few evaluations, the GA in a thousand or so
    assert ga['evaluations to 50% train accuracy'] > 100 * bp['evaluations to 50% train accuracy']
    assert (tmp_path / 'neuroevolution.png').stat().st_size > 0
