"""``autograd.functional``: PyTorch's ``torch.autograd.functional`` (``vjp``, ``jvp``,
``jacobian``, ``hessian``, ``vhp``, ``hvp``), with its signatures, return structures
(a tensor for a tensor, tuples for tuples), ``create_graph`` and ``strict`` errors.

Everything runs through reverse mode, as PyTorch's own versions of these functions do:
``jvp`` and ``hvp`` by the double-backward trick (the vector-Jacobian product is linear
in the cotangent ``u``, so differentiating ``J^T u`` with respect to ``u`` gives ``J v``),
and ``jacobian``/``hessian`` row by row.  ``vectorize=True`` is accepted and gives the
same result (this library has no ``vmap``, so it loops); ``strategy='forward-mode'``
needs forward-mode AD, which PyTorch too supports only with ``vectorize=True``: here that
combination computes the same Jacobian by reverse mode, and ``vectorize=False`` raises
PyTorch's ``NotImplementedError``.

The structure of this module follows ``torch/autograd/functional.py`` (BSD licence), so
that its errors and corner cases are PyTorch's.
"""
from .creation import zeros_like
from .engine import grad as _grad
from .grad_mode import enable_grad, is_grad_enabled, set_grad_enabled
from .ops.shape import stack
from .tensor import Tensor

__all__ = ['vjp', 'jvp', 'jacobian', 'hessian', 'hvp', 'vhp']


# ----------------------------------------------------------------------------- helpers

def _as_tuple(inp, arg_name=None, fn_name=None):
    """``(whether inp was a tuple, inp as a tuple of tensors)``; TypeError otherwise."""
    if arg_name is None and fn_name is None:
        return inp if isinstance(inp, tuple) else tuple(inp) if isinstance(inp, list) \
            else (inp,)
    is_inp_tuple = True
    if not isinstance(inp, tuple):
        inp = (inp,)
        is_inp_tuple = False
    for i, el in enumerate(inp):
        if not isinstance(el, Tensor):
            if is_inp_tuple:
                raise TypeError(f'The {arg_name} given to {fn_name} must be either a Tensor or a '
                                f'tuple of Tensors but the value at index {i} has type '
                                f'{type(el)}.')
            raise TypeError(f'The {arg_name} given to {fn_name} must be either a Tensor or a '
                            f'tuple of Tensors but the given {arg_name} has type {type(el)}.')
    return is_inp_tuple, inp


def _tuple_postprocess(res, to_unpack):
    """Unpack the (nested) tuple ``res`` where the user gave a tensor, not a tuple."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _grad_preprocess(inputs, create_graph, need_graph):
    """New tensors for the inputs: differentiable views of them under ``create_graph`` (so
    the results stay connected to the caller's graph), else detached leaves."""
    res = []
    for inp in inputs:
        if create_graph and inp.requires_grad:
            res.append(inp.view_as(inp))
        else:
            res.append(inp.detach().requires_grad_(need_graph))
    return tuple(res)


def _grad_postprocess(inputs, create_graph):
    """Results without history unless ``create_graph`` asked for it."""
    if isinstance(inputs[0], Tensor):
        return inputs if create_graph else tuple(inp.detach() for inp in inputs)
    return tuple(_grad_postprocess(inp, create_graph) for inp in inputs)


def _validate_v(v, other, is_other_tuple):
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f'v is a tuple of invalid length: should be {len(other)} but got '
                               f'{len(v)}.')
        raise RuntimeError('The given v should contain a single Tensor.')
    for idx, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.size() != el_other.size():
            prepend = f'Entry {idx} in ' if is_other_tuple else ''
            raise RuntimeError(f'{prepend}v has invalid size: should be {el_other.size()} but '
                               f'got {el_v.size()}.')


