"""`derive serve` without a browser: the query reader, the worker pool's time limit, the HTTP
layer (on a stand-in pool, so no JAX starts), the answers against the command line's, and
the bounds that keep a hostile input from hanging the CLI too.

The page in a real browser and a load test are in tests/test_serve_browser.py.
"""

from __future__ import annotations

import glob
import json
import os
import socket
import threading
import time
import tomllib
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from derive.serve import jobs
from derive.serve.app import CSP, Answers, Server, static_files
from derive.serve.jobs import Job
from derive.serve.query import MAX_QUERY, BadRequest, derive_job, view_job
from derive.serve.workers import Busy, Crashed, TimedOut, Workers
from tests.conftest import ROOT

# --- the query string ---------------------------------------------------------------------


def test_a_query_becomes_a_job():
    q = urlencode(
        [("f", r"\frac12\|Ax-b\|_2^2"), ("wrt", "x"), ("kind", "hessian")]
        + [("shape", "A=m,n"), ("shape", "b=m"), ("assume", "A=full-column-rank")]
    )
    assert derive_job(q) == Job(
        "derive",
        "json",
        f=r"\frac12\|Ax-b\|_2^2",
        wrt="x",
        kind="hessian",
        shapes=("A=m,n", "b=m"),
        assume=("A=full-column-rank",),
    )
    assert view_job("worked=softmax-ce") == Job("worked", "view", name="softmax-ce")
    assert view_job("mle=gaussian&check=0") == Job("mle", "view", name="gaussian", check=False)


@pytest.mark.parametrize(
    "query, message",
    [
        ("wrt=x", "the parameter 'f' is required"),
        ("f=x&wrt=", "the parameter 'wrt' is required"),
        ("f=x&wrt=x&kind=grad", "kind is one of gradient, hessian, jacobian, got 'grad'"),
        ("f=x&wrt=x&f=y", "the parameter 'f' is given 2 times"),
        ("f=x&wrt=x&exec=1", "unknown parameter 'exec'"),
        ("f=x&wrt=x&check=maybe", "check takes 1 or 0, got 'maybe'"),
        ("f=" + "x" * MAX_QUERY + "&wrt=x", f"the query is longer than {MAX_QUERY} bytes"),
        ("f=x&wrt=x&" + "&".join(["shape=a=n"] * 40), "more than 32 shape items"),
        ("f=x&wrt=x&" + "&".join(["assume=a=spd"] * 100), "malformed query"),
    ],
)
def test_a_bad_query_is_refused_with_a_reason(query, message):
    with pytest.raises(BadRequest) as info:
        derive_job(query)
    assert str(info.value).startswith(message)


def test_a_view_names_one_thing():
    with pytest.raises(BadRequest, match="takes no other parameter"):
        view_job("worked=ols&mle=gaussian")
    with pytest.raises(BadRequest, match="takes no other parameter"):
        view_job("worked=ols&f=x")


def _typed(size: int) -> st.SearchStrategy[str]:
    return st.text(st.characters(codec="utf-8"), min_size=1, max_size=size).filter(str.strip)


@settings(max_examples=100, deadline=None)
@given(f=_typed(300), wrt=_typed(50), shapes=st.lists(_typed(50), max_size=3))
@example(f=r"\sum_i x_i^2 & 100% + ;", wrt=r"\Sigma", shapes=["A=m,n", "x=(n)"])
def test_any_text_reaches_the_worker_exactly_as_typed(f, wrt, shapes):
    """Percent-encoding loses nothing: the job holds the typed LaTeX, character for character
    (the page sends what the user typed; the worker alone reads it)."""
    job = derive_job(urlencode([("f", f), ("wrt", wrt)] + [("shape", s) for s in shapes]))
    assert (job.f, job.wrt, job.shapes) == (f, wrt.strip(), tuple(shapes))


# --- the worker pool: a time limit that kills ----------------------------------------------
# Handlers run in spawned processes, which import them from this module by name.


def echo(job):
    return ("echo", job, os.getpid())


def slow(job):
    time.sleep(job)
    return ("slept", job, os.getpid())


def die(job):
    os._exit(3)


