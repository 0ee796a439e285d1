"""Run an ASGI app under uvicorn on a socket bound beforehand, and say when it accepts connections.

Binding first makes ``--port 0`` work (the real port is known before the app is built, so the
public URL can name it) and fails fast when the port is taken. uvicorn's :class:`uvicorn.Server`
marks itself ``started`` at the end of ``startup``, once it is serving the socket; the subclass
below calls back at exactly that point, which is when ``--ready-file`` is written.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

import uvicorn
from fastapi import FastAPI

log = logging.getLogger(__name__)

_WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1"}


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (0 picks a free port).

    Raises:
        OSError: the address does not resolve, is taken, or may not be bound.
    """
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def base_url(sock: socket.socket) -> str:
    """``http://host:port`` of a bound socket; a wildcard address becomes the loopback one."""
    host, port = sock.getsockname()[:2]
    host = _WILDCARDS.get(host, host)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that a reader sees the old file, none, or all of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._on_started()


@contextlib.contextmanager
def _stop_on_signals(server: uvicorn.Server) -> Iterator[None]:
    """SIGINT and SIGTERM ask the server to stop; the process then exits normally (status 0).

    uvicorn installs its own handlers while serving and, once shut down, re-raises the signal it
    caught through the handlers it found: these, so the re-raise does not kill the process.
    """

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.debug("Received %s", signal.Signals(signum).name)
        server.should_exit = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def serve(app: FastAPI, sock: socket.socket, on_started: Callable[[], None]) -> None:
    """Serve ``app`` on ``sock`` until SIGINT or SIGTERM; call ``on_started`` once it accepts.

    Logging is left to the caller's configuration (``log_config=None``). Forwarded headers are
    not trusted: only a configured trusted proxy may set them, and there is no such setting yet.
    """
    config = uvicorn.Config(
        app,
        log_config=None,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=10,
    )
    server = _Server(config, on_started)
    with _stop_on_signals(server):
        server.run(sockets=[sock])
