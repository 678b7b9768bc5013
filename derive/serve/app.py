"""The local page's HTTP server: the page, its static files, and the JSON endpoints.

``GET /``                    the page (derive/serve/static/index.html)
``GET /static/<file>``       its script, style and the vendored KaTeX; nothing else is served
``GET /api/derive?f=…``      the document of ``derive grad … --format json`` (query:
                             derive.serve.query.derive_job); 400 ``{"error": message}``
``GET /api/view?…``          what the page shows: the same query, or worked=NAME, or mle=FAMILY
``GET /api/catalog``         the worked derivations and the MLE families

The standard library's ThreadingHTTPServer, deliberately: the page is for one person on their
own machine, the work is done in worker processes (derive.serve.workers) and a request's
thread only waits on a pipe, so an asynchronous framework would buy nothing, and no
dependency is added. What protects it: a time limit per derivation (the worker is killed),
a bounded query string (derive.serve.query) and number of requests at once, a socket timeout,
answers cached by request, a Host check against DNS rebinding while bound to loopback, and a
Content-Security-Policy that lets the page reach no other origin.
"""

from __future__ import annotations

import mimetypes
import socket
import sys
import threading
from collections import OrderedDict
from concurrent.futures import Future
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import urlsplit

from derive.serve import jobs
from derive.serve.jobs import Job
from derive.serve.messages import error_body
from derive.serve.query import BadRequest, derive_job, view_job
from derive.serve.workers import Busy, Crashed, TimedOut, Workers

__all__ = ["Answers", "Server", "make_server", "serve"]

#: requests handled at once; more are answered 503 at once
MAX_CONCURRENT = 32
#: seconds a connection may stay silent before it is closed
SOCKET_TIMEOUT = 20
LOOPBACK = ("127.0.0.1", "localhost", "::1")

# The page may load and fetch only from this server; KaTeX sets inline styles on its output.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "font-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


def static_files() -> dict[str, bytes]:
    """Every file under derive/serve/static by URL path ("/static/page.js"), read once: the
    only files the server will send, so no path in a request can reach another."""
    root = resources.files("derive.serve") / "static"
    out: dict[str, bytes] = {}

    def walk(folder, prefix: str) -> None:
        for entry in folder.iterdir():
            if entry.is_dir():
                walk(entry, f"{prefix}{entry.name}/")
            elif not entry.name.startswith("."):
                out[f"{prefix}{entry.name}"] = entry.read_bytes()

    walk(root, "/static/")
    return out


class Answers:
    """The answer (status, JSON text) to each job: from a cache of recent answers, from a
    computation of the same job already under way, or computed by `workers`. A refusal (400)
    is cached like a result; a time-out is not (a busy machine may be slow only once)."""

    def __init__(self, workers: Workers, size: int = 512) -> None:
        self.workers, self.size = workers, size
        self._cache: OrderedDict[Job, tuple[int, str]] = OrderedDict()
        self._running: dict[Job, Future] = {}
        self._lock = threading.Lock()

    def get(self, job: Job) -> tuple[int, str]:
        with self._lock:
            if job in self._cache:
                self._cache.move_to_end(job)
                return self._cache[job]
            future = self._running.get(job)
            owner = future is None
            if owner:
                future = self._running[job] = Future()
        if not owner:
            return future.result()
        try:
            answer, keep = self._compute(job)
            with self._lock:
                if keep:
                    self._cache[job] = answer
                    while len(self._cache) > self.size:
                        self._cache.popitem(last=False)
            future.set_result(answer)
            return answer
        except BaseException as e:
            future.set_exception(e)
            raise
        finally:
            with self._lock:
                self._running.pop(job, None)

    def _compute(self, job: Job) -> tuple[tuple[int, str], bool]:
        outcome = self.workers.run(job)
        if isinstance(outcome, TimedOut):
            msg = (
                f"gave up after {outcome.seconds:g} s: this derivation takes longer than the "
                "server's time limit (derive serve --timeout)"
            )
            return (400, error_body(msg)), False
        if isinstance(outcome, Crashed):
            msg = f"internal error (the worker process died, exit code {outcome.exitcode})"
            return (500, error_body(msg)), False
        if isinstance(outcome, Busy):
            msg = f"busy: no worker was free for {outcome.waited:.0f} s; try again"
            return (503, error_body(msg)), False
        status, body = outcome
        return (status, body), status in (200, 400)


