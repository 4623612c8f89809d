"""The engine's compiled entry points (autograd/_inline.py): the recording statements are
compiled into several modules' namespaces, so each must bind every global name they use
(a missing one would surface only on a rare branch, such as anomaly mode)."""
import builtins
import dis
import importlib
import inspect

import pytest

import autograd
from autograd import node, op

tensor = importlib.import_module('autograd.tensor')   # (autograd.tensor is also a function)


@pytest.mark.parametrize('module, name', [(tensor, '_make'), (node, 'link'), (node, 'record'),
                                          (op, 'apply_unary'), (op, 'apply_binary')])
def test_compiled_functions_find_every_global_they_use(module, name):
    code = getattr(module, name).__code__
    used = {i.argval for i in dis.get_instructions(code) if i.opname == 'LOAD_GLOBAL'}
    missing = sorted(g for g in used if g not in vars(module) and not hasattr(builtins, g))
    assert not missing, f'{module.__name__}.{name} uses unbound globals {missing}'


def test_compiled_source_is_readable_and_attributed():
    source = inspect.getsource(op.apply_binary)
    assert source.startswith('def apply_binary(cls, a, b):')
    assert 't._vc = [0]' in source                # the constructor's statements, inlined
    assert op.apply_binary.__code__.co_filename == '<autograd autograd.op.apply_binary>'


def test_anomaly_mode_records_where_each_node_was_made():
    a = autograd.tensor([1.0], requires_grad=True)
    with autograd.detect_anomaly():
        y = a * 2                                   # this line
    assert 'y = a * 2' in node.TRACES[y.grad_fn]
    assert '<autograd ' not in node.TRACES[y.grad_fn]
