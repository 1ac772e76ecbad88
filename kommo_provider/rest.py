"""The REST API v4 client: one Kommo account, its access token, and Kommo's HAL answers and errors.

Transport (sessions, retries, timeouts) is :mod:`kommo_provider.transport`, shared by every account on
one host; each account has its own pace (Kommo allows 7 requests per second per account). This module
adds the bearer token, which it asks a :class:`TokenSource` for on every call (tokens expire and
rotate: the source knows the current one, and is asked once more after a 401), reads Kommo's HAL
answers (and its ``204 No Content`` for an empty list), and maps statuses and
``application/problem+json`` bodies into :mod:`kommo_provider.exceptions`. Whether a call may be
repeated after a 5xx or a read timeout is the caller's to say (``repeatable``): a create may not, since
Kommo may have made the object already.

What each object's calls are (paths, bodies, ids) is declared with the object, in
:mod:`kommo_provider.resources`; this client knows no object.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final, Protocol

import requests

from .exceptions import (
    ApiError,
    ForbiddenError,
    InvalidRequestError,
    ObjectNotFoundError,
    RateLimitedError,
    ServerError,
    TokenRejectedError,
    UnexpectedResponseError,
)
from .transport import HttpTransport, RequestPacer, snippet

__all__ = ["API_PREFIX", "BearerAuth", "RestApiClient", "StaticToken", "TokenSource", "problem_details"]

API_PREFIX: Final = "/api/v4"
JSON: Final = "application/json"
SUCCESS: Final = frozenset({200, 201, 202, 204})


class TokenSource(Protocol):
    """Where an account's access token comes from when a call needs it."""

    def token(self, account: str) -> str:
        """The account's current token; raises a :class:`~kommo_provider.exceptions.KommoError` saying
        why there is none."""

    def refresh(self, account: str, rejected: str) -> str | None:
        """After Kommo refused ``rejected`` (401): another token to try once, or ``None`` when this
        source has no other."""


class StaticToken:
    """One fixed token for one account (a long-lived token); nothing to refresh."""

    def __init__(self, token: str) -> None:
        self._token = token

    def token(self, account: str) -> str:
        return self._token

    def refresh(self, account: str, rejected: str) -> str | None:
        return None

    def __repr__(self) -> str:
        return "StaticToken(<redacted>)"


