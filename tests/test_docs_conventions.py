"""The conventions page's tables are what the library computes today (tools/conventions_tables.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from optim import CONVENTIONS

ROOT = Path(__file__).resolve().parents[1]
GENERATED = ROOT / "docs" / "generated"


def _tables_module():
    spec = importlib.util.spec_from_file_location("conventions_tables", ROOT / "tools" / "conventions_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TABLES = _tables_module().render()


@pytest.mark.parametrize("name", sorted(TABLES))
def test_generated_table_is_up_to_date(name: str) -> None:
    """docs/generated/<name> equals a fresh run of tools/conventions_tables.py (regenerate it if not)."""
    assert (GENERATED / name).read_text() == TABLES[name], f"run: python tools/conventions_tables.py ({name})"


def test_side_by_side_table_lists_every_convention() -> None:
    """The side-by-side table has one column per convention, in optim.conventions order."""
    header = TABLES["conventions-side-by-side.md"].splitlines()[2]
    assert [cell.strip(" `") for cell in header.strip("|").split("|")[1:]] == list(CONVENTIONS)


def test_every_generated_table_is_included_in_the_page() -> None:
    """docs/conventions.md includes every generated table."""
    page = (ROOT / "docs" / "conventions.md").read_text()
    for name in TABLES:
        assert f"{{include}} generated/{name}" in page
