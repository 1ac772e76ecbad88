"""Connections held by resources still declared in this Pulumi run, so deleting a copy never disconnects them.

amojo has one connection per (channel, account): two resources that declare it share it, and the delete
of either disconnects it for both. That happens without the user doing anything wrong: moving a stack
from the dynamic resource to the plugin connects the new resource, then deletes the old one; so does
renaming a resource, or dropping one of two providers that declare the same account.

Every resource still declared in a run is checked (and diffed, or created) before the engine deletes
what the program dropped. So each front-end records the connections its declared resources hold, and a
delete that finds its connection held by another declared resource keeps it connected, removes only its
own state and says so. The record is a folder per run, shared by every provider process of that run (the
plugin, one per provider, and the dynamic provider): the run is named by what the engine hands every
plugin it starts for that run (its own address, which port it was given, the backend and the project).
Outside a Pulumi run (no engine address), nothing is recorded and deletes disconnect as asked.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from .exceptions import ConfigurationError
from .hosts import resolve_base_url

log = logging.getLogger("kommo_provider")

STALE_AFTER_SECONDS: Final = 24 * 3600
"""Records of runs older than this are removed when a new run starts: no run lasts that long."""


@dataclass(frozen=True)
class ClaimKey:
    """One object in Kommo as a claim names it: its kind and what identifies it, in canonical form."""

    kind: str
    parts: tuple[str, ...]

    def digest(self) -> str:
        return hashlib.sha256("|".join((self.kind, *self.parts)).encode()).hexdigest()

    def __str__(self) -> str:
        return f"{self.kind} {' '.join(self.parts)}"


class ConnectionKey(ClaimKey):
    """One amojo connection: host, channel and account."""

    @classmethod
    def of(cls, base_url: str, channel_id: str, account_id: str) -> ConnectionKey:
        with contextlib.suppress(ConfigurationError, AttributeError):
            base_url = resolve_base_url(base_url)
        return cls("connection", (base_url, channel_id.lower(), account_id.lower()))

    @property
    def base_url(self) -> str:
        return self.parts[0]

    @property
    def channel_id(self) -> str:
        return self.parts[1]

    @property
    def account_id(self) -> str:
        return self.parts[2]


ANONYMOUS: Final = "-"
"""The holder a front-end that does not know the resource's URN claims as (the dynamic provider)."""


class Claims:
    """What this run's declared resources hold, and which resource holds it; a no-op outside a run.

    Each key is a folder, and each resource holding it a file in it, named by a digest of its URN: a
    resource that failed to create lets go of its keys, and two declared resources on one key that may
    not be shared are told apart.
    """

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._claimed: set[tuple[str, str]] = set()
        """What this process recorded already: a resource's Check, Diff and Create claim the same keys,
        and a fleet's run claims thousands; each is written once."""
        self._lock = threading.Lock()

    @classmethod
    def for_run(cls, engine_address: str | None) -> Claims:
        """The record of the run whose engine listens at ``engine_address`` (``None``: no run)."""
        if not engine_address:
            return cls(None)
        root = Path(tempfile.gettempdir()) / f"kommo-provider-{_user()}" / "claims"
        name = _run_name(engine_address)
        folder = root / name
        try:
            root.mkdir(mode=0o700, parents=True, exist_ok=True)
            _remove_stale(root, keep=name)
            folder.mkdir(mode=0o700, exist_ok=True)
        except OSError as exc:  # a read-only temp folder: deletes then act as asked, unprotected
            log.warning(
                "cannot record which objects this run's resources hold (%s: %s): deleting a resource will "
                "delete its object in Kommo even when another resource of the stack still declares it",
                type(exc).__name__,
                root,
            )
            return cls(None)
        return cls(folder)

    @classmethod
    def for_dynamic_provider(cls) -> Claims:
        """The run a ``python -m pulumi.dynamic`` process serves: the engine passes its address as the
        first argument. In any other process (a test calling provider methods), no run."""
        main = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path()
        if main.parts[-3:] != ("pulumi", "dynamic", "__main__.py"):
            return cls(None)
        return cls.for_run(engine_address_from(sys.argv[1:]))

    def _holder_file(self, key: ClaimKey, holder: str) -> Path | None:
        if self.folder is None:
            return None
        return self.folder / key.digest() / hashlib.sha256(holder.encode()).hexdigest()[:32]

    def claim(self, key: ClaimKey, holder: str = ANONYMOUS) -> None:
        """A resource declared in this run (``holder``, its URN) holds ``key``."""
        path = self._holder_file(key, holder)
        if path is None:
            return
        with self._lock:
            if (key.digest(), holder) in self._claimed:
                return
            self._claimed.add((key.digest(), holder))
        with contextlib.suppress(OSError):
            path.parent.mkdir(mode=0o700, exist_ok=True)
            path.write_text(holder, encoding="utf-8")

    def others(self, key: ClaimKey, holder: str) -> tuple[str, ...]:
        """The URNs of the other declared resources that hold ``key``."""
        return tuple(other for other in self.holders(key) if other != holder)

    def release(self, key: ClaimKey, holder: str = ANONYMOUS) -> None:
        """``holder`` does not hold ``key`` after all (its create failed)."""
        path = self._holder_file(key, holder)
        if path is not None:
            with self._lock:
                self._claimed.discard((key.digest(), holder))
            with contextlib.suppress(OSError):
                path.unlink()

    def holders(self, key: ClaimKey) -> tuple[str, ...]:
        """The URNs of this run's declared resources that hold ``key``."""
        if self.folder is None:
            return ()
        try:
            files = sorted((self.folder / key.digest()).iterdir())
        except OSError:
            return ()
        found = []
        for path in files:
            with contextlib.suppress(OSError):
                found.append(path.read_text(encoding="utf-8"))
        return tuple(found)

    def held(self, key: ClaimKey, *, besides: str | None = None) -> bool:
        """Whether a resource declared in this run (other than ``besides``) holds ``key``."""
        return any(holder != besides for holder in self.holders(key))

    def warn_kept(self, key: ClaimKey) -> None:
        if isinstance(key, ConnectionKey):
            log.warning(
                "not disconnecting account %s from channel %s at %s: another resource declared in this "
                "stack holds the same connection, so only this resource's state is removed",
                key.account_id,
                key.channel_id,
                key.base_url,
            )
        else:
            log.warning(
                "not deleting %s: another resource declared in this stack holds it, so only this "
                "resource's state is removed",
                key,
            )


def engine_address_from(args: list[str]) -> str | None:
    """The engine's address among a plugin's arguments (flags such as ``--logflow`` aside)."""
    return next((a for a in args if not a.startswith("-") and ":" in a), None)


RUN_VARIABLES: Final = ("PULUMI_LOG_OTLP_ENDPOINT", "PULUMI_BACKEND_URL", "PULUMI_PROJECT", "PULUMI_STACK")
"""What the engine sets alike for every plugin of one run. The engine's address alone is a port that a
later run may be given again; with these, two runs share a name only on one backend and project, with
both of the engine's random ports the same."""


def _run_name(engine_address: str) -> str:
    parts = [engine_address, *(os.environ.get(v, "") for v in RUN_VARIABLES)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def _user() -> str:
    try:
        return str(os.getuid())
    except AttributeError:  # Windows
        return re.sub(r"[^A-Za-z0-9]", "_", os.environ.get("USERNAME", "user"))


def _remove_stale(root: Path, keep: str) -> None:
    cutoff = time.time() - STALE_AFTER_SECONDS
    for entry in root.iterdir():
        with contextlib.suppress(OSError):
            if entry.name != keep and entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry, ignore_errors=True)
