"""The course's notebooks reach the docs site in order (docs/_ext/course_pages.py), without a Sphinx build."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("sphinx", reason="the docs extra (Sphinx) is not installed")

ROOT = Path(__file__).resolve().parents[1]


def _course_pages():
    spec = importlib.util.spec_from_file_location("course_pages", ROOT / "docs" / "_ext" / "course_pages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


course_pages = _course_pages()


KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}


def _write_notebook(path: Path, text: str, metadata: dict | None = None) -> None:
    cell = {"cell_type": "markdown", "metadata": {}, "source": [text]}
    metadata = {"kernelspec": KERNEL} if metadata is None else metadata
    path.write_text(json.dumps({"cells": [cell], "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}))


def _toctree_entries(index: str) -> list[str]:
    block = index.split("```{toctree}")[1].split("```")[0]
    return [line for line in block.splitlines() if line and not line.startswith(":")]


def test_notebooks_are_listed_in_file_name_order_under_the_readme(tmp_path: Path) -> None:
    """README.md opens the index page; the notebooks follow in the order of their numbered names."""
    source, target = tmp_path / "tutorials", tmp_path / "docs" / "tutorials"
    source.mkdir()
    for name in ["10-last", "02-second", "01-first"]:
        _write_notebook(source / f"{name}.ipynb", f"# {name}")
    (source / "README.md").write_text("# Learning Adam by building it\n\nStart with lesson 1.\n")

    mirrored = course_pages.mirror_course(source, target)

    assert mirrored == ["01-first.ipynb", "02-second.ipynb", "10-last.ipynb"]
    index = (target / "index.md").read_text()
    assert index.startswith("# Learning Adam by building it\n\nStart with lesson 1.\n")
    assert _toctree_entries(index) == ["01-first", "02-second", "10-last"]
    assert (target / "02-second.ipynb").read_bytes() == (source / "02-second.ipynb").read_bytes()


def test_without_a_readme_the_index_has_a_title_of_its_own(tmp_path: Path) -> None:
    """A course without README.md still gets an index page with a title and the notebooks."""
    source, target = tmp_path / "tutorials", tmp_path / "out"
    source.mkdir()
    _write_notebook(source / "01-only.ipynb", "# only")
    course_pages.mirror_course(source, target)
    index = (target / "index.md").read_text()
    assert index.startswith(course_pages.DEFAULT_TITLE)
    assert _toctree_entries(index) == ["01-only"]


def test_a_removed_notebook_leaves_the_site_and_an_edited_one_is_copied_again(tmp_path: Path) -> None:
    """The mirror follows the course: removals and edits both reach docs/tutorials."""
    source, target = tmp_path / "tutorials", tmp_path / "out"
    source.mkdir()
    _write_notebook(source / "01-a.ipynb", "# a")
    _write_notebook(source / "02-b.ipynb", "# b")
    course_pages.mirror_course(source, target)
    (source / "02-b.ipynb").unlink()
    _write_notebook(source / "01-a.ipynb", "# a, edited")

    assert course_pages.mirror_course(source, target) == ["01-a.ipynb"]
    assert not (target / "02-b.ipynb").exists()
    assert "a, edited" in (target / "01-a.ipynb").read_text()


def test_an_unchanged_notebook_is_not_rewritten(tmp_path: Path) -> None:
    """Unchanged notebooks keep their file (and time stamp), so incremental builds skip them."""
    source, target = tmp_path / "tutorials", tmp_path / "out"
    source.mkdir()
    _write_notebook(source / "01-a.ipynb", "# a")
    course_pages.mirror_course(source, target)
    before = (target / "01-a.ipynb").stat().st_mtime_ns
    course_pages.mirror_course(source, target)
    assert (target / "01-a.ipynb").stat().st_mtime_ns == before


def test_a_missing_course_folder_gives_an_empty_course(tmp_path: Path) -> None:
    """Before any tutorial exists, the site still builds: an index page with no lessons."""
    assert course_pages.mirror_course(tmp_path / "absent", tmp_path / "out") == []
    assert _toctree_entries((tmp_path / "out" / "index.md").read_text()) == []


def test_a_notebook_without_a_kernel_gets_python_3_in_its_copy(tmp_path: Path) -> None:
    """The copy of a notebook that names no kernel names Python 3; its cells are unchanged."""
    source, target = tmp_path / "tutorials", tmp_path / "out"
    source.mkdir()
    _write_notebook(source / "01-bare.ipynb", "# bare", metadata={})
    course_pages.mirror_course(source, target)
    original, copy = (json.loads((folder / "01-bare.ipynb").read_text()) for folder in (source, target))
    assert copy["metadata"]["kernelspec"] == KERNEL
    assert copy["cells"] == original["cells"]
    assert "kernelspec" not in original["metadata"]


def test_links_to_docs_pages_point_there_from_the_copies(tmp_path: Path) -> None:
    """``](../docs/page.md)`` is right from tutorials/; in the copy and the index it becomes ``](../page.md)``."""
    source, target = tmp_path / "tutorials", tmp_path / "docs" / "tutorials"
    source.mkdir()
    _write_notebook(source / "01-links.ipynb", "See [the conventions](../docs/conventions.md).")
    (source / "README.md").write_text("# Course\n\nRead [the GPU page](../docs/gpu.md) first.\n")
    course_pages.mirror_course(source, target)
    copy = json.loads((target / "01-links.ipynb").read_text())
    assert copy["cells"][0]["source"] == ["See [the conventions](../conventions.md)."]
    assert "Read [the GPU page](../gpu.md) first." in (target / "index.md").read_text()
