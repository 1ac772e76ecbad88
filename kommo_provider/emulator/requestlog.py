"""The emulator's log of API requests (amojo and REST alike), bounded and thread-safe."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Final

REQUEST_LOG_SIZE: Final = 10_000
"""Requests kept in the log; older ones fall off so a long-running demo server cannot grow forever."""


@dataclass(frozen=True)
class RecordedRequest:
    """One API request as the emulator received it, with the status it got and any injected fault.

    ``status`` is 0 when a ``reset`` fault closed the connection without any answer. REST requests
    are logged with their ``Authorization`` value redacted: the log never holds an access token.
    """

    method: str
    path: str
    headers: dict[str, str]
    body: str
    status: int
    fault: str | None
    received_at: float

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (used by the admin state route)."""
        return {
            "method": self.method,
            "path": self.path,
            "headers": dict(self.headers),
            "body": self.body,
            "status": self.status,
            "fault": self.fault,
            "received_at": self.received_at,
        }


class RequestLog:
    """The requests received, oldest first, at most :data:`REQUEST_LOG_SIZE` of them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: deque[RecordedRequest] = deque(maxlen=REQUEST_LOG_SIZE)

    def record(self, request: RecordedRequest) -> None:
        """Append one request (the oldest falls off when the log is full)."""
        with self._lock:
            self._requests.append(request)

    def requests(self) -> list[RecordedRequest]:
        """The logged requests, oldest first."""
        with self._lock:
            return list(self._requests)

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()