def test_a_job_past_its_time_limit_is_killed_and_its_worker_replaced():
    pool = Workers(slow, count=1, timeout=1.0)
    try:
        first = pool.run(0)
        assert first[:2] == ("slept", 0)
        t = time.monotonic()
        assert pool.run(60) == TimedOut(1.0)
        assert time.monotonic() - t < 5  # not 60 s: the worker was killed, not waited for
        again = pool.run(0)  # a fresh worker, a new process
        assert again[:2] == ("slept", 0) and again[2] != first[2]
        assert pool.killed == 1
    finally:
        pool.close()


def test_a_worker_that_dies_is_reported_and_replaced():
    pool = Workers(die, count=1, timeout=10.0)
    try:
        assert pool.run(None) == Crashed(3)
    finally:
        pool.close()


def test_workers_that_cannot_start_are_reported_at_once():
    pool = Workers(echo, count=2, timeout=10.0, warm=("derive.no_such_module",))
    try:
        t = time.monotonic()
        assert pool.run(None) == Crashed(1)
        assert time.monotonic() - t < 20  # not the wait of 80 s for a free worker
    finally:
        pool.close()


def test_jobs_run_side_by_side_and_a_full_pool_says_busy():
    pool = Workers(slow, count=2, timeout=10.0)
    try:
        for _ in range(2):  # both workers ready
            assert pool.run(0)[0] == "slept"
        pool.wait = 0.5
        out: list = []
        threads = [threading.Thread(target=lambda: out.append(pool.run(2.0))) for _ in range(2)]
        t = time.monotonic()
        for th in threads:
            th.start()
        time.sleep(0.3)
        assert isinstance(pool.run(0), Busy)  # both are sleeping; the wait is 0.5 s
        for th in threads:
            th.join()
        assert time.monotonic() - t < 3.5  # side by side, not one after the other (4 s)
        assert len({pid for _, _, pid in out}) == 2
    finally:
        pool.close()


# --- the answers: the command line's document and messages ---------------------------------


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    from derive.cli import main

    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_json_document_is_the_command_lines(capsys):
    f = r"\frac12\|Ax-b\|_2^2"
    status, body = jobs.run(Job("derive", f=f, wrt="x", shapes=("A=m,n",), check=False))
    code, out, _ = _cli(capsys, "grad", f, "--wrt", "x", "--shape", "A=m,n", "--no-check",
                        "--format", "json")  # fmt: skip
    assert (status, code) == (200, 0)
    assert body + "\n" == out
    assert json.loads(body)["result"]["latex"] == r"A^{\top} \left(A x - b\right)"


@pytest.mark.parametrize(
    "argv, job",
    [
        (("x^\\top A x", "--wrt", "y"), Job("derive", f="x^\\top A x", wrt="y")),
        (("\\frac{x", "--wrt", "x"), Job("derive", f="\\frac{x", wrt="x")),
        (
            ("x", "--wrt", "x", "--shape", "x=n,n,n"),
            Job("derive", f="x", wrt="x", shapes=("x=n,n,n",)),
        ),  # fmt: skip
        (
            ("X", "--wrt", "X", "--assume", "X=wobbly"),
            Job("derive", f="X", wrt="X", assume=("X=wobbly",)),
        ),  # fmt: skip
        (
            ("\\operatorname{tr}(X^{100000})", "--wrt", "X"),
            Job("derive", f="\\operatorname{tr}(X^{100000})", wrt="X"),
        ),  # fmt: skip
    ],
)
def test_a_refusal_is_400_with_the_command_lines_message(capsys, argv, job):
    code, _, err = _cli(capsys, "grad", *argv)
    status, body = jobs.run(job)
    assert (code, status) == (2, 400)
    assert err == f"derive: error: {json.loads(body)['error']}\n"


def test_an_internal_error_is_500_in_the_command_lines_words():
    status, body = jobs.run(Job("derive", kind="no-such-kind", f="x", wrt="x"))
    assert status == 500
    assert json.loads(body)["error"] == "internal error (KeyError): 'no-such-kind'"


