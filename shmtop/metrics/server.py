"""The exporter's HTTP endpoint: GET (or HEAD) /metrics, and nothing that changes anything.

Read-only by construction: the handler answers GET and HEAD with text it is handed, and
every other method with 405; the path's query is ignored. It stays up under many, slow or
broken clients:

- at most `max_connections` are served at once, each by its own thread; one more is closed
  as soon as it is accepted, so threads never pile up;
- each connection has `connection_seconds` in all, reading and writing: a client that
  trickles its request a byte at a time is cut off when the time is up, not at each pause;
- a client that goes away mid-answer ends its own connection quietly (SIGPIPE must be
  ignored by the process: the command does that).
"""

from __future__ import annotations

import io
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from shmtop.metrics.exposition import CONTENT_TYPE

MAX_CONNECTIONS = 16
CONNECTION_SECONDS = 10.0
INDEX = b"shmtop exporter: the metrics are at /metrics\n"


class MetricsServer(ThreadingHTTPServer):
    Metrics = Callable[[], bytes]  # the text to serve, made or cached by the caller

    daemon_threads = True  # a connection still open never holds the process at exit
    request_queue_size = 64

    def __init__(
        self,
        address: tuple[str, int],
        family: socket.AddressFamily,
        metrics: Metrics,
        *,
        max_connections: int = MAX_CONNECTIONS,
        connection_seconds: float = CONNECTION_SECONDS,
        report: Callable[[str], object] = lambda line: None,
    ) -> None:
        self.address_family = family
        self.metrics = metrics
        self.connection_seconds = connection_seconds
        self.report = report
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, MetricsHandler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's getfqdn(): a reverse lookup could stall start-up."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)  # every slot busy: closed at once
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that reset or timed out is its own business; anything else, one line."""
        error = sys.exc_info()[1]
        if not isinstance(error, OSError):
            self.report(f"answering {client_address[0]}: {type(error).__name__}: {error}")


class _DeadlineReader(io.RawIOBase):
    """The socket's bytes, each read given only what remains of the connection's time."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the client took too long")
        self._sock.settimeout(remaining)
        return self._sock.recv_into(buffer)


class MetricsHandler(BaseHTTPRequestHandler):
    server: MetricsServer
    protocol_version = "HTTP/1.0"  # one request per connection

    def version_string(self) -> str:
        return "shmtop"  # not the Python version: nobody scraping needs to know it

    def setup(self) -> None:
        super().setup()
        self.deadline = time.monotonic() + self.server.connection_seconds
        self.rfile.close()  # the buffered reader of the socket: replaced by one with a deadline
        self.rfile = io.BufferedReader(_DeadlineReader(self.connection, self.deadline))

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def _refuse(self) -> None:
        self._send(405, "text/plain", b"read-only: GET or HEAD /metrics\n", True, Allow="GET, HEAD")

    do_POST = do_PUT = do_DELETE = do_PATCH = _refuse

    def _answer(self, with_body: bool) -> None:
        path = urlsplit(self.path).path
        if path == "/metrics":
            self._send(200, CONTENT_TYPE, self.server.metrics(), with_body)  # never raises
        elif path == "/":
            self._send(200, "text/plain; charset=utf-8", INDEX, with_body)
        else:
            self._send(404, "text/plain", b"not found: the metrics are at /metrics\n", with_body)

    def _send(
        self, status: int, content_type: str, body: bytes, with_body: bool, **headers: str
    ) -> None:
        self.connection.settimeout(max(0.1, self.deadline - time.monotonic()))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Nothing per request: a scrape every few seconds would fill the journal."""
