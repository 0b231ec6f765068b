"""``import minigrad`` alone makes the subpackages reachable as attributes (``mg.datasets``, ``mg.nn``, ...),
whichever module of the package a program imports first. Each check runs in a fresh interpreter, where nothing
of minigrad has been imported yet.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import minigrad

# The interpreter starts in the folder holding this copy of the package, so that it imports this copy.
ROOT = Path(minigrad.__file__).resolve().parent.parent
MODULES = sorted(info.name for info in pkgutil.walk_packages(minigrad.__path__, "minigrad."))
SUBPACKAGES = sorted(info.name for info in pkgutil.walk_packages(minigrad.__path__, "minigrad.") if info.ispkg)


def run_fresh(code: str) -> None:
    """Run ``code`` in a new interpreter; fail with its error output when it fails."""
    check = f"import minigrad; assert minigrad.__file__ == {minigrad.__file__!r}, minigrad.__file__\n"
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code) + check], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr


def test_the_package_has_the_subpackages_users_reach():
    """The walk finds the subpackages this file is about, so the checks below cannot pass on an empty list."""
    assert {"minigrad.datasets", "minigrad.nn", "minigrad.functions"} <= set(SUBPACKAGES)
    assert "minigrad.autograd" in MODULES


def test_import_minigrad_alone_makes_every_subpackage_an_attribute():
    """After ``import minigrad as mg`` only, ``mg.datasets.load_digits``, ``mg.nn.Linear``, ``mg.autograd`` and
    every other subpackage work, and every module of the package is loaded (none waits for a later import)."""
    run_fresh(f"""
        import sys
        import minigrad as mg

        for name in {SUBPACKAGES!r} + ["minigrad.autograd"]:
            attribute = getattr(mg, name.split(".")[1])
            assert attribute is sys.modules[name], name
        not_loaded = sorted(set({MODULES!r}) - set(sys.modules))
        assert not not_loaded, not_loaded
        images, labels = mg.datasets.load_digits()
        assert images.shape == (1797, 64)
        assert mg.nn.Linear(2, 3, rng=0)(mg.tensor([[1.0, 2.0]], dtype="float32")).shape == (1, 3)
        assert mg.autograd.run_backward is not None
    """)


@pytest.mark.parametrize("first", MODULES)
def test_any_module_imported_first_gives_the_whole_package(first):
    """Importing any module of the package first (``import minigrad.datasets``, ``from minigrad.nn import
    Linear``...) raises no circular-import error, and the package then has all its subpackages."""
    run_fresh(f"""
        import importlib
        import sys

        importlib.import_module({first!r})
        import minigrad as mg

        for name in {SUBPACKAGES!r}:
            assert getattr(mg, name.split(".")[1]) is sys.modules[name], name
        assert mg.datasets.batches is not None and mg.nn.MLP is not None
    """)
