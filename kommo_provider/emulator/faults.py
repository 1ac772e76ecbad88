"""Fault injection for the emulator: scripted and random failures, a rate limiter, clock skew.

The client has to survive what a real gateway does (429s, 5xx, slow answers, dropped connections,
an HTML error page), and its tests need those on demand and reproducibly: a script consumed one
fault per API request, or a seeded random rate.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

FAULT_KINDS: Final = (
    "429",
    "500",
    "503",
    "delay",
    "reset",
    "garbage",
    "ok",
    "500-after",
    "reset-after",
    "delay-after",
)
"""What a fault can be.

Before the handler runs (nothing changes in the emulator):

* ``429``: Too Many Requests with a ``Retry-After`` header (:attr:`FaultPlan.retry_after` seconds);
* ``500`` / ``503``: server errors with a JSON error body;
* ``delay``: sleep :attr:`FaultPlan.delay_seconds`, then answer normally (trips client read timeouts);
* ``reset``: close the TCP connection with an RST and no answer at all;
* ``garbage``: ``200`` with an HTML body, as a misconfigured proxy would send;
* ``ok``: no fault, so a script can say "fail, succeed, fail".

After the handler ran and its change stays (a create whose outcome the client cannot know):

* ``500-after``: answer 500 instead of the real answer;
* ``reset-after``: close the connection with an RST instead of answering;
* ``delay-after``: sleep :attr:`FaultPlan.delay_seconds`, then answer normally, so a client read
  timeout fires after the change was made.
"""

AFTER_COMMIT: Final = frozenset({"500-after", "reset-after", "delay-after"})
"""The kinds applied once the handler ran."""

DEFAULT_RETRY_AFTER: Final = 1
DEFAULT_DELAY_SECONDS: Final = 3.0


def check_kinds(kinds: Iterable[str]) -> list[str]:
    """Return ``kinds`` as a list, or raise ``ValueError`` naming the first unknown kind."""
    checked = list(kinds)
    for kind in checked:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(FAULT_KINDS)}")
    return checked


class RateLimiter:
    """Limits API requests per channel with a token bucket, like a gateway in front of amojo.

    Each channel gets a bucket of ``max(rate, 1)`` tokens refilled at ``rate`` tokens per second, so
    a burst of ``rate`` requests passes and the next one in the same instant is refused. (Kommo's
    REST API documents 7 requests/second; amojo documents no limit, so this is off by default.)
    """

    def __init__(
        self,
        per_second: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._rate: float | None = None
        self._buckets: dict[str, tuple[float, float]] = {}
        self.set_rate_limit(per_second)

    @property
    def per_second(self) -> float | None:
        """The current limit, or ``None`` when every request is allowed."""
        return self._rate

    def set_rate_limit(self, per_second: float | None) -> None:
        """Set the limit (``None`` switches it off); every bucket starts full again."""
        if per_second is not None and not per_second > 0:
            raise ValueError("rate limit must be a positive number of requests per second, or None")
        with self._lock:
            self._rate = float(per_second) if per_second is not None else None
            self._buckets.clear()

    def allow(self, channel_id: str) -> bool:
        """Take one token from the channel's bucket; ``False`` means answer 429."""
        with self._lock:
            rate = self._rate
            if rate is None:
                return True
            capacity = max(rate, 1.0)
            now = self._clock()
            tokens, last = self._buckets.get(channel_id, (capacity, now))
            tokens = min(capacity, tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[channel_id] = (tokens - 1.0, now)
                return True
            self._buckets[channel_id] = (tokens, now)
            return False


class FaultPlan:
    """Decides, one API request at a time, whether the emulator misbehaves and how.

    A script (explicit list) takes precedence; when it is used up, the random rate applies. The
    plan also carries the knobs the faults use (:attr:`retry_after`, :attr:`delay_seconds`), the
    per-channel :attr:`rate_limiter`, and :attr:`clock_offset_seconds`, the emulator clock's skew
    from real UTC, used to test the 15-minute ``Date`` window. All methods are thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._script: deque[str] = deque()
        self._rate = 0.0
        self._kinds: tuple[str, ...] = ()
        self._seed: int | None = None
        self._random = random.Random()
        self.retry_after: int = DEFAULT_RETRY_AFTER
        """Seconds sent in ``Retry-After`` with 429 answers (faults and the rate limiter)."""
        self.delay_seconds: float = DEFAULT_DELAY_SECONDS
        """How long a ``delay`` fault sleeps before answering (``delay-after``: after the handler ran)."""
        self.clock_offset_seconds: float = 0.0
        """Emulator clock = real UTC + this; positive means the emulator runs ahead."""
        self.rate_limiter = RateLimiter()

    def script(self, faults: Sequence[str]) -> None:
        """Replace the script: the next API requests get these faults, one each, in order."""
        checked = check_kinds(faults)
        with self._lock:
            self._script = deque(checked)

    def set_rate(self, rate: float, kinds: Sequence[str], seed: int | None = None) -> None:
        """Fail ``rate`` (0..1) of API requests at random with one of ``kinds``.

        A ``seed`` makes the sequence of faults reproducible from this call on.
        """
        if not 0.0 <= rate <= 1.0:
            raise ValueError("fault rate must be between 0 and 1")
        checked = check_kinds(kinds)
        if rate > 0 and not checked:
            raise ValueError("a fault rate needs at least one fault kind")
        with self._lock:
            self._rate = float(rate)
            self._kinds = tuple(checked)
            self._seed = seed
            self._random = random.Random(seed)

    def set_rate_limit(self, per_second: float | None) -> None:
        """Answer 429 once a channel exceeds ``per_second`` API requests; ``None`` switches it off."""
        self.rate_limiter.set_rate_limit(per_second)

    def clear(self) -> None:
        """Drop the script and the random rate (the rate limiter and clock offset stay)."""
        with self._lock:
            self._script.clear()
            self._rate = 0.0
            self._kinds = ()
            self._seed = None

    def reset(self) -> None:
        """Back to a well-behaved server: :meth:`clear`, no rate limit, no skew, default knobs."""
        self.clear()
        self.rate_limiter.set_rate_limit(None)
        self.clock_offset_seconds = 0.0
        self.retry_after = DEFAULT_RETRY_AFTER
        self.delay_seconds = DEFAULT_DELAY_SECONDS

    def next_fault(self) -> str | None:
        """The fault for the current API request, or ``None`` to answer normally."""
        with self._lock:
            if self._script:
                kind = self._script.popleft()
            elif self._rate > 0 and self._random.random() < self._rate:
                kind = self._random.choice(self._kinds)
            else:
                return None
        return None if kind == "ok" else kind

    def to_dict(self) -> dict[str, Any]:
        """The current plan as plain JSON (for the admin routes)."""
        with self._lock:
            return {
                "script": list(self._script),
                "rate": self._rate,
                "kinds": list(self._kinds),
                "seed": self._seed,
                "retry_after": self.retry_after,
                "delay_seconds": self.delay_seconds,
                "rate_limit": self.rate_limiter.per_second,
                "clock_offset_seconds": self.clock_offset_seconds,
            }


def skewed_clock(clock: Callable[[], datetime], faults: FaultPlan) -> Callable[[], datetime]:
    """The emulator clock: ``clock()`` (aware UTC) shifted by ``faults.clock_offset_seconds``."""

    def now() -> datetime:
        return clock() + timedelta(seconds=faults.clock_offset_seconds)

    return now
