"""Typed request and response bodies of the connect and disconnect calls."""

from __future__ import annotations

from collections.abc import Mapping
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
    """Body of ``POST /v2/origin/custom/{channel_id}/connect``: the account and its connection settings.

    ``options`` are Kommo's own field names (``title``, ``hook_api_version``, ``is_time_window_disabled``);
    ``None`` values are left out, and ``hook_api_version`` is always sent (``v2`` unless given), because
    Kommo's documented default differs between its sites.
    """

    account_id: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"account_id": self.account_id}
        body.update((k, v) for k, v in self.options.items() if v is not None)
        body.setdefault("hook_api_version", DEFAULT_HOOK_API_VERSION)
        return body


@dataclass(frozen=True)
class ConnectResult:
    """What amojo answers to a connect; ``scope_id`` is what every later chat call needs.

    ``answer`` holds each field of the request as amojo answered it; a field amojo leaves out falls back
    to what was sent (never ``scope_id``, which only Kommo can give).
    """

    account_id: str
    scope_id: str
    answer: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any, *, sent: ConnectRequest) -> ConnectResult:
        if not isinstance(data, dict):
            raise UnexpectedResponseError("connect answered with JSON that is not an object")
        scope_id = data.get("scope_id")
        if not isinstance(scope_id, str) or not scope_id:
            raise UnexpectedResponseError("connect answer has no scope_id")
        body = sent.to_json()
        answer = {}
        for key, value in body.items():
            got = data.get(key)
            # Trust amojo's value only when it has the type that was sent.
            answer[key] = got if got is not None and type(got) is type(value) else value
        for key, value in data.items():
            answer.setdefault(key, value)
        account = answer.pop("account_id")
        answer.pop("scope_id", None)
        return cls(account_id=account or sent.account_id, scope_id=scope_id, answer=answer)

    def get(self, key: str, default: Any = None) -> Any:
        return self.answer.get(key, default)

    def to_dict(self) -> dict[str, Any]:
        return {"account_id": self.account_id, "scope_id": self.scope_id, **self.answer}