class BearerAuth(requests.auth.AuthBase):
    """Attaches an access token as ``Authorization: Bearer``; its ``repr`` never shows it."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BearerAuth) and other._token == self._token

    def __hash__(self) -> int:
        return hash(self._token)

    def __repr__(self) -> str:
        return "BearerAuth(<redacted>)"


class RestApiClient:
    """One account's REST API v4 at one host; thread-safe, cheap to make (what it sends through is shared).

    ``transports`` are the host's two transports: one retrying 5xx and read timeouts (for calls that
    may be repeated) and one that does not (for creates); ``pacer`` is the account's own pace.
    """

    def __init__(
        self,
        account: str,
        tokens: TokenSource,
        *,
        repeatable: HttpTransport,
        once: HttpTransport,
        pacer: RequestPacer | None = None,
    ) -> None:
        self.account = account
        self.tokens = tokens
        self._repeatable = repeatable
        self._once = once
        self._pacer = pacer
        self.base_url = repeatable.base_url

    def __repr__(self) -> str:
        return f"RestApiClient({self.account!r} at {self.base_url!r})"

    # -- calls --------------------------------------------------------------------------------------

    def get(self, path: str, what: str, params: Mapping[str, str] | None = None) -> dict[str, Any] | None:
        """``GET`` one object; ``None`` when Kommo answers that it has none (204, or 404)."""
        try:
            response = self.send("GET", path, params=params)
        except ObjectNotFoundError:
            return None
        return (
            None if response.status_code == 204 or not response.content else self.json_object(response, what)
        )

    def get_list(self, path: str, key: str, params: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """``GET`` a list: the objects under ``_embedded.<key>`` (204, Kommo's empty list: none)."""
        return self.embedded(self.send("GET", path, params=params), key)

    def send(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        repeatable: bool = True,
    ) -> requests.Response:
        """One call under ``/api/v4``, its status mapped to an exception unless it succeeded.

        A 401 asks the token source once for another token (one that rotated or expired since it was
        handed out) and sends the call once more with it: a 401 means Kommo did nothing.
        """
        full = API_PREFIX + path
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        headers = {"Accept": "application/hal+json, application/json"}
        if data is not None:
            headers["Content-Type"] = JSON
        transport = self._repeatable if repeatable else self._once
        token = self.tokens.token(self.account)
        response = self._send(transport, method, full, data, headers, params, token)
        if response.status_code == 401:
            fresh = self.tokens.refresh(self.account, token)
            if fresh is not None and fresh != token:
                response = self._send(transport, method, full, data, headers, params, fresh)
        if response.status_code in SUCCESS:
            return response
        raise self.error(response, method, full)

    def _send(
        self,
        transport: HttpTransport,
        method: str,
        path: str,
        data: bytes | None,
        headers: dict[str, str],
        params: Mapping[str, str] | None,
        token: str,
    ) -> requests.Response:
        return transport.send(
            method, path, data=data, headers=headers, auth=BearerAuth(token), params=params, pacer=self._pacer
        )

    # -- answers -----------------------------------------------------------------------------------

    def json_body(self, response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise UnexpectedResponseError(
                f"Kommo answered {response.status_code} with a body that is not JSON",
                status=response.status_code,
                method=response.request.method if response.request else None,
                path=response.request.path_url.split("?")[0] if response.request else None,
                details=snippet(response),
            ) from exc

    def json_object(self, response: requests.Response, what: str) -> dict[str, Any]:
        data = self.json_body(response)
        if not isinstance(data, dict):
            raise UnexpectedResponseError(f"Kommo answered a {what} that is not a JSON object")
        return data

    def embedded(self, response: requests.Response, key: str) -> list[dict[str, Any]]:
        """The list under ``_embedded.<key>``; an empty 204 (Kommo's empty list) is ``[]``."""
        if response.status_code == 204 or not response.content:
            return []
        data = self.json_body(response)
        items = (data.get("_embedded") or {}).get(key) if isinstance(data, dict) else None
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise UnexpectedResponseError(f"Kommo answered without the list of {key}")
        return items

    def error(self, response: requests.Response, method: str, path: str) -> ApiError:
        """Kommo's refusal as an exception: what the status means, and Kommo's own words."""
        status = response.status_code
        common: dict[str, Any] = {
            "status": status,
            "method": method,
            "path": path,
            "details": problem_details(response),
        }
        if status == 401:
            return TokenRejectedError(f"Kommo refused the access token of {self.account} (401)", **common)
        if status == 403:
            return ForbiddenError(
                f"Kommo forbids this call to the token's user in {self.account} (403): some objects "
                "(webhooks among them) need an account administrator's token",
                **common,
            )
        if status == 404:
            return ObjectNotFoundError(
                f"Kommo has no such object in {self.account} for this token (404)", **common
            )
        if status == 400:
            body = _json_or_none(response)
            paths = tuple(path for path, _, _ in validation_errors(body))
            return InvalidRequestError("Kommo rejected the request data (400)", paths=paths, **common)
        if status == 429:
            return RateLimitedError(
                f"Kommo is rate limiting {self.account} (429) and retries did not get through; send fewer "
                "requests per second, or try again later",
                **common,
            )
        if status >= 500:
            return ServerError(f"Kommo failed with {status} after retries; try again later", **common)
        return ApiError(f"Kommo answered with unexpected status {status}", **common)


def problem_details(response: requests.Response) -> str | None:
    """Kommo's own words from an ``application/problem+json`` body: each validation error's path and
    detail, else the ``detail`` or ``title``."""
    try:
        data = response.json()
    except ValueError:
        return snippet(response)
    if not isinstance(data, dict):
        return None
    found = [f"{path}: {detail}" for path, _, detail in validation_errors(data)]
    if found:
        return "; ".join(found)[:500]
    text = data.get("detail") or data.get("title")
    return str(text)[:300] if text else None


def validation_errors(data: Any) -> list[tuple[str, str, str]]:
    """``(path, code, detail)`` of each entry of a problem body's ``validation-errors``."""
    found: list[tuple[str, str, str]] = []
    groups = data.get("validation-errors") if isinstance(data, dict) else None
    for item in groups if isinstance(groups, list) else []:
        for error in (item.get("errors") or []) if isinstance(item, dict) else []:
            if isinstance(error, dict):
                detail = str(error.get("detail") or error.get("code") or "")
                found.append((str(error.get("path", "?")), str(error.get("code", "")), detail))
    return found


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
