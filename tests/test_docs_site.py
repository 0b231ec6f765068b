"""The docs site: it builds with -W, documents every public name, and works offline in a real browser.

The site is built once for this file, as CI must build it: with the course's notebooks executed
(nb_execution_mode=force), so that a cell that fails on the site fails here and the pages show their
outputs and plots. (tests/test_tutorials.py also runs each notebook on its own, with a clearer report.)
The browser tests need Chromium (Debian's ``chromium``; .ci/run installs it) and
skip with the reason where it is absent.
"""

from __future__ import annotations

import importlib
import inspect
import types
from pathlib import Path

import pytest

for _module, _extra in [("sphinx", "docs"), ("myst_nb", "docs"), ("sphinx_book_theme", "docs")]:
    pytest.importorskip(_module, reason=f"the {_extra} extra ({_module}) is not installed")

from docs_site_helpers import (  # noqa: E402
    ROOT,
    build_site,
    external_references,
    find_browser,
    inventory_names,
    load_offline,
    page_requests,
)
from public_names import public_modules  # noqa: E402

# Pages whose formulas the browser must typeset: the index, a theory page, an API page with docstring math.
PAGES_WITH_MATH = ["index.html", "theory/adam.html", "api-optim.html"]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The HTML site, built from docs/ with -W (a warning fails the build)."""
    outdir = tmp_path_factory.mktemp("docs") / "html"
    result = build_site(outdir, execution="force")
    assert result.returncode == 0, f"sphinx-build failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return outdir


def _resolve(dotted: str) -> object:
    """The object a dotted name means to Python: attributes first, a submodule where there is no attribute.

    ``minigrad.tensor`` is the function that ``minigrad`` exports, not the module ``minigrad/tensor.py``.
    """
    parts = dotted.split(".")
    value = importlib.import_module(parts[0])
    for index, part in enumerate(parts[1:], start=1):
        try:
            value = getattr(value, part)
        except AttributeError:
            value = importlib.import_module(".".join(parts[: index + 1]))
    return value


def _documented(name: str, value: object, inventory: set[str]) -> bool:
    """Whether some inventory entry named ``...<name>`` is ``value`` itself (under any module path)."""
    for entry in inventory:
        if entry == name or entry.endswith("." + name):
            try:
                if _resolve(entry) is value:
                    return True
            except (ImportError, AttributeError):
                continue
    return False


def test_every_public_name_has_an_entry_in_the_built_inventory(site: Path) -> None:
    """Each name in the ``__all__`` of minigrad, optim and their public modules has an API entry."""
    inventory = inventory_names(site)
    missing = []
    for module in public_modules():
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, types.ModuleType):
                if value.__name__ not in inventory:
                    missing.append(f"{value.__name__} (module)")
            elif not _documented(name, value, inventory):
                missing.append(f"{module.__name__}.{name}")
    assert not missing, f"public names without an API entry: {missing}"


def test_the_inventory_check_notices_a_missing_name() -> None:
    """The lookup above really fails for a name that no entry documents."""
    assert not _documented("Adam", object(), {"optim.Adam", "optim.adam.Adam"})
    assert _documented("Adam", _resolve("optim.Adam"), {"optim.Adam"})


def test_the_site_loads_nothing_from_outside(site: Path) -> None:
    """No script, style sheet, image or font of any page or style sheet comes from another host."""
    assert external_references(site) == []


def test_every_notebook_of_the_course_has_a_page_in_order(site: Path) -> None:
    """Each tutorials/*.ipynb is a page, listed in the course index in the order of the file names."""
    notebooks = sorted((ROOT / "tutorials").glob("*.ipynb"))
    index = (site / "tutorials" / "index.html").read_text()
    positions = [index.find(f'href="{path.stem}.html"') for path in notebooks]
    assert all(position >= 0 for position in positions), positions
    assert positions == sorted(positions)
    for path in notebooks:
        assert (site / "tutorials" / f"{path.stem}.html").is_file()


def test_the_course_pages_show_their_outputs_and_plots(site: Path) -> None:
    """Every lesson was executed for the site: its page holds cell outputs and at least one figure."""
    for path in sorted((ROOT / "tutorials").glob("*.ipynb")):
        page = (site / "tutorials" / f"{path.stem}.html").read_text()
        assert "cell_output" in page, f"{path.name}: the page shows no cell output"
        assert "<img" in page, f"{path.name}: the page shows no figure"


@pytest.fixture(scope="module")
def browser() -> str:
    """The Chromium executable; the test skips where there is none."""
    path = find_browser()
    if path is None:
        pytest.skip("Chromium is not installed (apt-get install chromium fonts-dejavu-core)")
    return path


@pytest.mark.parametrize("page", PAGES_WITH_MATH)
def test_formulas_render_offline_in_a_browser(site: Path, browser: str, page: str) -> None:
    """With every host lookup failing, MathJax typesets the page's formulas, without errors or requests."""
    dom, requests = load_offline(browser, site / page)
    assert dom.count("<mjx-container") > 0, f"no typeset formula on {page}"
    assert "<mjx-merror" not in dom and "data-mjx-error" not in dom, f"a TeX error on {page}"
    assert requests == [], f"{page} asked the network for {requests}"


def test_the_request_check_sees_a_page_that_needs_the_network(browser: str, tmp_path: Path) -> None:
    """The browser check notices a page whose script comes from another host (it must be able to fail)."""
    page = tmp_path / "needs-network.html"
    page.write_text('<html><head><script src="https://cdn.example.org/m.js"></script></head><body>x</body></html>')
    _dom, requests = load_offline(browser, page)
    assert requests == ["https://cdn.example.org/m.js"]


def test_page_requests_leaves_out_the_browsers_own_requests() -> None:
    """Requests not made on behalf of a file:// page (updates, time checks) do not count."""
    log = {"constants": {"logEventTypes": {"URL_REQUEST_START_JOB": 7}},
           "events": [{"type": 7, "params": {"url": "https://update.example/", "site_for_cookies": "site=null"}},
                      {"type": 7, "params": {"url": "https://cdn.example/a.js", "site_for_cookies": "site=file://"}},
                      {"type": 3, "params": {"url": "https://other.example/"}}]}
    assert page_requests(log) == ["https://cdn.example/a.js"]


def test_public_names_module_walk_reaches_the_submodules() -> None:
    """The walk over ``__all__`` reaches minigrad.nn, minigrad.nn.init, optim.conventions and optim.schedules."""
    names = {module.__name__ for module in public_modules()}
    assert {"minigrad.nn", "minigrad.nn.init", "optim.conventions", "optim.schedules"} <= names
    assert all(inspect.ismodule(module) for module in public_modules())


def test_each_page_has_one_search_field(site: Path) -> None:
    """The sidebar's search field is the only one (the theme's second one above it is switched off)."""
    for page in ["index.html", "conventions.html", "theory/adam.html"]:
        assert (site / page).read_text().count('class="btn search-button-field') == 1, page
