"""Processes and sockets that fault scenarios start, cut and restore."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, *, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


class PrivateRedis:
    """A throwaway redis-server on its own port (never the shared 6379)."""

    def __init__(self, port: int = 6390) -> None:
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None
        self.dir = tempfile.mkdtemp(prefix="fault-redis-")

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def __enter__(self) -> PrivateRedis:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class TcpProxy:
    """Forward 127.0.0.1:<port> to a target; `cut()` drops every connection and
    drops new ones at once (as a dead or restarting server would), `restore()`
    undoes it. The listening socket stays bound, so the port never changes."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0  # chosen by the kernel in start(): no window for a clash
        self._listener: socket.socket | None = None
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._cut = threading.Event()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        self.port = int(listener.getsockname()[1])
        listener.listen(128)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if self._cut.is_set():
                # As a server mid-restart: the connection is dropped at once.
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self._cut.set()
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for sock in pair:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with suppress(OSError):
                    sock.close()

    def restore(self) -> None:
        self._cut.clear()

    def close(self) -> None:
        self.cut()
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def __enter__(self) -> TcpProxy:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class Outcome:
    status: int
    body: bytes
    headers: dict[str, str]
    at: float


@dataclass
class LoadLog:
    """Every response a load loop got, by phase name."""

    phases: dict[str, list[Outcome]] = field(default_factory=dict)
    phase: str = "before"

    def add(self, outcome: Outcome) -> None:
        self.phases.setdefault(self.phase, []).append(outcome)

    def statuses(self, phase: str) -> Counter[int]:
        return Counter(o.status for o in self.phases.get(phase, []))


def http(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> Outcome:
    request = urllib.request.Request(
        url, data=body, method=method, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Outcome(
                response.status, response.read(), dict(response.headers), time.time()
            )
    except urllib.error.HTTPError as error:
        return Outcome(error.code, error.read(), dict(error.headers), time.time())
    except (OSError, TimeoutError) as error:  # connection refused / reset
        return Outcome(0, str(error).encode(), {}, time.time())


@contextmanager
def load_loop(
    requests: list[Callable[[], Outcome]], log: LoadLog, *, threads: int = 4
) -> Iterator[LoadLog]:
    """Run `requests` round-robin on `threads` threads until the block ends."""
    stop = threading.Event()

    def worker(offset: int) -> None:
        n = offset
        while not stop.is_set():
            log.add(requests[n % len(requests)]())
            n += 1

    workers = [
        threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)
    ]
    for thread in workers:
        thread.start()
    try:
        yield log
    finally:
        stop.set()
        for thread in workers:
            thread.join(timeout=30)


def forked_daphne(setup: Callable[[], None]) -> Any:
    """A Daphne serving the project's ASGI app in a forked process.

    `setup` runs in the child before serving (point settings at the fault
    infrastructure there). Returns the started DaphneProcess; its URL is
    f"http://127.0.0.1:{process.port.value}".
    """
    from functools import partial

    from channels.testing.live import make_application
    from daphne.testing import DaphneProcess
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    process = DaphneProcess(
        "127.0.0.1",
        partial(make_application, static_wrapper=ASGIStaticFilesHandler),
        setup=setup,
    )
    process.start()
    while not process.ready.wait(timeout=1):
        if not process.is_alive():
            raise RuntimeError("Daphne stopped before it was ready")
    return process


def stop_process(process: Any) -> None:
    process.terminate()
    process.join(timeout=10)
    if process.is_alive():
        os.kill(process.pid, signal.SIGKILL)
        process.join(timeout=5)
