"""Creation, sampling and conversion of user data against PyTorch: the exception types
(and messages naming the offending argument) for bad sizes, values, ranges and dtypes."""
import pytest

import autograd
from oracle import each_library, torch

# name -> (fn(lib), our exception type, a regex our message matches)
BAD_ARGUMENTS = {
    'full_str': (lambda lib: lib.full((2,), 'a'), TypeError, r"full\(\).*fill_value.*str"),
    'full_none': (lambda lib: lib.full((2,), None), TypeError, 'fill_value.*NoneType'),
    'full_like_str': (lambda lib: lib.full_like(lib.zeros(2), 'a'), TypeError,
                      r'full_like\(\).*str'),
    'tensor_object': (lambda lib: lib.tensor(object()), RuntimeError, 'infer dtype of object'),
    'tensor_none_in_list': (lambda lib: lib.tensor([1, None]), RuntimeError,
                            'infer dtype of NoneType'),
    'as_tensor_dict': (lambda lib: lib.as_tensor({}), RuntimeError, 'infer dtype of dict'),
    'linspace_negative_steps': (lambda lib: lib.linspace(0, 1, -1), RuntimeError,
                                'steps must be non-negative'),
    'linspace_float_steps': (lambda lib: lib.linspace(0, 1, 2.5), TypeError, 'steps'),
    'eye_negative_n': (lambda lib: lib.eye(-1), RuntimeError, 'n must be greater or equal to 0'),
    'eye_negative_m': (lambda lib: lib.eye(2, -1), RuntimeError,
                       'm must be greater or equal to 0, got -1'),
    'eye_float': (lambda lib: lib.eye(2.5), TypeError, 'must be int, not float'),
    'randint_empty_range': (lambda lib: lib.randint(5, 2, (3,)), RuntimeError,
                            'from=5 >= to=2'),
    'randint_one_bound': (lambda lib: lib.randint(0, (3,)), RuntimeError, 'from=0 >= to=0'),
    'randint_like_empty_range': (lambda lib: lib.randint_like(lib.zeros(2), 5, 2),
                                 RuntimeError, 'from=5 >= to=2'),
    'random__empty_range': (lambda lib: lib.zeros(2).random_(5, 5), RuntimeError,
                            'from=5 >= to=5'),
}


@pytest.mark.parametrize('name', sorted(BAD_ARGUMENTS))
def test_bad_arguments_raise_as_pytorch(name):
    raises_as_pytorch(*BAD_ARGUMENTS[name])


def raises_as_pytorch(fn, exc, match):
    """PyTorch (when installed) and ours raise ``exc``; ours with a message matching ``match``."""
    for lib in each_library(torch, autograd):
        with pytest.raises(exc, match=match if lib is autograd else None):
            fn(lib)
