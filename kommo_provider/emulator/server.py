"""Serves the emulator over HTTP on loopback: werkzeug's threaded WSGI server with keep-alive answers.

werkzeug parses requests (chunked bodies, ``Expect: 100-continue``, IPv6) and builds the WSGI environ;
its own ``run_wsgi`` closes the connection after every answer, so the request handler here replaces
that one method: it writes status line, headers and body in ONE send on a ``TCP_NODELAY`` socket and
keeps the connection open. (A keep-alive answer split over two sends meets Nagle's algorithm and the
client's delayed ACK and stalls about 40 ms per request.) Since connections outlive a request, the
server keeps the set of open ones so :meth:`EmulatorServer.stop` can close them.
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Any, Final

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler, select_address_family

from kommo_provider.emulator.admin import AdminResponse
from kommo_provider.emulator.amojo import AmojoBackend, AmojoResponse, DisconnectBody
from kommo_provider.emulator.app import EmulatorApp, Service
from kommo_provider.emulator.demo import (
    CHANNEL_SECRET_ENV,
    DEMO_ACCOUNT_IDS,
    DEMO_BASE_URL,
    DEMO_CHANNEL_ID,
    DEMO_CHANNEL_SECRET,
    DEMO_PORT,
)
from kommo_provider.emulator.faults import FaultPlan, skewed_clock
from kommo_provider.emulator.http import CLOSE_CONNECTION, HEADERS_AS_SENT, RESET_CONNECTION
from kommo_provider.emulator.requestlog import RequestLog
from kommo_provider.emulator.rest import AccountSpec, RestBackend, RestResponse

__all__ = [
    "CHANNEL_SECRET_ENV",
    "DEMO_ACCOUNT_IDS",
    "DEMO_BASE_URL",
    "DEMO_CHANNEL_ID",
    "DEMO_CHANNEL_SECRET",
    "DEMO_PORT",
    "EmulatorServer",
]

IDLE_TIMEOUT_SECONDS: Final = 120.0
"""An idle keep-alive connection is closed after this long, so forgotten clients free their thread."""


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class _RequestHandler(WSGIRequestHandler):
    """werkzeug's handler, answering in one send and keeping the connection alive."""

    protocol_version = "HTTP/1.1"
    # StreamRequestHandler.setup() sets TCP_NODELAY on the accepted socket when this is true.
    disable_nagle_algorithm = True
    timeout = IDLE_TIMEOUT_SECONDS
    server: _WSGIServer

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        environ[HEADERS_AS_SENT] = list(self.headers.items())
        return environ

    def run_wsgi(self) -> None:
        """Run the app for one request, then write its answer, close, or reset as it asked."""
        # (parse_request already sent "100 Continue" when the client asked for it.)
        environ = self.environ = self.make_environ()
        status, headers, body = self._call_app(environ)
        if environ.get(RESET_CONNECTION):
            self._reset()
            return
        if environ.get(CLOSE_CONNECTION):
            self.close_connection = True
        self._write(status, headers, body)

    def _call_app(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        started: list[tuple[str, list[tuple[str, str]]]] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started[:] = [(status, headers)]
            return None  # the WSGI write() callable is not offered; the app returns its body

        try:
            chunks = self.server.app(environ, start_response)
            try:
                body = b"".join(chunks)
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
        except Exception:
            self.server.handle_error(self.request, self.client_address)
            environ[CLOSE_CONNECTION] = True
            return "500 Internal Server Error", [("Content-Length", "0")], b""
        status, headers = started[0]
        return status, headers, body

    def _write(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        """Status line, headers and body in ONE write: two writes cost a ~40 ms Nagle stall."""
        code = int(status.split(" ", 1)[0])
        # werkzeug upper-cases reason phrases ("404 NOT FOUND"); send the usual ones.
        with contextlib.suppress(ValueError):
            status = f"{code} {HTTPStatus(code).phrase}"
        lines = [f"{self.protocol_version} {status}"]
        lines.extend(f"{name}: {value}" for name, value in headers)
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors="replace")
        try:
            self.wfile.write(head + body)
        except OSError:
            self.close_connection = True
            return
        self.log_request(code, len(body))

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
        self.log_request("reset", 0)

    def log(self, type: str, message: str, *args: Any) -> None:
        """Silent unless verbose: per-request lines would drown test and demo output."""
        if self.server.verbose:
            super().log(type, message, *args)


class _WSGIServer(ThreadedWSGIServer):
    """werkzeug's threaded server that stays quiet and can close the keep-alive connections it holds."""

    def __init__(self, host: str, port: int, app: EmulatorApp, fd: int, verbose: bool) -> None:
        self.verbose = verbose
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(host, port, app, _RequestHandler, fd=fd)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

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


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket; binding here (not in werkzeug) lets a busy port raise ``OSError``.

    werkzeug's own bind prints the error and calls ``sys.exit(1)``, which no caller could handle.
    """
    family = select_address_family(host, port)
    return socket.create_server((host, port), family=family, backlog=128)


class EmulatorServer:
    """A Kommo emulator (amojo Chat API and REST API v4) on loopback, its state and faults exposed.

    ``channels`` ({channel_id: secret}) are the amojo channels, ``accounts`` the REST accounts
    (:class:`~.rest.AccountSpec`; ``DEMO_ACCOUNT`` is the public demo one). :attr:`backend` holds
    the amojo state, :attr:`rest` the REST state, :attr:`faults` the fault plan; :meth:`reset`
    clears what tests change. ``port=0`` picks a free port; :attr:`port` and :attr:`url` give the
    real one once started. Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        channels: Mapping[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        accounts: Iterable[AccountSpec] = (),
        state_file: str | os.PathLike[str] | None = None,
        disconnect_body: DisconnectBody = "empty",
        clock: Callable[[], datetime] | None = None,
        verbose: bool = False,
    ) -> None:
        self.host = host
        self.verbose = verbose
        self._requested_port = port
        self._bound_port: int | None = None
        self.request_log = RequestLog()
        self.backend = AmojoBackend(channels, state_file=state_file, request_log=self.request_log)
        self.faults = FaultPlan()
        now = skewed_clock(clock or _utc_now, self.faults)
        self.rest = RestBackend(accounts, now=now)
        services: list[Service] = [
            AmojoResponse(self.backend, now=now, disconnect_body=disconnect_body),
            RestResponse(self.rest),
            AdminResponse(self.backend, self.rest, self.faults, self.request_log),
        ]
        self.app = EmulatorApp(services, faults=self.faults, request_log=self.request_log, now=now)
        self._httpd: _WSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    def reset(self) -> None:
        """Back to a clean start: no connections, REST objects, logged requests or faults.

        Channels, accounts and their tokens stay, as they were configured.
        """
        self.backend.reset()
        self.rest.reset()
        self.faults.reset()

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
        with _listen(self.host, self._requested_port) as listener:
            # werkzeug serves a duplicate of this descriptor; the original closes here.
            httpd = _WSGIServer(self.host, self._requested_port, self.app, listener.fileno(), self.verbose)
        self._httpd = httpd
        self._bound_port = int(httpd.server_address[1])
        self._ready.clear()
        self._thread = threading.Thread(
            target=self._serve, args=(httpd,), name=f"kommo-emulator:{self.port}", daemon=True
        )
        self._thread.start()
        self._ready.wait(timeout=10)
        return self

    def _serve(self, httpd: _WSGIServer) -> None:
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
        channels = self.backend.channel_ids()
        accounts = [account.subdomain for account in self.rest.accounts()]
        return f"EmulatorServer(url={self.url!r}, channels={channels!r}, accounts={accounts!r})"
