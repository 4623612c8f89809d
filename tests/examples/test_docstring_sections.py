"""The examples' docstrings cite the textbook section that teaches what they build
(Aggarwal, *Neural Networks and Deep Learning*): multiclass models are sec. 2.3, gradient
checking sec. 3.2.10, weight decay (the L2 penalty) sec. 4.4."""
import ast
import pathlib

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / 'examples'


def docstring(name):
    return ast.get_docstring(ast.parse((EXAMPLES / name).read_text()))


@pytest.mark.parametrize('name, right, wrong', [
    ('multiclass.py', 'sec. 2.3)', 'sec. 2.5)'),
    ('gradcheck_demo.py', 'sec. 3.2.10)', 'sec. 3.2.7)'),
    ('regularization.py', '(weight decay, sec. 4.4)', 'sec. 4.4.1'),
])
def test_docstring_cites_the_right_section(name, right, wrong):
    text = docstring(name)
    assert right in text and wrong not in text
