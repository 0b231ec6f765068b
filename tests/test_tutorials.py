"""The course in ``tutorials/``: how the notebooks are stored, their shape, and that they run.

Every notebook is executed top to bottom with nbclient (the stored notebooks run the
solutions of their exercises, so each exercise's check and the closing check cell run
too). The form is checked without running anything: no outputs, clean metadata, the
"what you will learn" list, 2 to 4 exercises each with a hidden solution, at least one
plot, and a closing cell tagged ``check`` that asserts the notebook's result.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="the tutorial tests need nbformat (the 'test' extra)")

TUTORIALS_DIR = Path(__file__).resolve().parents[1] / "tutorials"
NOTEBOOKS = sorted(TUTORIALS_DIR.glob("[0-9][0-9]-*.ipynb"))
NAME_PATTERN = re.compile(r"^\d\d-[a-z0-9]+(-[a-z0-9]+)*\.ipynb$")
NOTEBOOK_METADATA_KEYS = {"kernelspec", "language_info"}
CELL_METADATA_KEYS = {"tags", "jupyter"}
KNOWN_TAGS = {"exercise", "solution", "hide-input", "check", "raises-exception"}
CELL_TIMEOUT_S = 300


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _code_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _tags(cell: nbformat.NotebookNode) -> set[str]:
    return set(cell.metadata.get("tags", []))


def test_tutorials_exist() -> None:
    assert NOTEBOOKS, "tutorials/ holds no NN-short-name.ipynb notebook"
    for path in NOTEBOOKS:
        assert NAME_PATTERN.match(path.name), f"{path.name}: not of the form NN-short-name.ipynb"
    numbers = [int(path.name[:2]) for path in NOTEBOOKS]
    assert numbers == list(range(1, len(NOTEBOOKS) + 1)), f"notebooks are not numbered 01, 02, ...: {numbers}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_stored_without_outputs_and_clean_metadata(path: Path) -> None:
    notebook = _read(path)
    nbformat.validate(notebook)
    extra = set(notebook.metadata) - NOTEBOOK_METADATA_KEYS
    assert not extra, f"{path.name}: notebook metadata beyond {sorted(NOTEBOOK_METADATA_KEYS)}: {sorted(extra)}"
    for index, cell in enumerate(notebook.cells):
        where = f"{path.name} cell {index}"
        extra = set(cell.metadata) - CELL_METADATA_KEYS
        assert not extra, f"{where}: cell metadata beyond {sorted(CELL_METADATA_KEYS)}: {sorted(extra)}"
        unknown = _tags(cell) - KNOWN_TAGS
        assert not unknown, f"{where}: unknown tags {sorted(unknown)}"
        assert "attachments" not in cell, f"{where}: has attachments"
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{where}: stored with outputs"
            assert cell.execution_count is None, f"{where}: stored with an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_opens_with_what_you_will_learn(path: Path) -> None:
    first = _read(path).cells[0]
    assert first.cell_type == "markdown", f"{path.name}: the first cell is not markdown"
    assert first.source.startswith("# "), f"{path.name}: the first cell does not start with a '# ' title"
    assert "What you will learn" in first.source, f"{path.name}: no 'What you will learn' in the first cell"
    bullets = [line for line in first.source.splitlines() if re.match(r"^\s*[-*] ", line)]
    assert 3 <= len(bullets) <= 5, f"{path.name}: {len(bullets)} bullets under 'What you will learn', expected 3-5"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_exercises_have_hidden_solutions_and_checks(path: Path) -> None:
    cells = _read(path).cells
    solutions = [index for index, cell in enumerate(cells) if "solution" in _tags(cell)]
    assert 2 <= len(solutions) <= 4, f"{path.name}: {len(solutions)} exercises (cells tagged 'solution'), expected 2-4"
    for index in solutions:
        solution = cells[index]
        where = f"{path.name} cell {index}"
        assert solution.cell_type == "code", f"{where}: a solution must be a code cell"
        assert "hide-input" in _tags(solution), f"{where}: the solution is not tagged 'hide-input'"
        assert solution.metadata.get("jupyter", {}).get("source_hidden") is True, (
            f"{where}: the solution is not collapsed (metadata jupyter.source_hidden)"
        )
        assert index > 0 and "exercise" in _tags(cells[index - 1]), (
            f"{where}: the solution does not follow a code cell tagged 'exercise' (the student's cell)"
        )
        following = [cell for cell in cells[index + 1 :] if cell.cell_type == "code"]
        assert following and "check" in following[0].source, (
            f"{where}: the code cell after the solution does not call a check"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_has_a_plot_and_a_closing_check(path: Path) -> None:
    code = _code_cells(_read(path))
    assert any("plt." in cell.source or ".plot(" in cell.source for cell in code), f"{path.name}: draws no plot"
    last = code[-1]
    assert "check" in _tags(last), f"{path.name}: the last code cell is not tagged 'check'"
    assert re.search(r"^\s*assert\b", last.source, re.MULTILINE), f"{path.name}: the closing check cell asserts nothing"


def test_readme_lists_every_notebook_with_its_time() -> None:
    readme = (TUTORIALS_DIR / "README.md").read_text(encoding="utf-8")
    for path in NOTEBOOKS:
        rows = [line for line in readme.splitlines() if f"({path.name})" in line]
        assert rows, f"tutorials/README.md does not link {path.name}"
        assert re.search(r"\|\s*\d+ s\s*\|", rows[0]), f"tutorials/README.md gives no time ('N s') for {path.name}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_runs_top_to_bottom(path: Path) -> None:
    nbclient = pytest.importorskip("nbclient", reason="running the tutorials needs nbclient (the 'test' extra)")
    pytest.importorskip("matplotlib", reason="the tutorials draw with matplotlib (the 'demo' or 'tutorials' extra)")
    notebook = _read(path)
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(TUTORIALS_DIR)}},
    )
    client.execute()
