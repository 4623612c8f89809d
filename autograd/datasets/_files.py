"""Finding data files: the first existing candidate, or an error that says where we looked."""
import importlib.util
import os


def first_existing(what, candidates, how_to_get):
    """The first path in ``candidates`` that exists; otherwise ``FileNotFoundError``
    listing every candidate and how to get the data (``how_to_get``, one sentence)."""
    candidates = [os.fspath(c) for c in candidates]
    for path in candidates:
        if os.path.isfile(path):
            return path
    looked = '\n  '.join(candidates)
    raise FileNotFoundError(f'{what}: no data file found; looked for\n  {looked}\n{how_to_get}')


def package_file(package, *parts, what, how_to_get):
    """The path of a data file shipped inside an installed Python package, found without
    importing the package (so a ``--no-deps`` install, whose imports may fail, still works)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f'{what}: ships inside the Python package {package!r}, which '
                                f'is not installed.\n{how_to_get}')
    roots = list(spec.submodule_search_locations)
    return first_existing(what, [os.path.join(r, *parts) for r in roots], how_to_get)
