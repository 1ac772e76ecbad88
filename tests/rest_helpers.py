"""A REST-enabled emulator for the REST API v4 tests: two accounts, two integrations, fixed tokens."""

from __future__ import annotations

from typing import Any, Final

import requests
from constants import ACCOUNT_ID, CHANNEL_ID, CHANNEL_SECRET, OTHER_ACCOUNT_ID

from kommo_provider.emulator import AccountSpec, EmulatorServer, mint_token

ACME_ID: Final = 41_000_001
GLOBEX_ID: Final = 41_000_002
INTEGRATION_A: Final = "7d2f4b6a-1c3e-4a5b-9d8f-0e1a2b3c4d5e"
INTEGRATION_B: Final = "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d"
FAR_FUTURE: Final = 4_102_444_800  # 2100-01-01


def _token(account_id: int, integration_id: str, serial: str) -> str:
    return mint_token(
        account_id=account_id,
        integration_id=integration_id,
        user_id=account_id + 7,
        issued_at=1_767_225_600,
        expires_at=FAR_FUTURE,
        token_id=serial,
    )


ACME_TOKEN: Final = _token(ACME_ID, INTEGRATION_A, "a1")
"""Opens account ``acme`` as integration A."""
ACME_B_TOKEN: Final = _token(ACME_ID, INTEGRATION_B, "b1")
"""Opens the same account as integration B (which must not see A's sources)."""
GLOBEX_TOKEN: Final = _token(GLOBEX_ID, INTEGRATION_A, "g1")
"""Opens account ``globex`` as integration A."""
ALL_TOKENS: Final = (ACME_TOKEN, ACME_B_TOKEN, GLOBEX_TOKEN)

ACME: Final = AccountSpec(
    "acme",
    token=ACME_TOKEN,
    amojo_id=ACCOUNT_ID,
    name="Acme",
    id=ACME_ID,
    pipelines=("Sales", "Support"),
    integration_id=INTEGRATION_A,
    user_id=ACME_ID + 7,
)
GLOBEX: Final = AccountSpec(
    "globex", token=GLOBEX_TOKEN, amojo_id=OTHER_ACCOUNT_ID, id=GLOBEX_ID, integration_id=INTEGRATION_A
)


def rest_server() -> EmulatorServer:
    """A started emulator with the test channel and the acme and globex accounts (B's token too)."""
    server = EmulatorServer({CHANNEL_ID: CHANNEL_SECRET}, accounts=[ACME, GLOBEX]).start()
    server.rest.add_token("acme", ACME_B_TOKEN, integration_id=INTEGRATION_B)
    return server


def api(
    server: EmulatorServer,
    method: str,
    path: str,
    body: Any = None,
    *,
    token: str | None = ACME_TOKEN,
    params: dict[str, str] | None = None,
    data: bytes | None = None,
) -> requests.Response:
    """One REST call with ``Authorization: Bearer <token>`` (none when ``token`` is None)."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.request(
        method, server.url + path, json=body, data=data, params=params, headers=headers, timeout=5
    )


def problem(response: requests.Response, status: int) -> dict[str, Any]:
    """The problem+json body, after checking Kommo's four keys and the status."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"] == f"https://httpstatus.es/{status}"
    assert body["title"] and body["detail"]
    return body


def field_errors(response: requests.Response) -> list[tuple[str, str]]:
    """``(code, path)`` of every validation error of a 400 answer."""
    body = problem(response, 400)
    return [(e["code"], e["path"]) for group in body["validation-errors"] for e in group["errors"]]


def hal(response: requests.Response) -> Any:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/hal+json"
    return response.json()


def no_content(response: requests.Response) -> None:
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert "Content-Type" not in response.headers


def create_source(server: EmulatorServer, token: str = ACME_TOKEN, **fields: Any) -> dict[str, Any]:
    """Create one source over HTTP (defaults: a name and an external_id) and return it."""
    body = {"name": "Website", "external_id": "site", **fields}
    (created,) = hal(api(server, "POST", "/api/v4/sources", [body], token=token))["_embedded"]["sources"]
    result: dict[str, Any] = created
    return result
