"""``requests`` authentication that signs each request the way amojo verifies it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from requests import PreparedRequest
from requests.auth import AuthBase

from . import signing


def utc_now() -> datetime:
    """The default clock: an aware UTC datetime."""
    return datetime.now(timezone.utc)


class KommoSignatureAuth(AuthBase):
    """Attaches amojo's Date, Content-Type, Content-MD5 and X-Signature headers to a request.

    requests runs auth after the body is final, so the MD5 covers the exact bytes sent. The clock
    is injectable so tests can pin published vectors. The secret is never shown by ``repr``.
    """

    def __init__(self, secret: str, clock: Callable[[], datetime] = utc_now) -> None:
        if not secret:
            raise ValueError("the channel secret is empty")
        self._secret = secret
        self._clock = clock

    def __call__(self, r: PreparedRequest) -> PreparedRequest:
        body = r.body
        if body is None:
            data = b""
        elif isinstance(body, str):
            data = body.encode("utf-8")
            r.body = data  # send the very bytes that were hashed
        elif isinstance(body, bytes):
            data = body
        else:
            raise TypeError("KommoSignatureAuth needs a bytes body; streamed bodies cannot be hashed")
        for name in signing.SIGNING_HEADERS:  # re-signing replaces, never duplicates
            r.headers.pop(name, None)
        r.headers.update(
            signing.signed_headers(self._secret, r.method or "GET", r.url or "/", data, self._clock())
        )
        return r

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KommoSignatureAuth) and other._secret == self._secret

    def __hash__(self) -> int:
        return hash((KommoSignatureAuth, self._secret))

    def __repr__(self) -> str:
        return "KommoSignatureAuth(secret=<redacted>)"
