"""A forward pass recorded op by op, for the exporter.

The backward graph keeps only what backward needs: an input that needs no gradient (a
Python number, a mask, a constant tensor made inside ``forward``) leaves no trace in it.
So the exporter records during the forward instead.  The engine's recording statements
(``node.record_source``) already call one hook per recorded node, ``_creation_trace``,
when anomaly mode is on; :class:`Recorder` switches anomaly mode on for the duration of
one forward and replaces that hook by one that reads, from the recording frame, the node
and the exact objects the op was applied to (and, from ``Op.apply``'s frame, its keyword
parameters).  Every model input is made to require grad (floating ones) so that every op
that depends on it records a node.  Ops that never record a node (comparisons, logical
ops, argmax, integer casts) are recorded by wrapping those Tensor methods for the
duration (``FUNCTIONS``).  Recurrent modules are recorded whole (forward hooks), since
ONNX has ops for them.
"""
import sys

import autograd as _package

from .. import node as _node_module
from .. import op as _op_module
from ..grad_mode import process as _process
from ..tensor import Tensor

__all__ = ['Recorder']

_APPLY_CODE = _op_module.Op.apply.__func__.__code__

# Tensor methods whose results never require grad, so record no node: recorded by name.
FUNCTIONS = ('__gt__', '__ge__', '__lt__', '__le__', '__eq__', '__ne__', 'gt', 'ge', 'lt',
             'le', 'eq', 'ne', '__invert__', 'logical_not', '__and__', '__or__',
             'logical_and', 'logical_or', 'argmax', 'argmin', 'long', 'int', 'bool',
             'float', 'double')


class Recorder:
    """Context manager: while active, ``records`` receives, in creation order,
    ``('op', node, inputs, params)`` for every recorded node,
    ``('fn', name, args, kwargs, output)`` for every call of a Tensor method in
    ``FUNCTIONS`` (or of the function of that name in ``autograd``), and
    ``('module', module, args, output)`` for every call of a module
    in ``modules``."""

    def __init__(self, modules=()):
        self.records = []
        self._modules = modules
        self._handles = []

    def __enter__(self):
        self._saved = (_node_module._creation_trace, _op_module._creation_trace,
                       _process.anomaly)
        chained = self._saved[0] if _process.anomaly else None

        def hook():
            frame = sys._getframe(1)
            local = frame.f_locals
            params = {}
            f = frame.f_back
            for _ in range(3):              # record / _record_many / link below Op.apply
                if f is None:
                    break
                if f.f_code is _APPLY_CODE:
                    params = dict(f.f_locals.get('params') or {})
                    break
                f = f.f_back
            self.records.append(('op', local['node'], tuple(local['inputs']), params))
            return chained() if chained is not None else ''

        _node_module._creation_trace = hook
        _op_module._creation_trace = hook
        _process.anomaly = True
        for m in self._modules:
            self._handles.append(m.register_forward_hook(self._module_done))
        self._methods = {name: Tensor.__dict__[name] for name in FUNCTIONS
                         if name in Tensor.__dict__}
        for name, method in self._methods.items():
            setattr(Tensor, name, self._wrap(name, method))
        self._functions = {name: getattr(_package, name) for name in FUNCTIONS
                           if not name.startswith('__') and hasattr(_package, name)}
        for name, fn in self._functions.items():        # autograd.gt(x, y) ...
            setattr(_package, name, self._wrap(name, fn))
        return self

    def _wrap(self, name, method):
        records = self.records

        def recorded(*args, **kwargs):
            out = method(*args, **kwargs)
            if isinstance(out, Tensor) and not any(out is a for a in args):
                records.append(('fn', name, args, kwargs, out))
                if out.is_floating_point() and not out.requires_grad:
                    out.requires_grad_(True)    # so that the ops using it record nodes
            return out
        recorded.__name__ = name
        return recorded

    def _module_done(self, module, args, output):
        self.records.append(('module', module, tuple(args), output))

    def __exit__(self, *exc):
        _node_module._creation_trace, _op_module._creation_trace, _process.anomaly = self._saved
        for name, method in self._methods.items():
            setattr(Tensor, name, method)
        for name, fn in self._functions.items():
            setattr(_package, name, fn)
        for h in self._handles:
            h.remove()
        self._handles = []
        return False
