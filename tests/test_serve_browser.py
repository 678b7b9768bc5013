"""`derive serve` end to end: its page in headless Chromium, and a load test.

One server (real worker processes, JAX and all) serves both. The browser test types a function
into the page and reads what KaTeX set; it needs Debian's `chromium` and `chromium-driver`,
driven over the WebDriver protocol with the standard library. It is skipped when they are
absent, except in CI, where .ci/run installs them and their absence fails. The load test
needs no browser: a few hundred concurrent requests, good and hostile, none of which may fail
or hang; it prints the latencies.

Set DERIVE_SCREENSHOT=path to save the page as PNG (how docs/serve.png was made).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest

from derive.serve import make_server
from derive.serve.query import MAX_QUERY

#: the server's time limit per derivation here: long enough for a simple gradient with its
#: check and its view on a busy machine (seen: 10 s with a load of 9 on 2 cores), short
#: enough that the load test's slow input is cut off soon
LIMIT = 15.0
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C WebDriver element key


@pytest.fixture(scope="module")
def server():
    srv = make_server("127.0.0.1", 0, workers=2, timeout=LIMIT)
    thread = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield srv
    srv.close()


# --- a WebDriver client over HTTP ----------------------------------------------------------


class Browser:
    """One WebDriver session of chromedriver (W3C protocol, JSON over HTTP)."""

    def __init__(self, driver: str) -> None:
        self.driver = driver
        self.session = ""

    def call(self, method: str, path: str, body: dict | None = None):
        data = None if body is None else json.dumps(body).encode()
        url = f"{self.driver}{f'/session/{self.session}' if self.session else ''}{path}"
        req = urllib.request.Request(
            url, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return json.loads(r.read())["value"]
        except urllib.error.HTTPError as e:
            raise AssertionError(f"WebDriver {method} {path}: {e.read().decode()[:400]}") from e

    def js(self, script: str, *args):
        return self.call("POST", "/execute/sync", {"script": script, "args": list(args)})

    def find(self, css: str) -> dict:
        return self.call("POST", "/element", {"using": "css selector", "value": css})

    def type(self, css: str, text: str) -> None:
        """Type `text` into the element; the page's state is reset, so that `wait_for` sees
        the answer to what was typed, not an earlier one."""
        self.js("document.body.dataset.state = 'typing'")
        self.call("POST", f"/element/{self.find(css)[ELEMENT]}/value", {"text": text})

    def load(self, url: str) -> None:
        """A fresh page at `url` (a new document even where only the #fragment differs)."""
        self.call("POST", "/url", {"url": "about:blank"})
        self.call("POST", "/url", {"url": url})

    def click(self, element: dict) -> None:
        self.call("POST", f"/element/{element[ELEMENT]}/click", {})

    def wait_for(self, state: str, seconds: float) -> None:
        """Until the page's body says data-state=`state` ("done" or "error"; the page sets
        "working" while a request is out); the other of the two fails at once."""
        end = time.monotonic() + seconds
        now = ""
        while time.monotonic() < end:
            now = self.js("return document.body.dataset.state")
            if now in ("done", "error"):
                break
            time.sleep(0.1)
        status = self.js("return document.getElementById('status').textContent")
        assert now == state, f"the page is {now!r}, not {state!r}, after {seconds} s: {status!r}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def browser(server):
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromium-driver are required in CI (.ci/run installs them)")
        pytest.skip("chromium not installed (apt-get install chromium chromium-driver)")
    port = _free_port()
    proc = subprocess.Popen(
        [driver, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    profile = tempfile.mkdtemp(prefix="derive-chromium-")
    b = Browser(f"http://127.0.0.1:{port}")
    try:
        for _ in range(200):
            try:
                if b.call("GET", "/status")["ready"]:
                    break
            except (OSError, AssertionError):
                pass
            time.sleep(0.05)
        options = {
            "binary": chromium,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--window-size=1100,960",
            ],
        }
        caps = {"browserName": "chrome", "goog:chromeOptions": options}
        b.session = b.call("POST", "/session", {"capabilities": {"alwaysMatch": caps}})["sessionId"]
        yield b
    finally:
        if b.session:
            b.call("DELETE", "")
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)


# --- the page -------------------------------------------------------------------------------


def test_the_page_derives_what_is_typed(server, browser):
    empty = urlencode({"f": "", "wrt": "", "kind": "gradient", "shape": "", "assume": ""})
    browser.load(server.url + "#" + empty)
    browser.type("#f", r"\operatorname{tr}(AXB)")
    browser.type("#wrt", "X")
    browser.wait_for("done", 90)

    tex = (
        "return [...document.querySelectorAll(arguments[0] + ' annotation')]"
        ".map(a => a.textContent)"
    )
    # what KaTeX set, read back from the TeX it keeps beside its rendering
    assert browser.js(tex, "#result") == [r"\frac{\partial f}{\partial X} = A^{\top} B^{\top}"]
    assert browser.js(tex, "#objective") == [r"f = \operatorname{tr}\left(A X B\right)"]
    width = "return document.querySelector('#result .katex-html').getBoundingClientRect().width"
    assert browser.js(width) > 50  # set in KaTeX's fonts, not shown as source
    assert browser.js("return document.fonts.check('20px KaTeX_Main')")

    verification = browser.js("return document.getElementById('verification').textContent")
    assert verification.startswith("verified against JAX autodiff: 5 trials")
    assert browser.js("return document.getElementById('verification').className") == "ok"
    cites = browser.js(
        "return [...document.querySelectorAll('#steps .cite')].map(c => c.textContent)"
    )
    assert cites and all(c.startswith("by ") for c in cites)
    assert any("Matrix Cookbook (2012)" in c for c in cites)

    links = browser.js(
        "return ['tex', 'md', 'json', 'numpy', 'jax'].map(k => "
        "[document.getElementById('dl-' + k).download, "
        "document.getElementById('dl-' + k).href.slice(0, 5)])"
    )
    assert links == [
        ["gradient-X.tex", "blob:"],
        ["gradient-X.md", "blob:"],
        ["gradient-X.json", "blob:"],
        ["gradient_X_numpy.py", "blob:"],
        ["gradient_X_jax.py", "blob:"],
    ]
    if os.environ.get("DERIVE_SCREENSHOT"):
        png = base64.b64decode(browser.call("GET", "/screenshot"))
        with open(os.environ["DERIVE_SCREENSHOT"], "wb") as fh:
            fh.write(png)

    # A refusal shows the command line's message; the last result stays, marked stale.
    browser.type("#f", "^{")
    browser.wait_for("error", 60)
    status = browser.js("return document.getElementById('status').textContent")
    assert status and "\n" not in status and not status.startswith("the server did not answer")
    assert browser.js("return document.getElementById('out').className") == "stale"

    # Nothing the page loaded came from anywhere but this server.
    names = browser.js("return performance.getEntriesByType('resource').map(e => e.name)")
    assert any("/static/katex/fonts/" in n for n in names)
    assert [n for n in names if not n.startswith(server.url)] == []


def test_a_worked_derivation_is_one_click_away(server, browser):
    empty = urlencode({"f": "", "wrt": ""})  # no derivation of the page's example first
    browser.load(server.url + "#" + empty)
    assert browser.js("return document.body.dataset.state") == "idle"
    pick = (
        "return [...document.querySelectorAll('#worked button')]"
        ".find(b => b.textContent === arguments[0])"
    )
    end = time.monotonic() + 30
    while not browser.js(pick, "svd-from-eig") and time.monotonic() < end:
        time.sleep(0.1)
    browser.click(browser.js(pick, "svd-from-eig"))
    browser.wait_for("done", 90)
    title = browser.js("return document.getElementById('title').textContent")
    assert title.startswith("The singular value decomposition from the eigendecomposition")
    assert browser.js("return document.getElementById('verification').className") == "ok"
    assert browser.js("return location.hash") == "#worked=svd-from-eig"


# --- the load test ----------------------------------------------------------------------------

GOOD = [
    {"f": r"x^\top A x", "wrt": "x"},
    {"f": r"x^\top A x", "wrt": "x", "kind": "hessian"},
    {"f": r"\frac12\|Ax-b\|_2^2", "wrt": "x", "shape": "A=m,n"},
    {"f": r"a^\top X b", "wrt": "X"},
    {"f": r"\operatorname{tr}(AXB)", "wrt": "X"},
]

# each hostile query, and how its refusal begins
HOSTILE = [
    ({"f": r"\operatorname{tr}(X^{100000})", "wrt": "X"}, "unsupported: the matrix power"),
    ({"f": r"x^\top A x", "wrt": "x", "shape": "A=99999,99999"}, "--shape 'A=99999,99999'"),
    ({"f": r"\frac{x", "wrt": "x"}, ""),
    ({"f": "(" * 100 + "x" + ")" * 100, "wrt": "x"}, "groups nested deeper than"),
    ({"f": "x+" * 1500 + "x", "wrt": "x"}, "input of 3001 characters"),
    ({"f": r"x^\top A x", "wrt": "q"}, "f does not depend on 'q'"),
    ({"f": "x", "wrt": "x", "kind": "gradient; rm -rf /"}, "kind is one of"),
    ({"f": "x", "wrt": "x", "eval": "__import__('os')"}, "unknown parameter 'eval'"),
    ({"f": "__import__('os').system('true')", "wrt": "x"}, ""),
    ({"f": "x\x00\x1b[2J", "wrt": "x"}, ""),
    ({"f": r"\input{/etc/passwd}", "wrt": "x"}, ""),
    ({"f": "x" * (MAX_QUERY + 1), "wrt": "x"}, "the query is longer than"),
    ({"worked": "../../etc/passwd"}, "unknown worked derivation"),
    ({"mle": "cauchy"}, "unknown family 'cauchy'"),
]

#: seven sums of matrix powers, 1593 characters: the CLI was still at it after 120 s (one sum
#: alone: 21 s, then refused as too large); here it is cut off by the time limit
_POWERS = "+".join(f"X^{{{k}}}" for k in range(32, 0, -1))
SLOW = (
    {"f": " + ".join(rf"{u}^\top ({_POWERS}) {v}" for u, v in "ab cd gh pq rs uv yz".split()),
     "wrt": "X"},
    "gave up after 15 s",
)  # fmt: skip


def _url(server, params: dict) -> str:
    endpoint = "api/view" if {"worked", "mle"} & set(params) else "api/derive"
    return f"{server.url}{endpoint}?{urlencode(params)}"


def _get(url: str) -> tuple[int, dict, float]:
    start = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=LIMIT + 60) as r:
            status, body = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    return status, json.loads(body), time.monotonic() - start


