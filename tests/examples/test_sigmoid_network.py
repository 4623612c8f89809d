"""The third shorter text's chapter 1 (S2 L374-690): NAND perceptrons (w = -2, -2, b = 3)
add two bits exactly, sigmoid neurons with scaled weights become those perceptrons, the
hand-written backpropagation is autograd's gradient, and the [784, 30, 10] sigmoid network
learns MNIST digits by mini-batch SGD on the quadratic cost with eta = 3.0."""
import pytest

import autograd
from example_scripts import load_example, run_example

sn = load_example('sigmoid_network')
F64 = autograd.float64


def bits(dtype=F64):
    dev = autograd.get_default_device()
    return (autograd.tensor([0.0, 0.0, 1.0, 1.0], dtype=dtype, device=dev),
            autograd.tensor([0.0, 1.0, 0.0, 1.0], dtype=dtype, device=dev))


def test_the_texts_perceptron_is_a_nand_gate():
    x = autograd.stack(bits(), 1)
    w = autograd.tensor([-2.0, -2.0], dtype=F64, device=x.device)
    # (0, 0): 3 > 0; (0, 1), (1, 0): 1 > 0; (1, 1): -1 <= 0
    assert (x @ w + 3).tolist() == [3.0, 1.0, 1.0, -1.0]
    assert sn.perceptron(x, w, 3.0).tolist() == [1.0, 1.0, 1.0, 0.0]
    # the rule's boundary: w.x + b = 0 gives 0
    assert sn.perceptron(x[:1], w, 0.0).tolist() == [0.0]


def test_nand_perceptrons_add_two_bits():
    x1, x2 = bits()
    total, carry = sn.half_adder(x1, x2)
    assert total.tolist() == [0.0, 1.0, 1.0, 0.0]        # x1 XOR x2
    assert carry.tolist() == [0.0, 0.0, 0.0, 1.0]        # x1 x2


@pytest.mark.parametrize('c', [0.5, 7.0])
def test_scaling_weights_and_biases_by_c_changes_no_perceptron(c):
    x1, x2 = bits()
    for a, b in zip(sn.half_adder(x1, x2), sn.half_adder(x1, x2, c=c)):
        assert autograd.equal(a, b)


def test_sigmoid_neurons_with_weights_times_c_become_the_perceptrons():
    x1, x2 = bits()
    exact = sn.half_adder(x1, x2)
    gaps = []
    for c in (1.0, 5.0, 40.0):
        approx = sn.half_adder(x1, x2, neuron=sn.sigmoid_neuron, c=c)
        gaps.append(max((a - b).abs().max().item() for a, b in zip(approx, exact)))
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[2] < 1e-15          # every w.x + b here is +-1 or more: sigma(40) ~ 1 - 4e-18


def test_hand_written_backpropagation_is_autograds_gradient():
    dev = autograd.get_default_device()
    autograd.manual_seed(0)
    net = sn.Network([12, 5, 3]).to(dev).double()
    gen = autograd.Generator(dev).manual_seed(0)
    x = autograd.rand(10, 12, dtype=F64, generator=gen, device=dev)
    y = sn.nn.functional.one_hot(autograd.randint(0, 3, (10,), generator=gen, device=dev),
                                 3).double()
    sn.quadratic_cost(net(x), y).backward()
    with autograd.no_grad():
        hand = sn.backprop(net, x, y)
    for layer, (dW, db) in zip(net.layers, hand):
        assert autograd.allclose(layer.weight.grad, dW, rtol=1e-10, atol=1e-12)
        assert autograd.allclose(layer.bias.grad, db, rtol=1e-10, atol=1e-12)


def test_weights_and_biases_start_standard_normal():
    autograd.manual_seed(0)
    net = sn.Network([784, 30, 10])
    w = net.layers[0].weight
    assert w.shape == (30, 784)
    assert w.mean().item() == pytest.approx(0.0, abs=0.02)
    assert w.std().item() == pytest.approx(1.0, abs=0.02)


def test_the_mini_batch_step_is_eta_over_m_times_the_summed_gradients():
    dev = autograd.get_default_device()
    autograd.manual_seed(1)
    net = sn.Network([6, 4, 2]).to(dev).double()
    before = [p.detach().clone() for p in net.parameters()]
    gen = autograd.Generator(dev).manual_seed(0)
    X = autograd.rand(10, 6, dtype=F64, generator=gen, device=dev)
    Y = sn.nn.functional.one_hot(autograd.tensor([0, 1] * 5, device=dev), 2).double()
    # eqs. 20-21: w - eta/m sum_j dC_Xj/dw, each C_x = 1/2 ||y(x) - a||^2
    summed = [autograd.zeros_like(p) for p in before]
    for j in range(10):
        grads = autograd.grad(0.5 * ((Y[j] - net(X[j:j + 1])[0]) ** 2).sum(),
                              list(net.parameters()))
        summed = [s + g for s, g in zip(summed, grads)]
    sn.sgd(net, X, Y, 1, 10, 3.0, gen, log=lambda *a: None)     # one mini-batch of all 10
    for p, p0, s in zip(net.parameters(), before, summed):
        assert autograd.allclose(p.detach(), p0 - 3.0 / 10 * s, rtol=1e-10, atol=1e-12)


@pytest.mark.slow
def test_sigmoid_network_script(tmp_path):
    r = run_example('sigmoid_network', tmp_path, '--epochs', 4, '--train', 2000)
    assert r['half adder'] == {'sum': [0.0, 1.0, 1.0, 0.0], 'carry': [0.0, 0.0, 0.0, 1.0]}
    assert r['before training'] < 250                 # ~ chance: N(0, 1) weights
    assert r['test accuracy'] > 0.6     # 4 epochs on 2,000 images (full run: 0.90)
    assert (tmp_path / 'sigmoid_network.png').stat().st_size > 0
