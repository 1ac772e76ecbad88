"""State of the amojo emulator: channels and connections; no HTTP here.

Like a moto ``models.py``, this module never sees a request: :class:`AmojoBackend` takes typed
arguments, returns model objects with ``to_dict()``, and guards everything with one lock because
the HTTP server answers each connection on its own thread.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Final

from kommo_provider.emulator.ids import canonical_id
from kommo_provider.emulator.requestlog import RecordedRequest, RequestLog

DEFAULT_CHANNEL_NAME: Final = "Emulated channel"
"""Title a connection gets when connect sends no title or ``""`` (amoCRM: "defaults to the channel name")."""

STATE_FILE_VERSION: Final = 1


class UnknownChannelError(LookupError):
    """The channel id was never registered with this backend (amojo answers 404)."""

    def __init__(self, channel_id: str) -> None:
        super().__init__(f"unknown channel: {channel_id}")
        self.channel_id = channel_id


@dataclass
class Connection:
    """One channel↔account connection, as the last connect or disconnect left it."""

    channel_id: str
    account_id: str
    scope_id: str
    title: str
    hook_api_version: str
    is_time_window_disabled: bool
    connected: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (used by the admin state route and the state file)."""
        return asdict(self)


@dataclass
class _Channel:
    secret: str
    name: str