def test_the_catalog_lists_the_worked_derivations_and_the_families():
    from derive import catalog
    from derive.likelihood import families

    status, body = jobs.run(Job("catalog"))
    c = json.loads(body)
    assert status == 200
    assert [(e["name"], e["title"]) for e in c["worked"]] == catalog()
    assert c["mle"] == families() and "gaussian" in c["mle"]


@pytest.mark.parametrize(
    "job",
    [
        Job("worked", "view", name="svd-from-eig", check=False),
        Job("worked", "view", name="softmax-ce", check=False),
        Job("mle", "view", name="exponential", check=False),
    ],
    ids=lambda j: j.name,
)
def test_the_view_of_a_catalogue_entry_has_its_steps_results_and_files(job):
    from derive import mle, worked

    d = (worked if job.what == "worked" else mle)(job.name, check=False)
    status, body = jobs.run(job)
    v = json.loads(body)
    assert status == 200 and v["stem"] == d.name and v["title"] == d.title
    assert [r["number"] for r in v["rows"] if r["kind"] == "step"] == list(
        range(1, len(d.steps) + 1)
    )
    assert all(r["cite"] for r in v["rows"] if r["kind"] == "step")
    assert len(v["results"]) == len(d.results) and v["copy"].count("=") >= len(d.results)
    assert v["verification"] == "not checked numerically" and v["passed"] is None
    files = v["files"]
    assert files["json"] == d.to_json() and files["md"] == d.to_markdown()
    assert files["tex"].startswith("\\documentclass") and files["tex"] == d.to_latex(True)
    assert "import numpy" in files["numpy"] and "import jax" in files["jax"]


# --- hostile input, refused at once on the command line too -----------------------------------


@pytest.mark.parametrize(
    "latex",
    [
        r"\operatorname{tr}(X^{100000})",
        r"\operatorname{tr}(X^{33})",
        r"\operatorname{tr}((X^{4})^{9})",
        r"\operatorname{tr}(((X^{2})^{2})^{17})",
    ],
)
def test_a_huge_matrix_power_is_refused_at_once(latex):
    from derive.errors import UnsupportedError
    from derive.latex import parse_latex

    t = time.monotonic()
    with pytest.raises(UnsupportedError, match="powers up to 32 are derived"):
        parse_latex(latex)
    assert time.monotonic() - t < 2


def test_matrix_powers_up_to_the_bound_are_read():
    from derive.latex import parse_latex

    for latex in (r"\operatorname{tr}(X^{32})", r"\operatorname{tr}((X^{4})^{8})"):
        assert parse_latex(latex).free_symbols  # read, not refused


def test_a_numeric_dimension_is_bounded():
    from derive.errors import InputError
    from derive.options import MAX_DIMENSION, parse_shapes

    assert parse_shapes([f"A={MAX_DIMENSION},3", "x=n"]) == {"A": (MAX_DIMENSION, 3), "x": ("n",)}
    with pytest.raises(InputError, match="at most 32"):
        parse_shapes(["A=3000,3000"])
    with pytest.raises(InputError, match="at most 32"):
        parse_shapes([f"x={MAX_DIMENSION + 1}"])


# --- the HTTP layer, on a stand-in pool -----------------------------------------------------


class StandIn:
    """A pool that answers in the request's thread: (200, the job as JSON), or what `answers`
    maps the job's f to; counts its calls."""

    def __init__(self, answers: dict | None = None, delay: float = 0.0) -> None:
        self.answers, self.delay, self.calls = answers or {}, delay, 0
        self.lock = threading.Lock()

    def run(self, job: Job):
        with self.lock:
            self.calls += 1
        time.sleep(self.delay)
        if job.f in self.answers:
            return self.answers[job.f]
        return 200, json.dumps({"what": job.what, "form": job.form, "f": job.f, "name": job.name})

    def close(self) -> None:
        pass


@pytest.fixture
def stand_in():
    """(base URL, pool) of a server on a free port whose pool is a StandIn."""
    servers = []

    def start(pool: StandIn) -> str:
        server = Server(("127.0.0.1", 0))
        server.answers = Answers(pool)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.close()


