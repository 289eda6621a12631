"""The course website in a real headless browser (Debian's chromium, driven by Playwright).

Built from real runs of three cheap experiments plus a failing and an errored run
folder written by hand, and opened both from ``file://`` and over HTTP: every page
loads without a console error, every image decodes, every internal link (and its
``#anchor``) resolves, the audio player plays, and the index's counts equal the
run folders' ``result.json``.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest
from rich.console import Console
from runfolders import (
    errored_result,
    failing_config,
    failing_result,
    model_metrics,
    write_run,
    write_wav,
)

from introdl.report.site import write_site

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SETUP = "run `bash scripts/setup --dev` (installs Debian's chromium and the playwright package)"
EXPERIMENTS = ["perceptron", "will-i-pass"]  # ~1 s each; will-i-pass logs curves


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """Three real quick runs through the course runner, plus a failing and an errored one."""
    from introdl.runner import run_course

    root = tmp_path_factory.mktemp("site") / "course"
    run_course(out=root, quick=True, device="cpu", only=EXPERIMENTS, force=True,
               console=Console(quiet=True))
    d = write_run(root / "toy-fail", failing_result(), failing_config(), model_metrics())
    write_wav(d / "samples" / "tune_01.wav")
    write_run(root / "toy error #2", errored_result())  # a folder name that needs quoting
    write_site(root)
    return root


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(f"the browser tests need the playwright package: {SETUP}", pytrace=False)
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail(f"the browser tests need chromium at {CHROMIUM}: {SETUP}", pytrace=False)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists()
                              else shutil.which("chromium"), args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(site):
    """``python -m http.server`` for the site, on a free port of 127.0.0.1."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def _path(url: str) -> Path:
    return Path(unquote(urlparse(url).path))


@functools.cache
def _target_html(url: str) -> str:
    """The text of an internal link's target (file or HTTP); raises when it is missing."""
    if url.startswith("file:"):
        p = _path(url)
        assert p.is_file(), f"broken link: {p} does not exist"
        return p.read_text(encoding="utf-8", errors="replace")
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            assert r.status == 200, f"{url}: HTTP {r.status}"
            return r.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as e:
        raise AssertionError(f"broken link: {url} gives HTTP {e.code}") from None


def _check_page(page, url: str, origin: str) -> list[str]:
    """Load ``url``; assert it is clean; return the internal pages it links to."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400 else None)
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.goto(url, wait_until="load")
    bad = page.evaluate("""async () => {
        const imgs = Array.from(document.images);
        await Promise.all(imgs.map(i => i.decode().catch(() => null)));
        return imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src);
    }""")
    assert not bad, f"{url}: images that did not decode: {bad}"
    assert not problems, f"{url}: {problems}"
    hrefs = page.eval_on_selector_all("a[href], audio[src]",
                                      "els => els.map(e => e.href || e.src)")
    pages = []
    for href in hrefs:
        if not href.startswith(origin):
            continue  # an external link (none in the site today)
        target, frag = urldefrag(href)
        text = _target_html(target)
        if frag:
            assert re.search(rf'\bid="{re.escape(frag)}"', text), \
                f"{url}: link {href} names an anchor the target lacks"
        if target.endswith(".html"):
            pages.append(target)
    return pages


def _crawl(browser, start: str, origin: str) -> list[str]:
    ctx = browser.new_context()
    seen, todo = [], [start]
    while todo:
        url = todo.pop(0)
        if url in seen:
            continue
        seen.append(url)
        page = ctx.new_page()
        todo += _check_page(page, url, origin)
        page.close()
    ctx.close()
    return seen


def _expected_counts(site: Path) -> dict[str, int]:
    results = [json.loads(p.read_text()) for p in sorted(site.glob("*/result.json"))]
    out = {"experiments": len(results)}
    for s in ("pass", "fail", "error"):
        out[f"experiments-{s}"] = sum(r["status"] == s for r in results)
    for k in ("pass", "fail", "not checked"):
        out[f"claims-{k.replace(' ', '-')}"] = sum(r["counts"][k] for r in results)
    return out


def _check_index(browser, url: str, site: Path) -> None:
    page = browser.new_page()
    page.goto(url, wait_until="load")
    shown = page.eval_on_selector(
        "#summary", "el => Object.fromEntries(Object.entries(el.dataset))")
    got = {re.sub(r"[A-Z]", lambda m: "-" + m[0].lower(), k): int(v) for k, v in shown.items()}
    assert got == _expected_counts(site)
    assert got["experiments-fail"] == 1 and got["experiments-error"] == 1
    rows = page.eval_on_selector_all("tbody.run", "els => els.map(e => [e.dataset.run, "
                                     "e.dataset.status])")
    status = {p.parent.name: json.loads(p.read_text())["status"]
              for p in site.glob("*/result.json")}
    assert dict(rows) == status
    page.close()


@pytest.mark.parametrize("how", ["file", "http"])
def test_every_page_loads_clean_and_every_link_resolves(site, browser, server, how):
    start = (site / "index.html").as_uri() if how == "file" else server + "index.html"
    origin = site.as_uri() + "/" if how == "file" else server
    visited = _crawl(browser, start, origin)
    names = {_path(u).parent.name for u in visited}
    assert set(EXPERIMENTS) | {"toy-fail", "toy error #2"} <= names  # every experiment page
    assert any("/_site/docs/" in u for u in visited)  # and the docs they link to
    _check_index(browser, start, site)


def test_audio_player_plays_the_generated_wav(site, browser, server):
    page = browser.new_page()
    page.goto(server + "toy-fail/index.html", wait_until="load")
    duration = page.evaluate("""() => new Promise((ok, fail) => {
        const a = document.querySelector('audio');
        a.addEventListener('loadedmetadata', () => ok(a.duration));
        a.addEventListener('error', () => fail(new Error('audio error ' + a.error.code)));
        a.preload = 'auto'; a.load();
    })""")
    assert 0.2 < duration < 0.3
    page.close()


def test_a_single_run_folder_site_loads_clean(site, browser, tmp_path):
    single = tmp_path / "perceptron"
    shutil.copytree(site / "perceptron", single)
    index = write_site(single)
    visited = _crawl(browser, index.as_uri(), single.as_uri() + "/")
    assert visited[0] == index.as_uri()
    page = browser.new_page()
    page.goto(index.as_uri())
    assert page.eval_on_selector("#summary", "el => el.dataset.experimentsPass") == "1"
    page.close()
