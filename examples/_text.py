"""A text corpus that every machine with Python already has: the standard library's prose.

The docstrings and comments of the ``.py`` files under ``sysconfig.get_paths()['stdlib']``
(test suites and third-party ``site-packages`` left out) are English written by programmers
about files, strings, sockets, threads ... : a few million words, enough for word2vec to
learn that ``read`` and ``write`` or ``socket`` and ``connection`` keep the same company.
Nothing downloads; the exact corpus depends on the Python version.

Each docstring or run of consecutive comment lines is one "sentence": context windows do
not cross from one to the next. Words are maximal runs of ASCII letters, lower-cased, so
``get_value`` gives ``get value`` and ``don't`` gives ``don t``.
"""
import ast
import collections
import functools
import io
import os
import re
import sys
import sysconfig
import tokenize

import numpy

try:
    import autograd  # noqa: F401
except ImportError:     # run from a checkout that is not pip-installed: use the repository
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# tests, third-party code, and the codecs' tables of character names are not prose
_SKIP_DIRS = {'site-packages', 'dist-packages', 'test', 'tests', 'idle_test', '__pycache__',
              'encodings'}
_PROSE_WORDS = 5  # a string literal of at least this many words is prose, not a token
_WORD = re.compile(r'[a-z]+')


def stdlib_files(root=None):
    """The standard library's ``.py`` files in a fixed (sorted) order, tests left out."""
    root = root or sysconfig.get_paths()['stdlib']
    if not os.path.isdir(root):
        raise FileNotFoundError(f'standard-library sources: looked in {root}; this Python '
                                'was installed without them (on Debian: apt-get install '
                                'libpython3-stdlib)')
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in sorted(files):
            if name.endswith('.py'):
                yield os.path.join(directory, name)


def prose(source):
    """The comment blocks and prose string literals (docstrings, messages, help texts) of one
    Python source text, one string each."""
    comments, strings, comment_line, previous = [], [], None, None
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                text = tok.string.lstrip('#')
                if comments and tok.start[0] == comment_line + 1:  # the block goes on
                    comments[-1] += ' ' + text
                else:
                    comments.append(text)
                comment_line = tok.start[0]
            elif tok.type == tokenize.STRING:
                text = _literal(tok.string)
                if previous == tokenize.STRING:  # implicit concatenation: 'a ' 'b'
                    strings[-1] += text
                else:
                    strings.append(text)
            if tok.type not in (tokenize.COMMENT, tokenize.NL):
                previous = tok.type
    except (tokenize.TokenError, SyntaxError):  # a few files are deliberately invalid
        pass
    return comments + [s for s in strings if len(s.split()) >= _PROSE_WORDS]


def _literal(token):
    """A string token's value (escapes decoded); f-strings and oddities are kept verbatim."""
    try:
        value = ast.literal_eval(token)
    except (ValueError, SyntaxError):
        return token
    return value.decode('latin-1') if isinstance(value, bytes) else value


def stdlib_sentences(max_words=None, root=None):
    """Lists of lower-case words, one per docstring or comment block, up to ``max_words``
    (a fresh list each call: callers may shuffle it)."""
    return [list(s) for s in _read_sentences(max_words, root)]


@functools.lru_cache(maxsize=2)
def _read_sentences(max_words, root):
    """Tokenising the sources takes seconds: do it once per process and setting."""
    sentences, total = [], 0
    for path in stdlib_files(root):
        with open(path, encoding='utf-8', errors='replace') as f:
            source = f.read()
        for block in prose(source):
            words = _WORD.findall(block.lower())
            if len(words) > 1:
                sentences.append(tuple(words))
                total += len(words)
            if max_words and total >= max_words:
                return tuple(sentences)
    return tuple(sentences)


class Vocabulary:
    """Word <-> index for the words seen at least ``min_count`` times, most frequent first."""

    def __init__(self, sentences, min_count=5, max_size=None):
        counts = collections.Counter(w for s in sentences for w in s)
        kept = [(w, c) for w, c in counts.most_common(max_size) if c >= min_count]
        self.words = [w for w, _ in kept]
        self.counts = numpy.array([c for _, c in kept], dtype=numpy.float64)
        self.index = {w: i for i, w in enumerate(self.words)}

    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        return word in self.index

    def encode(self, sentences):
        """Sentences of words -> arrays of indices, out-of-vocabulary words dropped."""
        return [numpy.array([self.index[w] for w in s if w in self.index], dtype=numpy.int64)
                for s in sentences]
