"""Bring the course in ``tutorials/`` into the Sphinx source tree, in order.

The notebooks live at the top of the repository (``tutorials/NN-short-name.ipynb``,
stored without outputs) so that readers find them next to the code. Sphinx reads
only from ``docs/``, so at the start of each build this extension mirrors them into
``docs/tutorials/`` (a folder git ignores) and writes ``docs/tutorials/index.md``:
the text of ``tutorials/README.md`` when it exists, followed by a table of contents
of the notebooks in the order of their file names. myst-nb then executes and renders
each notebook.

A notebook is copied only when its bytes changed, so that Sphinx's incremental
rebuild and myst-nb's cache see an unchanged file as unchanged; a mirrored notebook
whose source was removed is removed too. A link from the course to a docs page
(``](../docs/page.md)``, right when the notebook is opened from ``tutorials/``) is
rewritten to point there from ``docs/tutorials/``. A notebook that names no kernel gets the
Python 3 kernel in its copy (myst-nb needs it to execute the notebook and, when
the build does not execute, to highlight the code).
"""

from __future__ import annotations

import json
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config

INDEX_NAME = "index.md"
DEFAULT_TITLE = "# The course\n"
DOCS_LINK_FROM_COURSE = "](../docs/"
DOCS_LINK_FROM_MIRROR = "](../"
PYTHON_KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}


def course_notebooks(source: Path) -> list[Path]:
    """The notebooks of the course, in the order of their file names (``01-...``, ``02-...``)."""
    return sorted(source.glob("*.ipynb"), key=lambda path: path.name)


def index_text(source: Path, notebooks: list[Path]) -> str:
    """The course's index page: ``README.md`` (or a title) and a table of contents of the notebooks.

    Parameters
    ----------
    source : Path
        The folder ``tutorials/`` of the repository.
    notebooks : list of Path
        The notebooks, in the order in which they appear on the site.
    """
    readme = source / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.is_file() else DEFAULT_TITLE
    text = text.replace(DOCS_LINK_FROM_COURSE, DOCS_LINK_FROM_MIRROR)
    entries = "".join(f"{path.stem}\n" for path in notebooks)
    return f"{text.rstrip()}\n\n```{{toctree}}\n:maxdepth: 1\n:caption: Lessons\n\n{entries}```\n"


def mirrored_text(path: Path) -> str:
    """The text of the copy of the notebook at ``path``: the notebook, its links to docs pages made relative to
    the copy, with the Python 3 kernel if it names none."""
    text = path.read_text(encoding="utf-8").replace(DOCS_LINK_FROM_COURSE, DOCS_LINK_FROM_MIRROR)
    notebook = json.loads(text)
    metadata = notebook.setdefault("metadata", {})
    if "kernelspec" in metadata:
        return text
    metadata["kernelspec"] = dict(PYTHON_KERNEL)
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def mirror_course(source: Path, target: Path) -> list[str]:
    """Mirror the notebooks of ``source`` into ``target`` and write its index page.

    Parameters
    ----------
    source : Path
        The folder ``tutorials/`` of the repository (it may be missing: the course is then empty).
    target : Path
        The folder of the Sphinx source tree that receives the copies (``docs/tutorials``).

    Returns
    -------
    list of str
        The names of the notebooks now in ``target``, in order.
    """
    notebooks = course_notebooks(source) if source.is_dir() else []
    target.mkdir(parents=True, exist_ok=True)
    wanted = {path.name for path in notebooks}
    for stale in target.glob("*.ipynb"):
        if stale.name not in wanted:
            stale.unlink()
    for path in notebooks:
        _write_if_changed(target / path.name, mirrored_text(path))
    _write_if_changed(target / INDEX_NAME, index_text(source, notebooks))
    return [path.name for path in notebooks]


def _mirror_at_start(app: Sphinx, config: Config) -> None:
    docs = Path(app.srcdir)
    mirror_course(docs.parent / "tutorials", docs / "tutorials")


def setup(app: Sphinx) -> dict[str, object]:
    """Register the mirroring step; it runs once, before Sphinx looks for source files."""
    app.connect("config-inited", _mirror_at_start)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
