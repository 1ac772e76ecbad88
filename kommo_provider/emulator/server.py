"""Serves the amojo emulator over HTTP on loopback: a threaded keep-alive server and its CLI.

Each response (status line, headers and body) leaves in one ``write`` on a socket with
``TCP_NODELAY``: a keep-alive answer split into two writes meets Nagle's algorithm and the client's
delayed ACK and stalls about 40 ms per request, which would make every test and demo slow.
"""

from __future__ import annotations

import contextlib
import os
import socket
import socketserver
import struct
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final

from kommo_provider.emulator.faults import FaultPlan
from kommo_provider.emulator.models import AmojoBackend
from kommo_provider.emulator.responses import (
    AmojoResponse,
    DisconnectBody,
    EmulatorRequest,
    EmulatorResponse,
)

DEMO_CHANNEL_ID: Final = "f90ba33d-c9d9-44da-b76c-c349b0ecbe41"
"""The channel id of amoCRM's documentation examples, so demo scope ids look like the docs' ones."""

DEMO_CHANNEL_SECRET: Final = "0d3f6b1c9e2a47588a6e1b7c4d2f9a3e5b8c7d10"
"""Public, like moto's fake AWS keys: it only opens the emulator and is not any secret from the docs."""

DEMO_ACCOUNT_IDS: Final = (
    "3b5e8f2a-7c14-4d9e-a6b1-92f0c8d4e713",
    "c81d4e2f-5a96-4b37-8e0c-1f7a2d9b6e54",
)
"""Two made-up amojo account ids for the demo program."""

DEMO_PORT: Final = 8765
DEMO_BASE_URL: Final = f"http://127.0.0.1:{DEMO_PORT}"

CHANNEL_SECRET_ENV: Final = "KOMMO_CHANNEL_SECRET"
"""Environment variable holding the secret for each ``--channel ID`` given without ``:@FILE``."""

MAX_BODY_BYTES: Final = 1024 * 1024
IDLE_TIMEOUT_SECONDS: Final = 120.0
"""An idle keep-alive connection is closed after this long, so forgotten clients free their thread."""


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class _HTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its app, tracks open connections and stays quiet."""

    daemon_threads = True
    # Do not join handler threads on close: a client holding a keep-alive connection open would
    # block stop(). stop() shuts those connections down instead.
    block_on_close = False

    def __init__(self, address: tuple[str, int], app: AmojoResponse, verbose: bool) -> None:
        self.app = app
        self.verbose = verbose
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's ``socket.getfqdn`` reverse lookup, which can stall for seconds."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def track(self, connection: socket.socket) -> None:
        with self._open_lock:
            self._open.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._open_lock:
            self._open.discard(connection)

    def close_connections(self) -> None:
        """Shut down every open client connection so idle keep-alive handler threads end."""
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up mid-answer are normal here (timeouts, resets); print only if verbose."""
        if self.verbose:
            super().handle_error(request, client_address)


