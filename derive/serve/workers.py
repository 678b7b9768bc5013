"""Worker processes that run one job at a time, each under a hard time limit.

A derivation is pure computation in SymPy and JAX: a thread running one cannot be stopped, so
each job runs in a worker process, and a job that outlives its time limit is ended by killing
its process (SIGKILL), which a fresh worker then replaces. `concurrent.futures`'
ProcessPoolExecutor cannot kill one task, and a killed worker breaks the whole pool; here a
worker is a process and a pipe, and losing one costs only its own restart.

Workers are started with "spawn" (never "fork": the server is threaded, and JAX's threads do
not survive a fork). Each imports its `warm` modules before it reports ready, so a job's
time limit is not spent importing JAX.
"""

from __future__ import annotations

import importlib
import multiprocessing
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

__all__ = ["Busy", "Crashed", "TimedOut", "Workers"]

_READY = "ready"
_CONTEXT = multiprocessing.get_context("spawn")


@dataclass(frozen=True)
class TimedOut:
    """The job ran past the time limit and its worker was killed."""

    seconds: float


@dataclass(frozen=True)
class Crashed:
    """The worker died during the job (killed by the system, or a crash in native code)."""

    exitcode: int | None


@dataclass(frozen=True)
class Busy:
    """No worker became free within the wait allowed."""

    waited: float


def _work(conn: Connection, handler: Callable[[Any], Any], warm: Sequence[str]) -> None:
    """A worker's life: import `warm`, say ready, then answer each job with handler(job)."""
    for name in warm:
        importlib.import_module(name)
    conn.send(_READY)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):  # the server went away
            return
        conn.send(handler(job))


@dataclass(eq=False)  # hashed by identity, kept in a set
class _Worker:
    process: Any  # multiprocessing's SpawnProcess
    conn: Connection


class Workers:
    """`count` worker processes; `run(job)` is handler(job) computed in one of them, or
    `TimedOut` after `timeout` seconds (the worker killed and replaced), `Crashed` if the
    worker died (or none could start), `Busy` if no worker was free within `wait` seconds.

    `handler` must be a module-level function (the spawned process imports it by name);
    what it returns must pickle. Safe to call `run` from many threads at once.
    """

    def __init__(
        self,
        handler: Callable[[Any], Any],
        *,
        count: int = 2,
        timeout: float = 30.0,
        wait: float | None = None,
        warm: Sequence[str] = (),
    ) -> None:
        if count < 1:
            raise ValueError("at least one worker")
        self.handler, self.timeout, self.warm = handler, timeout, tuple(warm)
        # Long enough for every worker to finish a job and one to be restarted.
        self.wait = wait if wait is not None else 2 * timeout + 60
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._all: set[_Worker] = set()
        self._closed = False
        self.killed = 0  # jobs cut off by the time limit, or whose worker died
        self.broken: int | None = None  # every worker died starting: the exit code of one
        for _ in range(count):
            self._start()

    def _start(self) -> None:
        """Start a worker; a thread waits for it to say ready, then offers it for jobs."""
        ours, theirs = _CONTEXT.Pipe()
        process = _CONTEXT.Process(
            target=_work, args=(theirs, self.handler, self.warm), daemon=True
        )
        process.start()
        theirs.close()
        worker = _Worker(process, ours)
        with self._lock:
            self._all.add(worker)
            closed = self._closed  # closed meanwhile: this one was not in close()'s list
        if closed:
            self._discard(worker)
            return
        threading.Thread(target=self._await_ready, args=(worker,), daemon=True).start()

    def _await_ready(self, worker: _Worker) -> None:
        try:
            ready = worker.conn.recv() == _READY
        except (EOFError, OSError):
            ready = False
        if ready and not self._closed:
            self._idle.put(worker)
            return
        if self._closed:
            self._discard(worker)
            return
        # It died while importing: a restart would fare no better. Without any worker left,
        # say so to every request rather than keep them waiting.
        worker.process.join(timeout=5)  # its own exit code, before any kill
        self._discard(worker)
        with self._lock:
            if not self._all and not self._closed:
                self.broken = worker.process.exitcode

    def _discard(self, worker: _Worker) -> None:
        """Kill the worker and close its pipe, once: `close` and a replacement may race."""
        with self._lock:
            if worker not in self._all:
                return
            self._all.discard(worker)
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(timeout=5)
        worker.conn.close()

    def _replace(self, worker: _Worker) -> None:
        self._discard(worker)
        if not self._closed:
            self._start()

    def run(self, job: Any) -> Any:
        """handler(job) from a worker, or `TimedOut`, `Crashed` or `Busy`."""
        start = time.monotonic()
        while True:
            if self.broken is not None:
                return Crashed(self.broken)
            left = self.wait - (time.monotonic() - start)
            if left <= 0:
                return Busy(time.monotonic() - start)
            try:
                worker = self._idle.get(timeout=min(left, 0.5))
                break
            except queue.Empty:
                continue
        try:
            worker.conn.send(job)
            if worker.conn.poll(self.timeout):
                answer = worker.conn.recv()
                self._idle.put(worker)
                return answer
            outcome: Any = TimedOut(self.timeout)
        except (EOFError, OSError):
            worker.process.join(timeout=1)
            outcome = Crashed(worker.process.exitcode)
        with self._lock:
            self.killed += 1
        # Replaced off the request's thread: the answer need not wait for the new worker.
        threading.Thread(target=self._replace, args=(worker,), daemon=True).start()
        return outcome

    def close(self) -> None:
        """Kill every worker."""
        with self._lock:
            self._closed = True
            workers = list(self._all)
        for worker in workers:
            self._discard(worker)
