"""The ``>>>`` examples in the docstrings of minigrad and optim run as doctests, so that every example stays true."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

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


def test_the_new_operations_have_examples():
    """The operations and layers added for PyTorch and Keras users each show an example."""
    names = [minigrad.where, minigrad.clip, minigrad.minimum, minigrad.argmax, minigrad.logsumexp, minigrad.var,
             minigrad.std, minigrad.gelu, minigrad.nll_loss, minigrad.binary_cross_entropy,
             minigrad.binary_cross_entropy_with_logits, minigrad.cross_entropy, minigrad.equal, minigrad.less,
             minigrad.nn.Dropout, minigrad.nn.LayerNorm, minigrad.nn.Sigmoid, minigrad.nn.GELU]
    for obj in names:
        assert ">>> " in obj.__doc__, obj.__name__
