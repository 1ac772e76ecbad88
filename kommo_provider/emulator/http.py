"""The HTTP vocabulary the emulated APIs share: werkzeug request and response types, routes, environ keys.

The WSGI app and the server talk through three ``environ`` keys: the app cannot drop a TCP connection or
see header names as the client spelled them, the request handler can.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from werkzeug.wrappers import Request, Response

from kommo_provider import signing

MAX_BODY_BYTES: Final = 1024 * 1024
"""Larger request bodies get 413: unread when their Content-Length says so, read up to here when chunked."""

RESET_CONNECTION: Final = "kommo_emulator.reset_connection"
"""environ key the app sets to have the handler drop the connection with a TCP reset instead of answering."""

CLOSE_CONNECTION: Final = "kommo_emulator.close_connection"
"""environ key the app sets when it left request body bytes unread, so the connection cannot be reused."""

HEADERS_AS_SENT: Final = "kommo_emulator.headers_as_sent"
"""environ key holding the request headers as ``(name, value)`` pairs spelled as the client sent them."""


class EmulatorRequest(Request):
    """A werkzeug request that knows its raw target (what amojo signs)."""

    # One byte over the limit: werkzeug stops a chunked body AT the limit without an error, so the
    # app reads one byte more and answers 413 when it got it (see EmulatorApp._read_body).
    max_content_length = MAX_BODY_BYTES + 1

    @property
    def target(self) -> str:
        """The request target as sent: path and query, not percent-decoded."""
        return str(self.environ.get("REQUEST_URI") or self.full_path)

    @property
    def raw_path(self) -> str:
        """The target without query string: what routes match and what an amojo signature covers."""
        return signing.signing_path(self.target)

    @property
    def body(self) -> bytes:
        """The body bytes (read once, then cached; the app reads it before any handler runs)."""
        return self.get_data()

    def header(self, name: str) -> str | None:
        """Case-insensitive header lookup (HTTP header names are case-insensitive)."""
        return self.headers.get(name)

    def headers_as_sent(self) -> dict[str, str]:
        """The headers with their names spelled as the client sent them, for the request log."""
        pairs = self.environ.get(HEADERS_AS_SENT)
        if pairs is None:
            return dict(self.headers.items())
        return dict(pairs)


class EmulatorResponse(Response):
    """A werkzeug response without werkzeug's default ``text/plain`` type: empty bodies stay untyped."""

    default_mimetype = None


class ServiceError(Exception):
    """An error answer a handler raises; each API renders it in its own error format."""

    def to_response(self) -> EmulatorResponse:
        raise NotImplementedError


def json_response(status: int, payload: Any, content_type: str = "application/json") -> EmulatorResponse:
    """A compact JSON answer (the bytes ``signing.encode_json`` makes) of the given content type."""
    return EmulatorResponse(signing.encode_json(payload), status=status, content_type=content_type)


def json_body(body: bytes) -> Any:
    """Decode a UTF-8 JSON body; ``ValueError`` (incl. ``UnicodeDecodeError``) when it is not one."""
    return json.loads(body.decode("utf-8"))


Handler = Callable[[EmulatorRequest, Mapping[str, str]], EmulatorResponse]
"""One API operation: the request and the route's named groups in, the answer out."""


@dataclass(frozen=True)
class Route:
    """One compiled path pattern with its handler names by HTTP method.

    ``api`` routes get the rate limiter, the injected faults and the request log; admin routes do not.
    """

    pattern: re.Pattern[str]
    methods: Mapping[str, str]
    api: bool


def compile_routes(paths: Mapping[str, Mapping[str, str]], *, api: bool) -> tuple[Route, ...]:
    """Compile a moto-style ``url_paths`` table (pattern -> {method: handler name})."""
    return tuple(Route(re.compile(pattern), methods, api) for pattern, methods in paths.items())


def match(routes: tuple[Route, ...], path: str) -> tuple[Route, dict[str, str]] | None:
    """The first route whose pattern matches ``path``, with its named groups."""
    for route in routes:
        found = route.pattern.match(path)
        if found is not None:
            return route, found.groupdict()
    return None
