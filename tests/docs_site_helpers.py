"""Build the docs site once and look at it: the object inventory, external references, a headless browser.

Used by tests/test_docs_site.py. The browser is Chromium (Debian's package ``chromium``), run with every
host lookup failing, so that a page that needs the network shows it; its network log tells which requests
a page made.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome")
# Resources a page would load from outside the site: src/href of these tags, and url() in CSS.
_RESOURCE_TAG = re.compile(r'<(script|link|img|iframe|source|video|audio|embed)\b[^>]*?\s(?:src|href)="([^"]+)"', re.I)
_CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)", re.I)
_EXTERNAL = re.compile(r"^(https?:)?//", re.I)


def build_site(outdir: Path, execution: str = "off") -> subprocess.CompletedProcess:
    """Run ``sphinx-build -W -b html`` on docs/ into ``outdir``, notebooks executed as ``execution`` says."""
    command = [sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", "-D", f"nb_execution_mode={execution}",
               str(ROOT / "docs"), str(outdir)]
    return subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)


def inventory_names(site: Path) -> set[str]:
    """Every Python object name in the built site's ``objects.inv``."""
    from sphinx.util.inventory import InventoryFile

    with open(site / "objects.inv", "rb") as stream:
        inventory = InventoryFile.load(stream, "", lambda base, uri: uri)
    return {name for kind, entries in inventory.items() if kind.startswith("py:") for name in entries}


def external_references(site: Path) -> list[tuple[str, str]]:
    """(file, url) for every resource of an HTML or CSS file of the site that points outside it."""
    found = []
    for path in sorted(site.rglob("*")):
        if path.suffix == ".html":
            urls = [url for _tag, url in _RESOURCE_TAG.findall(path.read_text(errors="ignore"))]
        elif path.suffix == ".css":
            urls = _CSS_URL.findall(path.read_text(errors="ignore"))
        else:
            continue
        found += [(str(path.relative_to(site)), url) for url in urls if _EXTERNAL.match(url)]
    return found


def find_browser() -> str | None:
    """The path of a Chromium executable, or None."""
    for name in BROWSER_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def load_offline(browser: str, page: Path) -> tuple[str, list[str]]:
    """Load ``page`` in headless Chromium with every host lookup failing.

    Returns
    -------
    tuple of (str, list of str)
        The DOM after the page's scripts ran (MathJax included), and the URLs of the network requests the
        page made (the browser's own background requests are left out).
    """
    with tempfile.TemporaryDirectory() as profile:
        net_log = Path(profile) / "net-log.json"
        command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                   "--disable-background-networking", "--disable-component-update", "--disable-sync",
                   "--no-first-run", f"--user-data-dir={profile}/user", "--host-resolver-rules=MAP * ~NOTFOUND",
                   "--virtual-time-budget=10000", f"--log-net-log={net_log}", "--dump-dom", page.as_uri()]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
        return result.stdout, page_requests(json.loads(net_log.read_text()))


def page_requests(net_log: dict) -> list[str]:
    """The URLs that pages opened from files asked the network for, read from a Chromium net log.

    Chromium logs its own background requests too; a page's requests are those whose "site for cookies" is
    the ``file://`` site of the page.
    """
    start_job = net_log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for event in net_log["events"]:
        params = event.get("params", {})
        if event["type"] == start_job and "site=file://" in params.get("site_for_cookies", ""):
            urls.append(params["url"])
    return urls
