"""Sphinx configuration: the minigrad + optim documentation, built offline.

Build from the repository root with ``make docs``, which runs
``sphinx-build -W -b html docs docs/_build/html``. The notebooks of the course
(``tutorials/*.ipynb``) are mirrored into ``docs/tutorials/`` at the start of the
build (``_ext/course_pages.py``) and executed by myst-nb: with a local cache by
default, always with ``-D nb_execution_mode=force``, not at all with
``-D nb_execution_mode=off``. A failing cell fails the build.
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # autodoc imports the packages from this checkout
sys.path.insert(0, str(ROOT / "docs" / "_ext"))
# The notebooks' kernels are other processes: they import the packages from this checkout too.
# The notebooks' kernels inherit this: they import the packages from this checkout and the exercise checks
# (tutorials/checks) although their copies run from docs/tutorials.
os.environ["PYTHONPATH"] = os.pathsep.join(
    filter(None, [str(ROOT), str(ROOT / "tutorials"), os.environ.get("PYTHONPATH")])
)

import minigrad  # noqa: E402

project = "minigrad + optim"
author = "The minigrad-optim authors"
copyright = "2026, the minigrad-optim authors"
version = release = minigrad.__version__

extensions = [
    "myst_nb",  # MyST Markdown pages and the course's notebooks (it loads myst_parser itself)
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",  # a [source] link beside every documented object, to a page of the site
    "course_pages",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "generated", "jupyter_execute", "**.ipynb_checkpoints"]

# ---------------------------------------------------------------- Markdown (MyST)
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3

# ---------------------------------------------------------------- the course's notebooks
nb_execution_mode = "cache"  # local rebuilds re-run only changed notebooks; CI: -D nb_execution_mode=force
nb_execution_raise_on_error = True  # a failing cell fails the build, with or without -W
nb_execution_show_tb = True  # and its traceback is printed
nb_execution_timeout = 300  # seconds per cell

# ---------------------------------------------------------------- API reference
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_ivar = True  # "Attributes" sections as fields, not as separate (duplicate) objects
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_preserve_defaults = True

# ---------------------------------------------------------------- math, offline
# MathJax 3 is served from the built site itself, so pages render without a
# network. The files come from the sphinx-mathjax-offline wheel (the 'docs'
# extra). Only its static files are used: loading it as a Sphinx extension is
# not needed, and it does not declare itself safe for parallel builds.
_mathjax_spec = importlib.util.find_spec("sphinx-mathjax-offline")
if _mathjax_spec is None or _mathjax_spec.origin is None:
    raise RuntimeError(
        "the offline MathJax files are missing: install the docs extra with pip install -e \".[docs]\""
    )
_MATHJAX_STATIC = pathlib.Path(_mathjax_spec.origin).parent / "static"
html_static_path = [str(_MATHJAX_STATIC), "_static"]
mathjax_path = "mathjax/tex-chtml.js"

# ---------------------------------------------------------------- HTML
html_theme = "sphinx_book_theme"
html_title = "minigrad + optim"
html_css_files = ["layout.css"]
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "navbar_persistent": [],  # the sidebar has the search box; no second one above it
}