class _IPv6HTTPServer(_HTTPServer):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    """Reads one request, asks the app for the answer, writes it in a single send."""

    protocol_version = "HTTP/1.1"
    # StreamRequestHandler.setup() sets TCP_NODELAY on the accepted socket when this is true.
    disable_nagle_algorithm = True
    timeout = IDLE_TIMEOUT_SECONDS
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_OPTIONS(self) -> None:
        self._serve()

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            return
        request = EmulatorRequest(
            method=self.command,
            target=self.path,
            headers=dict(self.headers.items()),
            body=body,
        )
        response = self.server.app.dispatch(request)
        if response.reset_connection:
            self._reset()
        else:
            self._write(response)

    def _read_body(self) -> bytes | None:
        """Exactly the body the client declared (a DELETE carries one too); ``None`` = answered."""
        if (self.headers.get("Transfer-Encoding") or "").strip().lower() == "chunked":
            return self._read_chunked()
        declared = self.headers.get("Content-Length")
        if declared is None:
            return b""
        try:
            length = int(declared)
        except ValueError:
            length = -1
        if length < 0:
            self._fail(HTTPStatus.BAD_REQUEST, "Content-Length is not a non-negative integer")
            return None
        if length > MAX_BODY_BYTES:
            self._fail(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "Request body is too large")
            return None
        body = self.rfile.read(length)
        if len(body) != length:
            self.close_connection = True  # the client went away mid-body
            return None
        return body

    def _read_chunked(self) -> bytes | None:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                self._fail(HTTPStatus.BAD_REQUEST, "Malformed chunked body")
                return None
            if size == 0:
                # Skip trailers up to the empty line.
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                self._fail(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "Request body is too large")
                return None
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _fail(self, status: HTTPStatus, description: str) -> None:
        self.close_connection = True
        self._write(self.server.app.framing_error(status, description))

    def _write(self, response: EmulatorResponse) -> None:
        """Status line, headers and body in ONE write: two writes cost a ~40 ms Nagle stall."""
        try:
            phrase = HTTPStatus(response.status).phrase
        except ValueError:
            phrase = ""
        lines = [f"HTTP/1.1 {int(response.status)} {phrase}"]
        lines.extend(f"{name}: {value}" for name, value in response.headers.items())
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors="replace")
        try:
            self.wfile.write(head + response.body)
        except OSError:
            self.close_connection = True
            return
        if self.server.verbose:
            self.log_message('"%s" %d %d', self.requestline, response.status, len(response.body))

    def _reset(self) -> None:
        """Drop the connection with an RST and no answer: SO_LINGER (on, 0 s), then close."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # rfile holds a reference to the socket; the descriptor really closes once both are closed.
        with contextlib.suppress(OSError):
            self.rfile.close()
        with contextlib.suppress(OSError):
            self.connection.close()
        if self.server.verbose:
            self.log_message('"%s" reset', self.requestline)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent unless verbose: per-request stderr lines would drown test and demo output."""
        if self.server.verbose:
            super().log_message(format, *args)


class EmulatorServer:
    """An amojo emulator listening on loopback, with its backend and fault plan exposed.

    ``port=0`` picks a free port; :attr:`port` and :attr:`url` give the real one once started.
    Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        channels: Mapping[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        state_file: str | os.PathLike[str] | None = None,
        disconnect_body: DisconnectBody = "empty",
        clock: Callable[[], datetime] | None = None,
        verbose: bool = False,
    ) -> None:
        self.host = host
        self.verbose = verbose
        self._requested_port = port
        self._bound_port: int | None = None
        self.backend = AmojoBackend(channels, state_file=state_file)
        self.faults = FaultPlan()
        self.app = AmojoResponse(
            self.backend, self.faults, clock=clock or _utc_now, disconnect_body=disconnect_body
        )
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    @property
    def port(self) -> int:
        """The bound port once started (the requested one before)."""
        return self._bound_port if self._bound_port is not None else self._requested_port

    @property
    def url(self) -> str:
        """Base URL to give a client, e.g. ``http://127.0.0.1:8765``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> EmulatorServer:
        """Bind, start serving on a daemon thread, and return once it is listening."""
        if self._httpd is not None:
            raise RuntimeError("emulator server already started")
        server_class = _IPv6HTTPServer if ":" in self.host else _HTTPServer
        httpd = server_class((self.host, self._requested_port), self.app, self.verbose)
        self._httpd = httpd
        self._bound_port = int(httpd.server_address[1])
        self._ready.clear()
        self._thread = threading.Thread(
            target=self._serve, args=(httpd,), name=f"amojo-emulator:{self.port}", daemon=True
        )
        self._thread.start()
        self._ready.wait(timeout=10)
        return self

    def _serve(self, httpd: _HTTPServer) -> None:
        self._ready.set()
        # A short poll interval only makes stop() quicker; requests are answered as they arrive.
        httpd.serve_forever(poll_interval=0.05)

    def stop(self) -> None:
        """Stop serving, close the listening socket and every open connection."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections()
        if thread is not None:
            thread.join(timeout=10)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"EmulatorServer(url={self.url!r}, channels={self.backend.channel_ids()!r})"
