"""A forward pass recorded op by op, for the exporter.

The backward graph keeps only what backward needs: an input that needs no gradient (a
Python number, a mask, a constant tensor made inside ``forward``) leaves no trace in it.
So the exporter records during the forward instead.  The engine's recording statements
(``node.record_source``) already call one hook per recorded node, ``_creation_trace``,
when anomaly mode is on; :class:`Recorder` switches anomaly mode on for the duration of
one forward and replaces that hook by one that reads, from the recording frame, the node
and the exact objects the op was applied to (and, from ``Op.apply``'s frame, its keyword
parameters).  Every model input is made to require grad (floating ones) so that every op
that depends on it records a node.  Recurrent modules are recorded whole (forward hooks),
since ONNX has ops for them.
"""
import sys

from .. import node as _node_module
from .. import op as _op_module
from ..grad_mode import process as _process

__all__ = ['Recorder']

_APPLY_CODE = _op_module.Op.apply.__func__.__code__


class Recorder:
    """Context manager: while active, ``records`` receives, in creation order,
    ``('op', node, inputs, params)`` for every recorded node and
    ``('module', module, args, output)`` for every call of a module in ``whole``."""

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
        return self

    def _module_done(self, module, args, output):
        self.records.append(('module', module, tuple(args), output))

    def __exit__(self, *exc):
        _node_module._creation_trace, _op_module._creation_trace, _process.anomaly = self._saved
        for h in self._handles:
            h.remove()
        self._handles = []
        return False