def test_a_few_hundred_requests_good_and_hostile_all_answered(server, capsys):
    cases = [(p, None) for p in GOOD] * 24 + [(p, m) for p, m in HOSTILE] * 12
    # mixed, deterministically; the slow one first, so that its time limit runs meanwhile
    cases = [SLOW] + [cases[(k * 37) % len(cases)] for k in range(len(cases))]
    assert len(cases) == 289
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda c: _get(_url(server, c[0])), cases))

    for (params, refusal), (status, body, _) in zip(cases, answers, strict=True):
        shown = {k: v[:60] for k, v in params.items()}
        if refusal is None:
            assert status == 200, (shown, body)
            assert body["schema_version"] == 2 and body["check"]["passed"], shown
        else:
            assert status == 400, (shown, status, body)
            assert body["error"] and "\n" not in body["error"], shown
            assert body["error"].startswith(refusal), (shown, body["error"])
    seconds = sorted(t for _, _, t in answers)
    median, p95 = statistics.median(seconds), seconds[int(0.95 * len(seconds))]
    with capsys.disabled():
        print(
            f"\nderive serve load test: {len(answers)} requests, 16 at once: latency median "
            f"{median * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {seconds[-1]:.1f} s; "
            f"{server.answers.workers.killed} worker(s) killed and replaced"
        )
    assert server.answers.workers.killed == 1  # the slow input was cut off, not waited for