class AmojoBackend:
    """Holds the channels and their connections to accounts; API requests go to its request log.

    Emulated: ``connect`` and ``disconnect`` of a custom chat channel, with scope ids of the form
    ``<channel_id>_<account_id>`` as every Kommo example shows. Channel and account ids that are
    UUIDs compare case-insensitively and are kept (and put in scope ids) in lower case.

    Not emulated (the emulator answers 404 for their routes or has no notion of them):

    * messages, chats, history, delivery status, typing and reactions (the ``{scope_id}/...`` routes);
    * outgoing webhooks to the channel's webhook URL (connect does not start any, disconnect stops
      none), and the "Lead source disabled" UI effects;
    * the legacy body-only ``X-Signature`` scheme that some old clients still send;
    * whether ``account_id`` names a real account, or one where the integration is installed:
      any non-empty string is accepted;
    * Kommo's real error body schema, which is undocumented: the emulator answers
      ``{"error_code", "error_type", "error_description"}``, the keys one public client parses;
    * a real rate limit (amojo documents none); use the fault plan's rate limiter to get 429s;
    * the channel registration process (channels are added directly, with their secret).
    """

    def __init__(
        self,
        channels: Mapping[str, str] | None = None,
        state_file: str | os.PathLike[str] | None = None,
        request_log: RequestLog | None = None,
    ) -> None:
        """Start with ``channels`` ({channel_id: secret}) and the connections ``state_file`` holds.

        ``request_log`` is the log the emulator's HTTP app writes to (shared with the REST API), so
        :meth:`requests` shows every API request the server received.
        """
        self._lock = threading.Lock()
        self._channels: dict[str, _Channel] = {}
        self._connections: dict[tuple[str, str], Connection] = {}
        self.request_log = request_log if request_log is not None else RequestLog()
        self._state_file = Path(state_file) if state_file is not None else None
        if self._state_file is not None:
            self._load(self._state_file)
        for channel_id, secret in (channels or {}).items():
            self._channels[canonical_id(channel_id)] = _Channel(secret=secret, name=DEFAULT_CHANNEL_NAME)
        if channels and self._state_file is not None:
            with self._lock:
                self._save_locked()

    # Channels -----------------------------------------------------------------------------------

    def add_channel(self, channel_id: str, secret: str, name: str = DEFAULT_CHANNEL_NAME) -> None:
        """Register (or re-key) a channel, as Kommo support does when it issues an id and secret."""
        if not channel_id:
            raise ValueError("channel_id must not be empty")
        if not secret:
            raise ValueError("secret must not be empty")
        with self._lock:
            self._channels[canonical_id(channel_id)] = _Channel(secret=secret, name=name)
            self._save_locked()

    def remove_channel(self, channel_id: str) -> None:
        """Forget a channel, as Kommo does when a channel is withdrawn: its calls then answer 404."""
        with self._lock:
            self._channels.pop(canonical_id(channel_id), None)
            self._save_locked()

    def channel_secret(self, channel_id: str) -> str | None:
        """The channel's HMAC key, or ``None`` if the channel is unknown (amojo answers 404)."""
        with self._lock:
            channel = self._channels.get(canonical_id(channel_id))
            return channel.secret if channel is not None else None

    def channel_name(self, channel_id: str) -> str | None:
        """The channel's display name, used as the title when connect sends none."""
        with self._lock:
            channel = self._channels.get(canonical_id(channel_id))
            return channel.name if channel is not None else None

    def channel_ids(self) -> list[str]:
        """Ids of the registered channels, in registration order (never their secrets)."""
        with self._lock:
            return list(self._channels)

    # Connections --------------------------------------------------------------------------------

    def connect(
        self,
        channel_id: str,
        account_id: str,
        title: str,
        hook_api_version: str,
        is_time_window_disabled: bool,
    ) -> Connection:
        """Connect the channel to the account; repeating it is harmless.

        The scope id depends only on the two ids, so a repeat connect returns the same one, updates
        title, version and flag, and re-enables a disconnected connection (Kommo says connect must
        be repeated after every reinstall, which implies it is idempotent). An empty ``title``
        means the channel name.

        Not emulated: any effect on webhooks, and any check that the account exists.
        """
        channel_id, account_id = canonical_id(channel_id), canonical_id(account_id)
        with self._lock:
            channel = self._channels.get(channel_id)
            if channel is None:
                raise UnknownChannelError(channel_id)
            connection = Connection(
                channel_id=channel_id,
                account_id=account_id,
                scope_id=f"{channel_id}_{account_id}",
                title=title or channel.name,
                hook_api_version=hook_api_version,
                is_time_window_disabled=is_time_window_disabled,
                connected=True,
            )
            self._connections[(channel_id, account_id)] = connection
            self._save_locked()
            return replace(connection)

    def disconnect(self, channel_id: str, account_id: str) -> bool:
        """Disconnect the account; ``True`` if it was connected, ``False`` if there was nothing to do.

        Disconnecting an account that is not connected is not an error: the emulator answers 200,
        which keeps ``pulumi destroy`` idempotent. (What the live service does here is undocumented.)
        """
        channel_id, account_id = canonical_id(channel_id), canonical_id(account_id)
        with self._lock:
            if channel_id not in self._channels:
                raise UnknownChannelError(channel_id)
            connection = self._connections.get((channel_id, account_id))
            if connection is None or not connection.connected:
                return False
            connection.connected = False
            self._save_locked()
            return True

    def connections(self, include_disconnected: bool = False) -> list[Connection]:
        """Copies of the connections, in the order they were first made."""
        with self._lock:
            return [replace(c) for c in self._connections.values() if include_disconnected or c.connected]

    def get_connection(self, channel_id: str, account_id: str) -> Connection | None:
        """A copy of one connection (connected or not), or ``None`` if connect never happened."""
        key = (canonical_id(channel_id), canonical_id(account_id))
        with self._lock:
            connection = self._connections.get(key)
            return replace(connection) if connection is not None else None

    # Request log --------------------------------------------------------------------------------

    def record(self, request: RecordedRequest) -> None:
        """Append to the request log (bounded: the oldest entries fall off)."""
        self.request_log.record(request)

    def requests(self) -> list[RecordedRequest]:
        """The logged requests (amojo and REST), oldest first."""
        return self.request_log.requests()

    def reset(self) -> None:
        """Forget connections and the request log, keep the channels (tests call this between cases)."""
        with self._lock:
            self._connections.clear()
            self._save_locked()
        self.request_log.clear()

    # State file ---------------------------------------------------------------------------------

    def _load(self, path: Path) -> None:
        """Read the connections written by an earlier run; a missing file is a fresh start.

        Channels and their secrets are not in the file: they are given again at every start (flags,
        ``--channels-file`` or the constructor), so no secret is left on disk by the emulator.
        """
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError("top level is not a JSON object")
            for item in list(data.get("connections", [])):
                channel_id = canonical_id(str(item["channel_id"]))
                account_id = canonical_id(str(item["account_id"]))
                connection = Connection(
                    channel_id=channel_id,
                    account_id=account_id,
                    scope_id=f"{channel_id}_{account_id}",
                    title=str(item["title"]),
                    hook_api_version=str(item["hook_api_version"]),
                    is_time_window_disabled=bool(item["is_time_window_disabled"]),
                    connected=bool(item["connected"]),
                )
                self._connections[(connection.channel_id, connection.account_id)] = connection
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"state file {path} is not a valid emulator state file") from exc

    def _save_locked(self) -> None:
        """Write the state file atomically (temp file + ``os.replace``); caller holds the lock.

        It holds connections only (no channel secrets); ``mkstemp`` creates it with mode 0600. No
        fsync: the file only has to survive an emulator restart, not a machine crash.
        """
        if self._state_file is None:
            return
        data = {
            "version": STATE_FILE_VERSION,
            "connections": [c.to_dict() for c in self._connections.values()],
        }
        directory = self._state_file.parent
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{self._state_file.name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=2)
                handle.write("\n")
            os.replace(tmp_name, self._state_file)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise
