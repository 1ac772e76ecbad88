"""Typed request and response bodies of the connect and disconnect calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .exceptions import UnexpectedResponseError

HOOK_API_VERSIONS = ("v1", "v2")
DEFAULT_HOOK_API_VERSION = "v2"


@dataclass(frozen=True)
class ChannelCredentials:
    """A channel id and its secret; the secret is left out of ``repr``."""

    channel_id: str
    secret: str = field(repr=False)


@dataclass(frozen=True)
class ConnectRequest:
    """Body of ``POST /v2/origin/custom/{channel_id}/connect``; ``None`` fields are left out."""

    account_id: str
    title: str | None = None
    hook_api_version: str = DEFAULT_HOOK_API_VERSION
    is_time_window_disabled: bool | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"account_id": self.account_id}
        if self.title is not None:
            body["title"] = self.title
        body["hook_api_version"] = self.hook_api_version
        if self.is_time_window_disabled is not None:
            body["is_time_window_disabled"] = self.is_time_window_disabled
        return body


@dataclass(frozen=True)
class ConnectResult:
    """What amojo answers to a connect; ``scope_id`` is what every later chat call needs."""

    account_id: str
    scope_id: str
    title: str
    hook_api_version: str
    is_time_window_disabled: bool

    @classmethod
    def from_json(cls, data: Any, *, sent: ConnectRequest) -> ConnectResult:
        """Parse the answer; fields amojo leaves out fall back to what was sent (never scope_id)."""
        if not isinstance(data, dict):
            raise UnexpectedResponseError("connect answered with JSON that is not an object")
        scope_id = data.get("scope_id")
        if not isinstance(scope_id, str) or not scope_id:
            raise UnexpectedResponseError("connect answer has no scope_id")
        title = data.get("title")
        version = data.get("hook_api_version")
        window = data.get("is_time_window_disabled")
        account = data.get("account_id")
        return cls(
            account_id=account if isinstance(account, str) and account else sent.account_id,
            scope_id=scope_id,
            title=title if isinstance(title, str) else (sent.title or ""),
            hook_api_version=version if isinstance(version, str) else sent.hook_api_version,
            is_time_window_disabled=(
                window if isinstance(window, bool) else bool(sent.is_time_window_disabled)
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "scope_id": self.scope_id,
            "title": self.title,
            "hook_api_version": self.hook_api_version,
            "is_time_window_disabled": self.is_time_window_disabled,
        }
