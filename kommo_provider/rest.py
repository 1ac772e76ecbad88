"""The REST API v4 client: one Kommo account, its long-lived token, and the calls the resources need.

Transport (sessions, retries, pacing at Kommo's 7 requests per second, timeouts) is
:mod:`kommo_provider.transport`; this module adds the bearer token, reads Kommo's HAL answers (and its
``204 No Content`` for an empty list), and maps its statuses and ``application/problem+json`` bodies
into :mod:`kommo_provider.exceptions`. Calls that are safe to repeat are retried on 5xx and read
timeouts; creating a source is not (a timed-out create may have made it already).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Final

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
from .settings import TransportSettings
from .transport import HttpTransport, default_retry, snippet

__all__ = ["API_PREFIX", "BearerAuth", "RestApiClient", "rest_client_for"]

API_PREFIX: Final = "/api/v4"
JSON: Final = "application/json"
REPEATABLE: Final = frozenset({"GET", "PATCH", "DELETE", "POST"})
"""Methods whose repeat does no harm here: reads, updates by id, deletes, and webhook subscriptions
(posting the same destination again replaces its settings). Creating a source is sent without 5xx
retries (see :meth:`RestApiClient.create_source`)."""


class BearerAuth(requests.auth.AuthBase):
    """Attaches a long-lived access token as ``Authorization: Bearer``; its ``repr`` never shows it."""

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
    """One account's REST API v4; thread-safe, paced with every other client of the same host."""

    def __init__(self, base_url: str, token: str, *, settings: TransportSettings | None = None) -> None:
        settings = settings or TransportSettings()
        self.base_url = base_url
        self._auth = BearerAuth(token)
        self.transport = HttpTransport(
            base_url, retry=default_retry(settings.max_retries, REPEATABLE), settings=settings
        )
        self._once = HttpTransport(
            base_url, retry=default_retry(settings.max_retries, frozenset({"GET"})), settings=settings
        )
        self._once.pacer = self.transport.pacer  # one pace for the host, whichever policy sends

    def __repr__(self) -> str:
        return f"RestApiClient({self.base_url!r})"

    # -- the account --------------------------------------------------------------------------------

    def get_account(self) -> dict[str, Any]:
        """``GET /api/v4/account?with=amojo_id``: id, name, subdomain and the amojo_id connect takes."""
        return self._object(self._call("GET", "/account", params={"with": "amojo_id"}), "account")

    def list_pipelines(self) -> list[dict[str, Any]]:
        """``GET /api/v4/leads/pipelines``: every pipeline of the account (204: none)."""
        return self._embedded(self._call("GET", "/leads/pipelines"), "pipelines")

    # -- sources ------------------------------------------------------------------------------------

    def create_source(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /api/v4/sources`` with one source; the source Kommo made, with its id.

        Sent once: connection errors and 429s are retried (nothing was made), 5xx and read timeouts
        are not, since the source may exist already.
        """
        created = self._embedded(self._call("POST", "/sources", body=[dict(fields)], once=True), "sources")
        if len(created) != 1:
            raise UnexpectedResponseError("creating a source answered without the source", method="POST")
        return created[0]

    def get_source(self, source_id: int) -> dict[str, Any] | None:
        """``GET /api/v4/sources/{id}``; ``None`` when Kommo has no such source any more (204 or 404)."""
        try:
            response = self._call("GET", f"/sources/{source_id}")
        except ObjectNotFoundError:
            return None
        return None if response.status_code == 204 else self._object(response, "source")

    def update_source(self, source_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        """``PATCH /api/v4/sources/{id}``: the source as Kommo has it after the change."""
        return self._object(self._call("PATCH", f"/sources/{source_id}", body=dict(fields)), "source")

    def delete_source(self, source_id: int) -> bool:
        """``DELETE /api/v4/sources/{id}``; ``False`` when it was gone already."""
        try:
            self._call("DELETE", f"/sources/{source_id}")
        except ObjectNotFoundError:
            return False
        return True

    # -- webhooks -----------------------------------------------------------------------------------

    def find_webhook(self, destination: str) -> dict[str, Any] | None:
        """The account's webhook for ``destination`` (``filter[destination]``), or ``None``."""
        hooks = self._embedded(
            self._call("GET", "/webhooks", params={"filter[destination]": destination}), "webhooks"
        )
        return next((hook for hook in hooks if hook.get("destination") == destination), None)

    def subscribe_webhook(
        self, destination: str, settings: Sequence[str], sort: int | None
    ) -> dict[str, Any]:
        """``POST /api/v4/webhooks``: subscribe (or re-subscribe, replacing its events) a destination."""
        body: dict[str, Any] = {"destination": destination, "settings": list(settings)}
        if sort is not None:
            body["sort"] = sort
        return self._object(self._call("POST", "/webhooks", body=body), "webhook")

    def unsubscribe_webhook(self, destination: str) -> bool:
        """``DELETE /api/v4/webhooks`` with the destination; ``False`` when it was gone already."""
        try:
            self._call("DELETE", "/webhooks", body={"destination": destination})
        except ObjectNotFoundError:
            return False
        return True

    # -- transport ----------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        once: bool = False,
    ) -> requests.Response:
        full = API_PREFIX + path
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        headers = {"Accept": "application/hal+json, application/json"}
        if data is not None:
            headers["Content-Type"] = JSON
        transport = self._once if once else self.transport
        response = transport.send(method, full, data=data, headers=headers, auth=self._auth, params=params)
        if response.status_code in (200, 201, 202, 204):
            return response
        raise self._error(response, method, full)

    def _json(self, response: requests.Response, method: str = "GET") -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise UnexpectedResponseError(
                f"Kommo answered {response.status_code} with a body that is not JSON",
                status=response.status_code,
                method=method,
                path=response.request.path_url.split("?")[0] if response.request else None,
                details=snippet(response),
            ) from exc

    def _object(self, response: requests.Response, what: str) -> dict[str, Any]:
        data = self._json(response)
        if not isinstance(data, dict):
            raise UnexpectedResponseError(f"Kommo answered a {what} that is not a JSON object")
        return data

    def _embedded(self, response: requests.Response, key: str) -> list[dict[str, Any]]:
        if response.status_code == 204 or not response.content:
            return []  # Kommo answers an empty list with 204 and no body
        data = self._json(response)
        items = (data.get("_embedded") or {}).get(key) if isinstance(data, dict) else None
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise UnexpectedResponseError(f"Kommo answered without the list of {key}")
        return items

    def _error(self, response: requests.Response, method: str, path: str) -> ApiError:
        status = response.status_code
        common: dict[str, Any] = {
            "status": status,
            "method": method,
            "path": path,
            "details": problem_details(response),
        }
        if status == 401:
            return TokenRejectedError(
                "Kommo refused the access token (401): set accessToken on the kommo provider (or "
                "kommo:accessToken) to a valid long-lived token of this account's integration",
                **common,
            )
        if status == 403:
            return ForbiddenError(
                "Kommo forbids this call to the access token's user (403): webhooks need an account "
                "administrator's token",
                **common,
            )
        if status == 404:
            return ObjectNotFoundError("Kommo has no such object for this token (404)", **common)
        if status == 400:
            return InvalidRequestError("Kommo rejected the request data (400)", **common)
        if status == 429:
            return RateLimitedError(
                "Kommo is rate limiting this account (429) and retries did not get through; lower "
                "maxRequestsPerSecond or try again later",
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
    found: list[str] = []
    for item in data.get("validation-errors") or []:
        for error in (item.get("errors") or []) if isinstance(item, dict) else []:
            if isinstance(error, dict):
                found.append(f"{error.get('path', '?')}: {error.get('detail') or error.get('code', '')}")
    if found:
        return "; ".join(found)[:500]
    text = data.get("detail") or data.get("title")
    return str(text)[:300] if text else None


_clients: dict[tuple[str, str, TransportSettings], RestApiClient] = {}
_clients_lock = threading.Lock()


def rest_client_for(base_url: str, token: str, settings: TransportSettings) -> RestApiClient:
    """One client per host, token and settings in this process, so pacing and pools are shared."""
    key = (base_url, hashlib.sha256(token.encode()).hexdigest(), settings)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = RestApiClient(base_url, token, settings=settings)
        return client
