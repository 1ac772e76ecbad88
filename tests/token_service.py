"""A vendor's token service for the tests: a loopback ``http.server`` on port 0 with answers set per test.

It answers as a vendor's backend (and the emulator's ``GET /_emulator/vendor-tokens/{host}``) does:
``{"accessToken", "expiresAt"}`` for an account it knows, 404 for one it does not. A test sets any other
answer (a 500, a body that is no JSON, an RFC 3339 ``expiresAt``, a bare token) or a key it requires,
and reads what it was asked. Error bodies carry :data:`BODY_MARKER`, which no message may repeat.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Final

PREFIX: Final = "/_emulator/vendor-tokens"
EXPIRES_AT: Final = 1_893_456_000  # 2030-01-01T00:00:00Z
BODY_MARKER: Final = "BODY-MARKER-the-answer-body-must-not-be-shown"
_NOT_FOUND: Final = (404, "application/json", f'{{"detail": "{BODY_MARKER}"}}'.encode())
_UNAUTHORIZED: Final = (401, "application/json", f'{{"detail": "{BODY_MARKER}"}}'.encode())


@dataclass
class TokenService:
    """What the service answers (``path -> (status, content type, body)``) and what it was asked."""

    url: str = ""
    """``http://127.0.0.1:<port>/_emulator/vendor-tokens``: the ``--url`` of ``kommo-chat token``."""
    answers: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)
    key: str | None = None
    """When set, a request without ``Authorization: Bearer <key>`` gets 401."""
    seen: list[tuple[str, str | None]] = field(default_factory=list)
    """``(path, Authorization header)`` of every request."""

    def answer(
        self, account: str, status: int, body: bytes | str, content_type: str = "application/json"
    ) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.answers[f"{PREFIX}/{account}"] = (status, content_type, data)

    def token(self, account: str, token: str, expires_at: object = EXPIRES_AT) -> None:
        self.answer(account, 200, json.dumps({"accessToken": token, "expiresAt": expires_at}))

    def reset(self) -> None:
        self.answers.clear()
        self.seen.clear()
        self.key = None

    def reply(self, path: str, authorization: str | None) -> tuple[int, str, bytes]:
        self.seen.append((path, authorization))
        if self.key is not None and authorization != f"Bearer {self.key}":
            return _UNAUTHORIZED
        return self.answers.get(path, _NOT_FOUND)


def _handler(service: TokenService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, content_type, body = service.reply(self.path, self.headers.get("Authorization"))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            if 300 <= status < 400:
                self.send_header("Location", f"{PREFIX}/elsewhere")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: pytest shows what a test prints, and the requests are in ``seen``."""

    return Handler


@contextmanager
def serve_tokens() -> Iterator[TokenService]:
    """A running token service on a free loopback port, stopped on exit."""
    service = TokenService()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(service))
    service.url = f"http://127.0.0.1:{server.server_address[1]}{PREFIX}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