def get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_the_endpoints_answer_json_and_refuse_with_a_message(stand_in):
    base = stand_in(StandIn({"slow": TimedOut(2.0), "dead": Crashed(-9), "full": Busy(90)}))
    status, headers, body = get(base + "api/derive?f=x&wrt=x")
    assert status == 200 and headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(body) == {"what": "derive", "form": "json", "f": "x", "name": ""}
    assert json.loads(get(base + "api/view?worked=ols")[2])["name"] == "ols"
    expected = {
        "api/derive?wrt=x": (400, "the parameter 'f' is required"),
        "api/derive?f=slow&wrt=x": (400, "gave up after 2 s: this derivation takes longer"),
        "api/derive?f=dead&wrt=x": (500, "internal error (the worker process died, exit code -9)"),
        "api/derive?f=full&wrt=x": (503, "busy: no worker was free for 90 s"),
        "api/nothing": (404, "not found: /api/nothing"),
        "static/../derive/cli.py": (404, "not found"),
        "static/katex/../../app.py": (404, "not found"),
    }
    for path, (want_status, want_message) in expected.items():
        status, _, body = get(base + path)
        assert status == want_status, path
        assert json.loads(body)["error"].startswith(want_message), path


def test_the_page_and_its_files_are_served_with_a_policy_that_keeps_it_offline(stand_in):
    base = stand_in(StandIn())
    status, headers, body = get(base)
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Content-Security-Policy"] == CSP and "connect-src 'self'" in CSP
    html = body.decode()
    assert "/static/katex/katex.min.js" in html and "http" not in html.replace("http-equiv", "")
    for path in ("static/page.js", "static/katex/katex.min.css", "static/katex/LICENSE",
                 "static/katex/fonts/KaTeX_Main-Regular.woff2"):  # fmt: skip
        assert get(base + path)[0] == 200, path
    css = get(base + "static/katex/katex.min.css")[2].decode()
    fonts = {f"/static/katex/{u}" for u in __import__("re").findall(r"url\((fonts/[^)]+)\)", css)}
    assert fonts and fonts <= set(static_files())  # every font the stylesheet names is here


def test_answers_are_cached_and_shared_while_computed(stand_in):
    pool = StandIn(delay=0.5)
    base = stand_in(pool)
    urls = [base + "api/derive?f=same&wrt=x"] * 8
    threads = [threading.Thread(target=get, args=(u,)) for u in urls]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert get(urls[0])[0] == 200
    assert pool.calls == 1  # eight at once and one after: one computation


def test_an_ipv6_loopback_address_is_served():
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        server = Server(("::1", 0))
    except OSError as e:  # IPv6 configured off
        pytest.skip(f"cannot bind ::1: {e}")
    server.answers = Answers(StandIn())
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        assert server.url.startswith("http://[::1]:")
        assert get(server.url + "api/derive?f=x&wrt=x")[0] == 200
    finally:
        server.close()


def test_only_loopback_names_are_answered_while_bound_to_loopback(stand_in):
    base = stand_in(StandIn())
    port = base.rsplit(":", 1)[1].strip("/")
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"):
        assert get(base + "api/catalog", {"Host": host})[0] == 200, host
    status, _, body = get(base + "api/catalog", {"Host": "attacker.example"})
    assert status == 400 and b"localhost only" in body


def test_serve_binds_loopback_by_default_and_reports_a_busy_port(capsys):
    from derive.cli import build_parser, main

    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.open) == ("127.0.0.1", 8765, False)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith(f"derive: error: cannot serve on 127.0.0.1:{port}: ")
        and err.count("\n") == 1
    )


# --- packaging ---------------------------------------------------------------------------------


def test_every_static_file_ships_in_the_wheel():
    """pyproject's package data for derive.serve matches every file the server serves."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "derive.serve" in config["packages"]
    folder = ROOT / "derive" / "serve"
    shipped = {  # setuptools reads package data patterns as globs from the package's folder
        f for p in config["package-data"]["derive.serve"] for f in glob.glob(p, root_dir=folder)
    }
    served = {p.removeprefix("/") for p in static_files()}
    assert len(served) >= 25  # the page, its script and style, KaTeX and its 20 fonts
    assert served - shipped == set(), "add to [tool.setuptools.package-data] derive.serve"
