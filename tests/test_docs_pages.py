"""The docs pages' own claims: their ``>>>`` examples run, and the code and tests they cite exist.

Examples on a page are written in ```pycon fences and run in one namespace per page, as doctests. A
theory page cites, for each numbered equation, the code that computes it and the test that checks it
(``tests/test_x.py::test_name``); those names must exist, so that a renamed test cannot leave a dead
reference behind.
"""

from __future__ import annotations

import ast
import doctest
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(path for path in DOCS.rglob("*.md") if not {"_build", "tutorials"} & set(path.relative_to(DOCS).parts))
THEORY_PAGES = sorted((DOCS / "theory").glob("*.md"))
_PYCON_BLOCK = re.compile(r"^```pycon\n(.*?)^```", re.M | re.S)
_TEST_REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")
_LABELLED_EQUATION = re.compile(r"^\$\$ \(([\w-]+)\)$", re.M)


def page_examples(text: str) -> str:
    """The ``>>>`` examples of a page: the contents of its ```pycon fences, one after the other."""
    return "\n".join(_PYCON_BLOCK.findall(text))


def _name(path: Path) -> str:
    return str(path.relative_to(DOCS))


@pytest.mark.parametrize("page", [path for path in PAGES if page_examples(path.read_text())], ids=_name)
def test_page_examples_run(page: Path) -> None:
    """Every ```pycon example of the page gives the output the page shows."""
    parser = doctest.DocTestParser()
    test = parser.get_doctest(page_examples(page.read_text()), {}, _name(page), str(page), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} example(s) on {_name(page)} failed"


def test_example_extraction_reads_only_pycon_fences() -> None:
    """Examples come from ```pycon fences only; a ```python block is shown, not run."""
    text = "```pycon\n>>> 1 + 1\n2\n```\n\n```python\n>>> 1 + 1\n3\n```\n"
    assert page_examples(text) == ">>> 1 + 1\n2\n"


def _test_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_cited_tests_exist(page: Path) -> None:
    """Each ``tests/test_x.py::test_name`` a page cites is a test function of that file."""
    missing = [f"{file}::{name}" for file, name in _TEST_REFERENCE.findall(page.read_text())
               if not (ROOT / file).is_file() or name not in _test_functions(ROOT / file)]
    assert not missing, f"{_name(page)} cites tests that do not exist: {missing}"


@pytest.mark.parametrize("page", THEORY_PAGES, ids=_name)
def test_every_numbered_equation_is_followed_by_its_code_and_test(page: Path) -> None:
    """Between a numbered equation and the next section, the page names code ({py:...}) and a test."""
    text = page.read_text()
    labels = _LABELLED_EQUATION.findall(text)
    assert labels, f"{_name(page)} has no numbered equation"
    for match in _LABELLED_EQUATION.finditer(text):
        section_end = text.find("\n## ", match.end())
        following = text[match.end(): section_end if section_end != -1 else len(text)]
        assert "{py:" in following, f"{_name(page)}: equation {match.group(1)} names no code"
        assert _TEST_REFERENCE.search(following), f"{_name(page)}: equation {match.group(1)} names no test"
