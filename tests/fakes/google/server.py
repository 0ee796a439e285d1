"""The HTTP side: a threading HTTP/1.1 server on 127.0.0.1 that records, faults and dispatches.

Keep-alive works because every answer carries ``Content-Length``. The server tracks its
connections, so :meth:`HttpServer.stop` can unblock and join every handler thread and close
every socket (no ResourceWarning, no thread left behind).
"""

from __future__ import annotations

import logging
import selectors
import socket
import threading
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .faults import FaultHandle, Faults
from .wire import RecordedRequest, Response

logger = logging.getLogger(__name__)

Dispatch = Callable[[RecordedRequest], Response]
FaultAnswer = Callable[[FaultHandle, RecordedRequest], Response]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(
        self,
        dispatch: Dispatch,
        record: Callable[[RecordedRequest], None],
        faults: Faults,
        fault_answer: FaultAnswer,
        fault_paths: Callable[[str], bool],
    ) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.dispatch = dispatch
        self.record = record
        self.faults = faults
        self.fault_answer = fault_answer
        self.fault_paths = fault_paths
        self.stopping = threading.Event()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._connections: dict[threading.Thread, socket.socket] = {}
        self._connections_lock = threading.Lock()

    def serve(self) -> None:
        """Accept connections until :meth:`wake` (no polling, so stopping is immediate)."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket, selectors.EVENT_READ)
            selector.register(self._wake_reader, selectors.EVENT_READ)
            while not self.stopping.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self._wake_reader:
                        return
                    self.handle_request()  # ready: accepts without waiting

    def wake(self) -> None:
        self.stopping.set()
        self._wake_writer.send(b"x")

    def server_close(self) -> None:
        super().server_close()
        self._wake_reader.close()
        self._wake_writer.close()

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name="fake-google-connection",
            daemon=True,
        )
        with self._connections_lock:
            self._connections[thread] = request
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.pop(threading.current_thread(), None)

    def close_connections(self, timeout: float) -> None:
        """Unblock every handler (keep-alive reads, fault delays) and join it."""
        with self._connections_lock:
            connections = list(self._connections.items())
        for _, sock in connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread, _ in connections:
            thread.join(timeout)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without TCP_NODELAY, Nagle's algorithm and
    # the client's delayed ACK add 40 ms to every answer.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        logger.debug("fake Google: " + format, *args)

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        split = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in self.headers.items()}
        method = self.command
        override = headers.get("x-http-method-override")
        if method == "POST" and override:
            # googleapiclient turns a GET with a long URL into a POST with the query as body.
            method = override.upper()
            if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                query.update(urllib.parse.parse_qs(raw.decode(), keep_blank_values=True))
                raw = b""
        request = RecordedRequest(
            method, split.path, query, headers, raw.decode("utf-8", errors="replace")
        )
        self.server.record(request)
        fault = (
            self.server.faults.take(method, split.path)
            if self.server.fault_paths(split.path)
            else None
        )
        if fault is not None and not fault.apply_first and not self._before_answer(fault):
            return
        if fault is not None and not fault.apply_first and fault.status is not None:
            self._send(self.server.fault_answer(fault, request))
            return
        try:
            response = self.server.dispatch(request)
        except Exception:  # a bug in the fake shows as a 500, and in the log
            logger.exception("fake Google: %s %s failed", method, split.path)
            response = Response(500, {"error": {"code": 500, "message": "fake crashed"}})
        if fault is not None and fault.apply_first:
            if not self._before_answer(fault):
                return
            if fault.status is not None:
                response = self.server.fault_answer(fault, request)
        self._send(response)

    def _before_answer(self, fault: FaultHandle) -> bool:
        """Apply a fault's delay and drop; False when no answer must be sent."""
        if fault.delay and self.server.stopping.wait(fault.delay):
            self.close_connection = True
            return False
        if fault.drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return False
        return True

    def _send(self, response: Response) -> None:
        data = response.encode()
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            if response.body is not None:
                self.send_header("Content-Type", "application/json; charset=UTF-8")
            if response.status not in (204, 304):  # RFC 9110: these never have a body
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass


class HttpServer:
    """The fake's HTTP server, serving from a daemon thread."""

    def __init__(
        self,
        dispatch: Dispatch,
        record: Callable[[RecordedRequest], None],
        faults: Faults,
        fault_answer: FaultAnswer,
        fault_paths: Callable[[str], bool],
    ) -> None:
        self._server = _Server(dispatch, record, faults, fault_answer, fault_paths)
        self._thread = threading.Thread(
            target=self._server.serve,
            name="fake-google-server",
            daemon=True,
        )
        self.port: int = self._server.server_address[1]

    def start(self) -> None:
        """Serve; the socket is already listening when this returns."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, close every connection and the listening socket, join the threads."""
        self._server.wake()
        self._thread.join()
        self._server.close_connections(timeout=10)
        self._server.server_close()