class Server(ThreadingHTTPServer):
    """The page's server; `close()` stops it and its workers."""

    daemon_threads = True

    answers: Answers

    def __init__(self, address: tuple[str, int], quiet: bool = True) -> None:
        if ":" in address[0]:  # an IPv6 address, such as ::1
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)
        self.quiet = quiet
        self.files = static_files()
        self.slots = threading.BoundedSemaphore(MAX_CONCURRENT)
        host = address[0]
        self.check_host = host in LOOPBACK  # elsewhere the user chose whom to serve

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{'[' + host + ']' if ':' in host else host}:{port}/"

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        self._serving = True
        super().serve_forever(poll_interval)

    def close(self) -> None:
        """Stop answering (if `serve_forever` runs in another thread), then kill the workers."""
        if getattr(self, "_serving", False):
            self.shutdown()
        self.server_close()
        self.answers.workers.close()


class Handler(BaseHTTPRequestHandler):
    server: Server
    server_version = "derive-serve"
    timeout = SOCKET_TIMEOUT

    def version_string(self) -> str:  # the Server header: no Python version
        return self.server_version

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        if not self.server.quiet:
            sys.stderr.write(f"derive serve: {self.address_string()} {format % args}\n")

    def _send(self, status: int, body: bytes, ctype: str, cache: str = "no-store") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", cache)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Content-Security-Policy", CSP)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, text: str) -> None:
        self._send(status, text.encode(), "application/json; charset=utf-8")

    def _error(self, status: int, msg: str) -> None:
        self._json(status, error_body(msg))

    def _host_ok(self) -> bool:
        host = self.headers.get("Host")
        if not self.server.check_host or host is None:
            return True
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return name.strip("[]").lower() in LOOPBACK

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        if not self._host_ok():
            return self._error(400, "unknown Host: this server answers to localhost only")
        if not self.server.slots.acquire(blocking=False):
            return self._error(503, f"busy: more than {MAX_CONCURRENT} requests at once")
        try:
            self._route()
        finally:
            self.server.slots.release()

    def _route(self) -> None:
        url = urlsplit(self.path)
        path = "/static/index.html" if url.path in ("/", "/index.html") else url.path
        if path in self.server.files:
            ctype = mimetypes.guess_type(path)[0] or "application/octet-stream"
            if ctype.startswith("text/") or ctype.endswith("javascript"):
                ctype += "; charset=utf-8"
            cache = "no-cache" if path.endswith(".html") else "max-age=3600"
            return self._send(200, self.server.files[path], ctype, cache)
        if path == "/api/catalog":
            return self._json(*self.server.answers.get(Job("catalog")))
        if path in ("/api/derive", "/api/view"):
            try:
                job = derive_job(url.query) if path == "/api/derive" else view_job(url.query)
            except BadRequest as e:
                return self._error(400, str(e))
            return self._json(*self.server.answers.get(job))
        self._error(404, f"not found: {url.path}")


def make_server(
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    workers: int = 2,
    timeout: float = 30.0,
    quiet: bool = True,
) -> Server:
    """A server bound to (host, port), port 0 for any free one, with its worker processes
    started; call `serve_forever()` to answer, `close()` to stop."""
    server = Server((host, port), quiet=quiet)  # bound first: a port in use costs no worker
    try:
        pool = Workers(jobs.run, count=workers, timeout=timeout, warm=jobs.WARM)
    except BaseException:
        server.server_close()
        raise
    server.answers = Answers(pool)
    return server


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    open_browser: bool = False,
    workers: int = 2,
    timeout: float = 30.0,
) -> None:
    """Serve the page until interrupted (Ctrl-C)."""
    server = make_server(host, port, workers=workers, timeout=timeout, quiet=False)
    print(f"derive serve: {server.url}  (Ctrl-C to stop)", flush=True)
    if open_browser:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._serving = False  # the loop has ended: nothing to shut down
        server.close()
