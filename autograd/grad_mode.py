"""Grad modes: whether ops record graph nodes.  Thread-local, as in PyTorch.

Each context manager doubles as a decorator.
"""
import functools
import inspect
import threading

__all__ = ['no_grad', 'enable_grad', 'set_grad_enabled', 'is_grad_enabled', 'inference_mode',
           'is_inference_mode_enabled']


class _State(threading.local):
    def __init__(self):
        self.enabled = True          # read once per op: keep it a plain attribute
        self.inference = False
        self.arrays = False          # inside a sweep that passes gradients as bare arrays


state = _State()


class _Process:
    """Switches for the whole process: anomaly mode is global in PyTorch, not per thread."""

    def __init__(self):
        self.anomaly = False


process = _Process()


def is_grad_enabled():
    return state.enabled


def is_inference_mode_enabled():
    return state.inference


class _Mode:
    """Base for grad-mode contexts; subclasses set ``_value`` and use ``_enter``."""

    def __call__(self, fn):
        if inspect.isclass(fn):
            raise TypeError('grad-mode decorators apply to functions, not classes')
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def gen_wrapper(*args, **kwargs):
                gen = fn(*args, **kwargs)
                try:
                    with self.clone():
                        item = next(gen)
                    while True:
                        try:
                            sent = yield item
                        except GeneratorExit:
                            gen.close()
                            raise
                        except BaseException as exc:
                            with self.clone():
                                item = gen.throw(exc)
                        else:
                            with self.clone():
                                item = gen.send(sent)
                except StopIteration as stop:
                    return stop.value
            return gen_wrapper

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)
        return wrapper

    def clone(self):
        return self.__class__()

    def __enter__(self):
        self._prev = state.enabled
        state.enabled = self._value

    def __exit__(self, *exc):
        state.enabled = self._prev
        return False


class _NoParamMode(_Mode):
    """A mode that also decorates without parentheses (``@no_grad``), as PyTorch's do."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamMode):
    """Ops inside record no graph: results have ``requires_grad=False``."""
    _value = False


class enable_grad(_NoParamMode):
    """Re-enable recording inside ``no_grad``."""
    _value = True


class set_grad_enabled(_Mode):
    """``set_grad_enabled(flag)`` sets the mode at once, and restores it when used with ``with``."""

    def __init__(self, mode):
        self._prev = state.enabled
        self._value = bool(mode)
        state.enabled = self._value

    def __enter__(self):
        pass

    def __call__(self, fn):
        state.enabled = self._prev     # as a decorator it must not change the mode now
        return super().__call__(fn)

    def clone(self):
        return set_grad_enabled(self._value)


class inference_mode(_Mode):
    """Like ``no_grad`` (this engine's no_grad already skips all bookkeeping)."""

    def __new__(cls, mode=True):
        if isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)             # used bare as a decorator: ``mode`` is the function

    def __init__(self, mode=True):
        self._mode = bool(mode)
        self._value = not self._mode if self._mode else state.enabled

    def __enter__(self):
        self._prev = state.enabled
        self._prev_inf = state.inference
        if self._mode:
            state.enabled = False
            state.inference = True

    def __exit__(self, *exc):
        state.enabled = self._prev
        state.inference = self._prev_inf
        return False

    def clone(self):
        return inference_mode(self._mode)
