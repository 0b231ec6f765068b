"""The ``>>>`` examples in the docstrings of minigrad and optim run as doctests, so that every example stays true."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import pytest
from public_names import public_names

import minigrad
import optim

# optim.__main__ runs the command line when imported; its examples would be those of optim.cli, which is listed.
SUBMODULES = [info.name for package in (minigrad, optim)
              for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}.")]
MODULES = sorted(["minigrad", "optim", *(name for name in SUBMODULES if name != "optim.__main__")])


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    """Every example of the module gives the output its docstring shows."""
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} example(s) in {name} failed"


def test_every_public_class_and_function_has_an_example():
    """Each class and function named in a public ``__all__`` shows a ``>>>`` example (run by the test above)."""
    missing = [name for name, value in public_names()
               if (inspect.isclass(value) or inspect.isfunction(value)) and ">>> " not in (value.__doc__ or "")]
    assert not missing, f"public classes and functions without an example: {missing}"