def _check_requires_grad(inputs, input_type, strict):
    """In strict mode: each of ``inputs`` (outputs, gradients, Jacobians) must depend on the
    inputs of the user's function."""
    if not strict:
        return
    for i, inp in enumerate(inputs):
        if inp is None:
            raise RuntimeError(f'The output of the user-provided function is independent of '
                               f'input {i}. This is not allowed in strict mode.')
        if not inp.requires_grad:
            if input_type == 'hessian':
                raise RuntimeError(
                    f'The hessian of the user-provided function with respect to input {i} is '
                    'independent of the input. This is not allowed in strict mode. You should '
                    'ensure that your function is thrice differentiable and that the hessian '
                    'depends on the inputs.')
            if input_type == 'jacobian':
                raise RuntimeError(
                    'While computing the hessian, found that the jacobian of the user-provided '
                    f'function with respect to input {i} is independent of the input. This is '
                    'not allowed in strict mode. You should ensure that your function is twice '
                    'differentiable and that the jacobian depends on the inputs (this would be '
                    'violated by a linear function for example).')
            if input_type == 'grad_inputs':
                raise RuntimeError(
                    f'The gradient with respect to input {i} is independent of the inputs of the '
                    'user-provided function. This is not allowed in strict mode.')
            raise RuntimeError(
                f'Output {i} of the user-provided function does not require gradients. The '
                'outputs must be computed in a differentiable manner from the input when running '
                'in strict mode.')


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """``grad`` that skips outputs which do not require grad (None for every input when
    none does) and allows unused inputs."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    outs, gouts = zip(*pairs)
    return _grad(outs, inputs, gouts, allow_unused=True, create_graph=create_graph,
                 retain_graph=retain_graph)


_STAGE_MESSAGES = {
    'back': 'The output of the user-provided function is independent of input {i}. This is '
            'not allowed in strict mode.',
    'back_trick': 'The gradient with respect to the input is independent of entry {i} in the '
                  'grad_outputs when using the double backward trick to compute forward mode '
                  'gradients. This is not allowed in strict mode.',
    'double_back': 'The jacobian of the user-provided function is independent of input {i}. '
                   'This is not allowed in strict mode.',
    'double_back_trick': 'The hessian of the user-provided function is independent of entry '
                         '{i} in the grad_jacobian. This is not allowed in strict mode as it '
                         'prevents from using the double backward trick to replace forward mode '
                         'AD.',
}


def _fill_in_zeros(grads, refs, strict, create_graph, stage):
    """Zeros (of ``refs[i]``'s shape) for the gradients that are None, or strict mode's
    error naming the ``stage`` that found the independence."""
    res = ()
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_STAGE_MESSAGES[stage].format(i=i))
            g = zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = 'hessian' if 'double' in stage else 'jacobian'
            raise RuntimeError(f'The {what} of the user-provided function is independent of '
                               f'input {i}. This is not allowed in strict mode when '
                               'create_graph=True.')
        res += (g,)
    return res


def _v_or_single(v, against, is_tuple, fn_name, whose):
    """The checked tuple of ``v``; None allowed only against one one-element tensor."""
    if v is not None:
        _, v = _as_tuple(v, 'v', fn_name)
        return v
    if len(against) != 1 or against[0].nelement() != 1:
        if whose == 'output':
            raise RuntimeError('The vector v can only be None if the user-provided function '
                               'returns a single Tensor with a single element.')
        raise RuntimeError('The vector v can only be None if the input to the user-provided '
                           'function is a single Tensor with a single element.')
    return None


# ----------------------------------------------------------------------------- products

def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), v^T J)``: the vector-Jacobian product at ``inputs`` (a tensor or
    a tuple of tensors), ``v`` of the outputs' shapes (None for a one-element output)."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, 'inputs', 'vjp')
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, 'outputs of the user-provided function',
                                              'vjp')
        _check_requires_grad(outputs, 'outputs', strict=strict)
        v = _v_or_single(v, outputs, is_outputs_tuple, 'vjp', 'output')
        if v is not None:
            v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
            _validate_v(v, outputs, is_outputs_tuple)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, 'back')
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(result, is_inputs_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), J v)``: the Jacobian-vector product, ``v`` of the inputs' shapes.
    Reverse mode twice: ``g(u) = J^T u`` is linear in ``u``, and its vector-Jacobian
    product with ``v`` is ``J v``."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, 'inputs', 'jvp')
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        v = _v_or_single(v, inputs, is_inputs_tuple, 'jvp', 'input')
        if v is not None:
            v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
            _validate_v(v, inputs, is_inputs_tuple)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, 'outputs of the user-provided function',
                                              'jvp')
        _check_requires_grad(outputs, 'outputs', strict=strict)
        # the value of u does not matter (J^T u is linear in u): zeros, which are finite
        grad_outputs = tuple(zeros_like(out, requires_grad=True) for out in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, 'grad_inputs', strict=strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(grad_inputs, grad_outputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, outputs, strict, create_graph, 'back_trick')
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(result, is_outputs_tuple))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy='reverse-mode'):
    """The Jacobian of ``func`` at ``inputs``: for output i and input j a tensor of shape
    ``output_i.shape + input_j.shape``; a tensor for one input and one output, a tuple
    over the inputs (or outputs) for a tuple of them, a tuple of tuples for both."""
    if strategy not in ('forward-mode', 'reverse-mode'):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". '
                             'Hint: If your function has more outputs than inputs, '
                             '"forward-mode" tends to be more performant. Otherwise, prefer to '
                             'use "reverse-mode".')
    if strategy == 'forward-mode':
        if create_graph:
            raise NotImplementedError(
                'torch.autograd.functional.jacobian: `create_graph=True` and '
                '`strategy="forward-mode"` are not supported together (yet). Please either set '
                '`create_graph=False` or `strategy="reverse-mode"`.')
        if strict:
            raise RuntimeError(
                'torch.autograd.functional.jacobian: `strict=True` and '
                '`strategy="forward-mode"` are not supported together (yet). Please either set '
                '`strict=False` or `strategy="reverse-mode"`.')
        if not vectorize:
            raise NotImplementedError('Computing Jacobian using forward-AD or forward-over-'
                                      'reverse Hessian isonly implemented for `vectorize=True`.')
        # (no forward-mode AD here: the same Jacobian, by reverse mode)
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, 'inputs', 'jacobian')
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, 'outputs of the user-provided function',
                                              'jacobian')
        _check_requires_grad(outputs, 'outputs', strict=strict)
        if vectorize and strict:
            raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and '
                               '`vectorized=True` are not supported together. Please either set '
                               '`strict=False` or `vectorize=False`.')
        result = ()
        for i, out in enumerate(outputs):
            rows = tuple([] for _ in inputs)       # rows[j]: d out_i[k] / d input_j, per k
            flat = out.reshape(-1)
            for k in range(out.nelement()):
                vj = _autograd_grad((flat[k],), inputs, retain_graph=True,
                                    create_graph=create_graph)
                for j, (row, g, inp) in enumerate(zip(rows, vj, inputs)):
                    if g is not None:
                        if strict and create_graph and not g.requires_grad:
                            raise RuntimeError(
                                'The jacobian of the user-provided function is independent of '
                                f'input {i}. This is not allowed in strict mode when '
                                'create_graph=True.')
                        row.append(g)
                    else:
                        if strict:
                            raise RuntimeError(
                                f'Output {i} of the user-provided function is independent of '
                                f'input {j}. This is not allowed in strict mode.')
                        row.append(zeros_like(inp))
            result += (tuple(_rows(row, out, inp) for row, inp in zip(rows, inputs)),)
        result = _grad_postprocess(result, create_graph)
        return _tuple_postprocess(result, (is_outputs_tuple, is_inputs_tuple))


def _rows(row, out, inp):
    """The stacked rows d out[k] / d inp, shaped ``out.shape + inp.shape``."""
    shape = tuple(out.shape) + tuple(inp.shape)
    if not row:         # an empty output
        return inp.new_zeros(*shape)
    return stack(row, dim=0).reshape(shape)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy='reverse-mode'):
    """The Hessian of scalar ``func`` at ``inputs``: for inputs i, j a tensor of shape
    ``input_i.shape + input_j.shape`` (a tensor for one input, a tuple of tuples for a
    tuple of them): the Jacobian of the gradient."""
    is_inputs_tuple, inputs = _as_tuple(inputs, 'inputs', 'hessian')
    if outer_jacobian_strategy not in ('forward-mode', 'reverse-mode'):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def ensure_single_output_function(*inp):
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, 'outputs of the user-provided function',
                                        'hessian')
        _check_requires_grad(t_out, 'outputs', strict=strict)
        if is_out_tuple or not isinstance(out, Tensor):
            raise RuntimeError('The function given to hessian should return a single Tensor')
        if out.nelement() != 1:
            raise RuntimeError('The Tensor returned by the function given to hessian should '
                               'contain a single element')
        return out.squeeze()

    def jac_func(*inp):
        if outer_jacobian_strategy == 'forward-mode':
            inp = tuple(t.requires_grad_(True) for t in inp)
        jac = jacobian(ensure_single_output_function, inp, create_graph=True)
        _check_requires_grad(jac, 'jacobian', strict=strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _tuple_postprocess(res, (is_inputs_tuple, is_inputs_tuple))


def _scalar_function_checks(outputs, is_outputs_tuple, fn_name):
    if is_outputs_tuple or not isinstance(outputs[0], Tensor):
        raise RuntimeError(f'The function given to {fn_name} should return a single Tensor')
    if outputs[0].nelement() != 1:
        raise RuntimeError(f'The Tensor returned by the function given to {fn_name} should '
                           'contain a single element')


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), v^T H)`` for scalar ``func``: the gradient of ``<grad f, v>``."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, 'inputs', 'vhp')
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        v = _v_or_single(v, inputs, is_inputs_tuple, 'vhp', 'input')
        if v is not None:
            v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
            _validate_v(v, inputs, is_inputs_tuple)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, 'outputs of the user-provided function',
                                              'vhp')
        _check_requires_grad(outputs, 'outputs', strict=strict)
        _scalar_function_checks(outputs, is_outputs_tuple, 'vhp')
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, 'jacobian', strict=strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, 'double_back')
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(result, is_inputs_tuple))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), H v)`` for scalar ``func``, by the double-backward trick on the
    vector-Hessian product (equal to ``vhp`` for a twice continuously differentiable
    ``func``, whose Hessian is symmetric)."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, 'inputs', 'hvp')
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        v = _v_or_single(v, inputs, is_inputs_tuple, 'hvp', 'input')
        if v is not None:
            v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
            _validate_v(v, inputs, is_inputs_tuple)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, 'outputs of the user-provided function',
                                              'hvp')
        _check_requires_grad(outputs, 'outputs', strict=strict)
        _scalar_function_checks(outputs, is_outputs_tuple, 'hvp')
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, 'jacobian', strict=strict)
        grad_jac = tuple(zeros_like(inp, requires_grad=True) for inp in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, 'hessian', strict=strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(double_back, grad_jac, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, 'double_back_trick')
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(result, is_inputs_tuple))
