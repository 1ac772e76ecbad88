"""The amojo emulator over real HTTP: Kommo's checks, idempotency, faults, admin routes, CLI."""

from __future__ import annotations

import json
import os
import socket
import socketserver
import stat
import threading
import time
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
from constants import ACCOUNT_ID, CHANNEL_ID, CHANNEL_SECRET, OTHER_ACCOUNT_ID
from emulator_helpers import wait_for_requests

from kommo_provider import signing
from kommo_provider.cli.emulator import main
from kommo_provider.emulator import (
    ACCESS_TOKEN_ENV,
    CHANNEL_SECRET_ENV,
    DEMO2_ACCESS_TOKEN,
    DEMO2_ACCOUNT_SUBDOMAIN,
    DEMO_ACCESS_TOKEN,
    DEMO_ACCOUNT_IDS,
    DEMO_ACCOUNT_SUBDOMAIN,
    DEMO_CHANNEL_ID,
    DEMO_CHANNEL_SECRET,
    AmojoBackend,
    EmulatorServer,
    FaultPlan,
    RateLimiter,
    RecordedRequest,
    UnknownChannelError,
    mint_token,
)

UNKNOWN_CHANNEL_ID = "0b7e4c2d-58a1-4f39-9c6e-d2a8f1b05e47"
WRONG_SECRET = "1e8d5b3a9c7f20d4e6b1a8c3f5d7e9b2a4c6d8f0"
OPERATIONS = {"connect": "POST", "disconnect": "DELETE"}


def api_path(operation: str, channel_id: str = CHANNEL_ID) -> str:
    return f"/v2/origin/custom/{channel_id}/{operation}"


def call(
    emulator: EmulatorServer,
    operation: str,
    payload: Any = None,
    *,
    body: bytes | None = None,
    channel_id: str = CHANNEL_ID,
    secret: str = CHANNEL_SECRET,
    now: datetime | None = None,
    content_type: str = signing.CONTENT_TYPE_JSON,
    headers: Mapping[str, str] | None = None,
    query: str = "",
    session: requests.Session | None = None,
    timeout: float | tuple[float, float] = 5.0,
) -> requests.Response:
    """Send one signed Chat API request the way a correct client does, unless told otherwise.

    ``payload`` is JSON-encoded with ``signing.encode_json``; ``body`` sends raw bytes instead.
    ``headers`` override the signed ones after signing (to tamper with them).
    """
    method = OPERATIONS[operation]
    path = api_path(operation, channel_id)
    data = (
        body
        if body is not None
        else signing.encode_json({"account_id": ACCOUNT_ID} if payload is None else payload)
    )
    signed = signing.signed_headers(
        secret, method, path, data, now or datetime.now(timezone.utc), content_type
    )
    signed.update(headers or {})
    url = emulator.url + path + (f"?{query}" if query else "")
    sender = session if session is not None else requests
    return sender.request(method, url, data=data, headers=signed, timeout=timeout)


def admin(emulator: EmulatorServer, method: str, route: str, payload: Any = None) -> requests.Response:
    data = None if payload is None else json.dumps(payload)
    return requests.request(method, f"{emulator.url}/_emulator/{route}", data=data, timeout=5)


def state(emulator: EmulatorServer) -> dict[str, Any]:
    response = admin(emulator, "GET", "state")
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def error_of(response: requests.Response) -> dict[str, Any]:
    """The JSON error body, after checking it has the emulator's three keys and the status."""
    assert response.headers["Content-Type"] == "application/json"
    error: dict[str, Any] = response.json()
    assert set(error) == {"error_code", "error_type", "error_description"}
    assert error["error_code"] == response.status_code
    return error


# Connect and disconnect ---------------------------------------------------------------------------


def test_connect_returns_scope_id_and_state_shows_connection(emulator: EmulatorServer) -> None:
    response = call(
        emulator,
        "connect",
        {
            "account_id": ACCOUNT_ID,
            "title": "Support bot",
            "hook_api_version": "v2",
            "is_time_window_disabled": True,
        },
    )

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {
        "account_id": ACCOUNT_ID,
        "scope_id": f"{CHANNEL_ID}_{ACCOUNT_ID}",
        "title": "Support bot",
        "hook_api_version": "v2",
        "is_time_window_disabled": True,
    }
    assert state(emulator)["connections"] == [
        {
            "channel_id": CHANNEL_ID,
            "account_id": ACCOUNT_ID,
            "scope_id": f"{CHANNEL_ID}_{ACCOUNT_ID}",
            "title": "Support bot",
            "hook_api_version": "v2",
            "is_time_window_disabled": True,
            "connected": True,
        }
    ]


@pytest.mark.parametrize(
    "extra",
    [{}, {"title": ""}, {"title": None}],
    ids=["no-title", "empty-title", "null-title"],
)
def test_connect_defaults_to_channel_name_v2_and_window_on(
    emulator: EmulatorServer, extra: dict[str, Any]
) -> None:
    response = call(emulator, "connect", {"account_id": ACCOUNT_ID, **extra})

    assert response.status_code == 200
    assert response.json()["title"] == "Emulated channel"
    assert response.json()["hook_api_version"] == "v2"
    assert response.json()["is_time_window_disabled"] is False


def test_connect_accepts_v1_and_ignores_unknown_keys(emulator: EmulatorServer) -> None:
    payload = {"account_id": ACCOUNT_ID, "hook_api_version": "v1", "some_future_field": [1]}

    response = call(emulator, "connect", payload)

    assert response.status_code == 200
    assert response.json()["hook_api_version"] == "v1"


def test_connect_is_idempotent_and_updates_the_connection(emulator: EmulatorServer) -> None:
    first = call(emulator, "connect", {"account_id": ACCOUNT_ID, "title": "One"})
    second = call(
        emulator,
        "connect",
        {"account_id": ACCOUNT_ID, "title": "Two", "is_time_window_disabled": True},
    )

    assert first.status_code == second.status_code == 200
    assert first.json()["scope_id"] == second.json()["scope_id"] == f"{CHANNEL_ID}_{ACCOUNT_ID}"
    (connection,) = emulator.backend.connections()
    assert (connection.title, connection.is_time_window_disabled) == ("Two", True)


def test_connect_after_disconnect_re_enables_the_connection(emulator: EmulatorServer) -> None:
    call(emulator, "connect")
    call(emulator, "disconnect")

    response = call(emulator, "connect")

    assert response.status_code == 200
    connection = emulator.backend.get_connection(CHANNEL_ID, ACCOUNT_ID)
    assert connection is not None and connection.connected


def test_disconnect_answers_200_with_empty_body_and_state_shows_it(
    emulator: EmulatorServer,
) -> None:
    call(emulator, "connect")

    response = call(emulator, "disconnect", {"account_id": ACCOUNT_ID})

    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["Content-Length"] == "0"
    (connection,) = state(emulator)["connections"]
    assert connection["connected"] is False
    assert emulator.backend.connections() == []


def test_disconnect_of_an_account_never_connected_is_200(emulator: EmulatorServer) -> None:
    response = call(emulator, "disconnect", {"account_id": OTHER_ACCOUNT_ID})

    assert response.status_code == 200
    assert emulator.backend.disconnect(CHANNEL_ID, OTHER_ACCOUNT_ID) is False


def test_disconnect_body_object_option_answers_empty_json_object() -> None:
    with EmulatorServer({CHANNEL_ID: CHANNEL_SECRET}, disconnect_body="object") as server:
        response = call(server, "disconnect")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {}


@pytest.mark.parametrize("operation", ["connect", "disconnect"])
def test_unknown_channel_is_404_even_before_the_signature(emulator: EmulatorServer, operation: str) -> None:
    # Signed with a wrong secret on purpose: the channel check comes first, as amojo documents.
    response = call(emulator, operation, channel_id=UNKNOWN_CHANNEL_ID, secret=WRONG_SECRET)

    assert response.status_code == 404
    error = error_of(response)
    assert error["error_type"] == "CHANNEL_NOT_FOUND"
    assert UNKNOWN_CHANNEL_ID in error["error_description"]


# UUIDs compare case-insensitively -----------------------------------------------------------------


def test_account_id_case_does_not_make_another_connection(emulator: EmulatorServer) -> None:
    connected = call(emulator, "connect", {"account_id": ACCOUNT_ID.upper()})

    response = call(emulator, "disconnect", {"account_id": ACCOUNT_ID})

    assert connected.status_code == response.status_code == 200
    assert connected.json()["account_id"] == ACCOUNT_ID
    assert connected.json()["scope_id"] == f"{CHANNEL_ID}_{ACCOUNT_ID}"
    (connection,) = emulator.backend.connections(include_disconnected=True)
    assert (connection.account_id, connection.connected) == (ACCOUNT_ID, False)


def test_channel_id_in_upper_case_names_the_same_channel(emulator: EmulatorServer) -> None:
    upper = CHANNEL_ID.upper()

    connected = call(emulator, "connect", {"account_id": ACCOUNT_ID.upper()}, channel_id=upper)
    disconnected = call(emulator, "disconnect", {"account_id": ACCOUNT_ID})

    assert connected.status_code == disconnected.status_code == 200
    assert connected.json()["scope_id"] == f"{CHANNEL_ID}_{ACCOUNT_ID}"
    connection = emulator.backend.get_connection(upper, ACCOUNT_ID.upper())
    assert connection is not None and not connection.connected
    assert emulator.backend.channel_ids() == [CHANNEL_ID]


def test_channel_registered_in_upper_case_is_kept_in_lower_case() -> None:
    backend = AmojoBackend({CHANNEL_ID.upper(): CHANNEL_SECRET})

    backend.connect(CHANNEL_ID, ACCOUNT_ID, "", "v2", False)

    assert backend.channel_ids() == [CHANNEL_ID]
    assert backend.channel_secret(CHANNEL_ID.upper()) == CHANNEL_SECRET
    assert backend.disconnect(CHANNEL_ID.upper(), ACCOUNT_ID.upper()) is True
    assert backend.connections() == []


def test_rate_limit_bucket_ignores_the_case_of_the_channel_id(emulator: EmulatorServer) -> None:
    emulator.faults.set_rate_limit(1)

    first = call(emulator, "connect", channel_id=CHANNEL_ID)
    second = call(emulator, "connect", channel_id=CHANNEL_ID.upper())

    assert (first.status_code, second.status_code) == (200, 429)


def test_state_file_ids_in_upper_case_load_in_lower_case(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    entry = {
        "channel_id": CHANNEL_ID.upper(),
        "account_id": ACCOUNT_ID.upper(),
        "scope_id": f"{CHANNEL_ID.upper()}_{ACCOUNT_ID.upper()}",
        "title": "t",
        "hook_api_version": "v2",
        "is_time_window_disabled": False,
        "connected": True,
    }
    state_file.write_text(json.dumps({"version": 1, "connections": [entry]}), encoding="utf-8")

    backend = AmojoBackend({CHANNEL_ID: CHANNEL_SECRET}, state_file=state_file)

    (connection,) = backend.connections()
    assert connection.scope_id == f"{CHANNEL_ID}_{ACCOUNT_ID}"
    assert backend.disconnect(CHANNEL_ID, ACCOUNT_ID) is True


def test_an_account_id_that_is_not_a_uuid_is_compared_exactly() -> None:
    backend = AmojoBackend({CHANNEL_ID: CHANNEL_SECRET})
    backend.connect(CHANNEL_ID, "Account-A", "", "v2", False)

    assert backend.disconnect(CHANNEL_ID, "account-a") is False
    assert backend.disconnect(CHANNEL_ID, "Account-A") is True


# Signature checks (403) -------------------------------------------------------------------------


def _query_in_signed_path(emulator: EmulatorServer) -> requests.Response:
    """Sign ``.../connect?x=1`` (query included, against Kommo's rule) and send it with the query."""
    path = api_path("connect")
    body = signing.encode_json({"account_id": ACCOUNT_ID})
    date = signing.http_date(datetime.now(timezone.utc))
    md5 = signing.body_md5(body)
    sts = signing.string_to_sign("POST", md5, signing.CONTENT_TYPE_JSON, date, path + "?x=1")
    headers = {
        "Date": date,
        "Content-Type": signing.CONTENT_TYPE_JSON,
        "Content-MD5": md5,
        "X-Signature": signing.signature(CHANNEL_SECRET, sts),
    }
    return requests.post(f"{emulator.url}{path}?x=1", data=body, headers=headers, timeout=5)


def _now_plus(minutes: int) -> datetime:
    return datetime.now(timezone.utc) + timedelta(minutes=minutes)


FORBIDDEN_CASES: dict[str, tuple[Any, str]] = {
    "wrong-secret": (lambda e: call(e, "connect", secret=WRONG_SECRET), "INVALID_SIGNATURE"),
    "tampered-body": (
        lambda e: call(
            e,
            "connect",
            body=signing.encode_json({"account_id": OTHER_ACCOUNT_ID}),
            headers={"Content-MD5": signing.body_md5(signing.encode_json({"account_id": "x"}))},
        ),
        "CONTENT_MD5_MISMATCH",
    ),
    "charset-content-type": (
        lambda e: call(e, "connect", content_type="application/json; charset=utf-8"),
        "INVALID_CONTENT_TYPE",
    ),
    "date-16-minutes-old": (lambda e: call(e, "connect", now=_now_plus(-16)), "SIGNATURE_EXPIRED"),
    "date-16-minutes-ahead": (lambda e: call(e, "connect", now=_now_plus(16)), "SIGNATURE_EXPIRED"),
    "query-in-signed-path": (_query_in_signed_path, "INVALID_SIGNATURE"),
    "no-signature": (
        lambda e: requests.post(
            e.url + api_path("connect"),
            data=signing.encode_json({"account_id": ACCOUNT_ID}),
            headers={"Content-Type": "application/json"},
            timeout=5,
        ),
        "MISSING_CONTENT_MD5",
    ),
    "date-not-rfc2822": (lambda e: call(e, "connect", headers={"Date": "yesterday"}), "INVALID_DATE"),
    "uppercase-md5": (
        lambda e: call(
            e,
            "connect",
            headers={
                "Content-MD5": signing.body_md5(signing.encode_json({"account_id": ACCOUNT_ID})).upper()
            },
        ),
        "CONTENT_MD5_MISMATCH",
    ),
}


@pytest.mark.parametrize("case", list(FORBIDDEN_CASES))
def test_bad_signing_is_403_with_a_json_error(emulator: EmulatorServer, case: str) -> None:
    send, error_type = FORBIDDEN_CASES[case]

    response = send(emulator)

    assert response.status_code == 403
    assert error_of(response)["error_type"] == error_type
    assert emulator.backend.connections() == []
    assert CHANNEL_SECRET not in response.text


def test_delete_signature_does_not_open_post(emulator: EmulatorServer) -> None:
    """The method is signed: a disconnect signature replayed as connect is refused."""
    path = api_path("connect")
    body = signing.encode_json({"account_id": ACCOUNT_ID})
    headers = signing.signed_headers(CHANNEL_SECRET, "DELETE", path, body, datetime.now(timezone.utc))

    response = requests.post(emulator.url + path, data=body, headers=headers, timeout=5)

    assert response.status_code == 403


def test_query_string_is_not_part_of_the_signature(emulator: EmulatorServer) -> None:
    response = call(emulator, "connect", query="x=1")

    assert response.status_code == 200
    assert emulator.backend.requests()[-1].path == api_path("connect") + "?x=1"


@pytest.mark.parametrize("minutes", [-14, 14])
def test_date_within_15_minutes_is_accepted(emulator: EmulatorServer, minutes: int) -> None:
    assert call(emulator, "connect", now=_now_plus(minutes)).status_code == 200


def test_gmt_date_form_is_accepted(emulator: EmulatorServer) -> None:
    """amojowrapper sends ``GMT`` instead of ``+0000``; the emulator parses any RFC 2822 zone."""
    path = api_path("connect")
    body = signing.encode_json({"account_id": ACCOUNT_ID})
    date = signing.http_date(datetime.now(timezone.utc)).replace("+0000", "GMT")
    md5 = signing.body_md5(body)
    sts = signing.string_to_sign("POST", md5, signing.CONTENT_TYPE_JSON, date, path)
    headers = {
        "Date": date,
        "Content-Type": signing.CONTENT_TYPE_JSON,
        "Content-MD5": md5,
        "X-Signature": signing.signature(CHANNEL_SECRET, sts),
    }

    response = requests.post(emulator.url + path, data=body, headers=headers, timeout=5)

    assert response.status_code == 200


def test_clock_offset_skews_the_emulator_clock(emulator: EmulatorServer) -> None:
    emulator.faults.clock_offset_seconds = 16 * 60

    response = call(emulator, "connect")

    assert response.status_code == 403
    assert error_of(response)["error_type"] == "SIGNATURE_EXPIRED"
    served = signing.parse_http_date(response.headers["Date"])
    assert served - datetime.now(timezone.utc) > timedelta(minutes=15)


def test_signature_is_checked_before_the_body(emulator: EmulatorServer) -> None:
    response = call(emulator, "connect", body=b"not json", secret=WRONG_SECRET)

    assert response.status_code == 403


# Body checks (400) ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (signing.encode_json({"account_id": 42}), "account_id"),
        (signing.encode_json({"account_id": ""}), "account_id"),
        (signing.encode_json({"title": "no account"}), "account_id"),
        (signing.encode_json({"account_id": ACCOUNT_ID, "title": 7}), "title"),
        (
            signing.encode_json({"account_id": ACCOUNT_ID, "is_time_window_disabled": "true"}),
            "is_time_window_disabled",
        ),
        (
            signing.encode_json({"account_id": ACCOUNT_ID, "is_time_window_disabled": 1}),
            "is_time_window_disabled",
        ),
        (
            signing.encode_json({"account_id": ACCOUNT_ID, "hook_api_version": "v3"}),
            "hook_api_version",
        ),
        (
            signing.encode_json({"account_id": ACCOUNT_ID, "hook_api_version": ""}),
            "hook_api_version",
        ),
        (signing.encode_json([{"account_id": ACCOUNT_ID}]), "JSON object"),
        (b'{"account_id": ', "JSON"),
        (b"\xff\xfe", "JSON"),
    ],
    ids=[
        "account-id-int",
        "account-id-empty",
        "account-id-missing",
        "title-int",
        "window-flag-string",
        "window-flag-int",
        "hook-version-v3",
        "hook-version-empty",
        "body-list",
        "invalid-json",
        "not-utf8",
    ],
)
def test_bad_connect_body_is_400_naming_the_field(emulator: EmulatorServer, body: bytes, field: str) -> None:
    response = call(emulator, "connect", body=body)

    assert response.status_code == 400
    assert field in error_of(response)["error_description"]
    assert emulator.backend.connections() == []


def test_bad_disconnect_body_is_400(emulator: EmulatorServer) -> None:
    response = call(emulator, "disconnect", {"account": ACCOUNT_ID})

    assert response.status_code == 400
    assert "account_id" in error_of(response)["error_description"]


# Routing ----------------------------------------------------------------------------------------


def test_unknown_path_is_404_with_empty_body(emulator: EmulatorServer) -> None:
    response = requests.post(f"{emulator.url}/v2/origin/custom/{CHANNEL_ID}/chats", timeout=5)

    assert response.status_code == 404
    assert response.content == b""
    assert "Date" in response.headers
    assert response.headers["Content-Length"] == "0"


@pytest.mark.parametrize(("method", "operation"), [("GET", "connect"), ("POST", "disconnect")])
def test_wrong_method_on_a_known_route_is_405(emulator: EmulatorServer, method: str, operation: str) -> None:
    response = requests.request(method, emulator.url + api_path(operation), timeout=5)

    assert response.status_code == 405
    assert response.headers["Allow"] == OPERATIONS[operation]
    assert error_of(response)["error_type"] == "METHOD_NOT_ALLOWED"


def test_every_answer_has_date_and_content_length(emulator: EmulatorServer) -> None:
    answers = [
        call(emulator, "connect"),
        call(emulator, "connect", secret=WRONG_SECRET),
        call(emulator, "disconnect"),
        admin(emulator, "GET", "state"),
    ]

    for response in answers:
        signing.parse_http_date(response.headers["Date"])
        assert int(response.headers["Content-Length"]) == len(response.content)


def test_every_api_request_is_logged_with_its_final_status(emulator: EmulatorServer) -> None:
    call(emulator, "connect")
    call(emulator, "connect", secret=WRONG_SECRET)
    call(emulator, "connect", body=b"[]")
    requests.get(emulator.url + api_path("connect"), timeout=5)
    requests.get(emulator.url + "/nowhere", timeout=5)
    admin(emulator, "GET", "state")

    log = emulator.backend.requests()

    assert [(r.method, r.status) for r in log] == [
        ("POST", 200),
        ("POST", 403),
        ("POST", 400),
        ("GET", 405),
        ("GET", 404),
    ]
    first = log[0]
    assert first.body == json.dumps({"account_id": ACCOUNT_ID}, separators=(",", ":"))
    assert first.headers["Content-Type"] == "application/json"
    assert first.headers["X-Signature"]
    assert first.fault is None
    assert abs(first.received_at - time.time()) < 60


def test_response_is_written_in_one_send_on_a_nodelay_socket(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two writes per keep-alive answer cost ~40 ms each (Nagle + delayed ACK); see bench/."""
    writes: list[tuple[bytes, int]] = []
    # The unbuffered wfile of every StreamRequestHandler (private, so not in the type stubs).
    socket_writer: Any = vars(socketserver)["_SocketWriter"]
    original = socket_writer.write

    def counting_write(self: Any, data: bytes) -> int:
        nodelay = self._sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        writes.append((bytes(data), nodelay))
        written: int = original(self, data)
        return written

    monkeypatch.setattr(socket_writer, "write", counting_write)

    response = call(emulator, "connect")

    assert response.status_code == 200
    ((data, nodelay),) = writes
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert data.endswith(response.content)
    assert nodelay != 0


def test_keep_alive_serves_many_requests_on_one_connection(emulator: EmulatorServer) -> None:
    with requests.Session() as session:
        responses = [call(emulator, "connect", session=session) for _ in range(20)]

    assert all(r.status_code == 200 for r in responses)
    assert all("close" not in r.headers.get("Connection", "") for r in responses)


# Faults -----------------------------------------------------------------------------------------


def test_fault_429_carries_retry_after(emulator: EmulatorServer) -> None:
    emulator.faults.retry_after = 7
    emulator.faults.script(["429"])

    response = call(emulator, "connect")

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert error_of(response)["error_type"] == "RATE_LIMITED"
    assert emulator.backend.connections() == []


@pytest.mark.parametrize("status", [500, 503])
def test_fault_5xx(emulator: EmulatorServer, status: int) -> None:
    emulator.faults.script([str(status)])

    response = call(emulator, "connect")

    assert response.status_code == status
    assert error_of(response)["error_code"] == status
    assert emulator.backend.connections() == []


def test_fault_delay_answers_normally_after_sleeping(emulator: EmulatorServer) -> None:
    emulator.faults.delay_seconds = 0.2
    emulator.faults.script(["delay"])

    response = call(emulator, "connect")

    assert response.status_code == 200
    assert emulator.backend.requests()[-1].fault == "delay"


def test_fault_delay_trips_a_client_read_timeout(emulator: EmulatorServer) -> None:
    emulator.faults.delay_seconds = 0.5
    emulator.faults.script(["delay"])

    with pytest.raises(requests.ReadTimeout):
        call(emulator, "connect", timeout=(5.0, 0.1))

    # The server still finishes the request; wait so it cannot leak into the next test.
    (logged,) = wait_for_requests(emulator, 1)
    assert (logged.status, logged.fault) == (200, "delay")


def test_fault_reset_drops_the_connection(emulator: EmulatorServer) -> None:
    emulator.faults.script(["reset"])

    with pytest.raises(requests.ConnectionError):
        call(emulator, "connect")

    (logged,) = emulator.backend.requests()
    assert (logged.status, logged.fault) == (0, "reset")
    assert emulator.backend.connections() == []


def test_faults_after_the_commit_leave_the_connection_made(emulator: EmulatorServer) -> None:
    emulator.faults.script(["500-after", "reset-after"])

    failed = call(emulator, "connect")
    with pytest.raises(requests.ConnectionError):
        call(emulator, "disconnect")

    assert failed.status_code == 500 and error_of(failed)["error_code"] == 500
    (connection,) = emulator.backend.connections(include_disconnected=True)
    assert connection.account_id == ACCOUNT_ID and not connection.connected  # both changes stayed
    assert [(r.status, r.fault) for r in emulator.backend.requests()] == [
        (500, "500-after"),
        (0, "reset-after"),
    ]


def test_fault_garbage_is_200_html(emulator: EmulatorServer) -> None:
    emulator.faults.script(["garbage"])

    response = call(emulator, "connect")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html"
    assert response.text == "<html>not json"
    with pytest.raises(ValueError):
        response.json()


def test_scripted_faults_are_consumed_in_order(emulator: EmulatorServer) -> None:
    emulator.faults.script(["500", "ok", "429", "503"])

    statuses = [call(emulator, "connect").status_code for _ in range(5)]

    assert statuses == [500, 200, 429, 503, 200]
    assert [r.fault for r in emulator.backend.requests()] == ["500", None, "429", "503", None]


def test_faults_do_not_touch_admin_routes(emulator: EmulatorServer) -> None:
    emulator.faults.script(["500"])

    assert admin(emulator, "GET", "state").status_code == 200
    assert call(emulator, "connect").status_code == 500


def test_fault_rate_with_a_seed_is_reproducible(emulator: EmulatorServer) -> None:
    def run() -> list[int]:
        emulator.faults.set_rate(0.5, ["500", "503"], seed=1)
        return [call(emulator, "connect").status_code for _ in range(20)]

    first, second = run(), run()

    assert first == second
    assert set(first) == {200, 500, 503}


def test_rate_limiter_refuses_the_request_over_the_limit(emulator: EmulatorServer) -> None:
    emulator.faults.set_rate_limit(5)

    with requests.Session() as session:
        statuses = [call(emulator, "connect", session=session).status_code for _ in range(10)]

    # The bucket starts full: 5 pass. Refill is 5/s, so unless 5 more requests took a full second
    # the next one is refused (the exact count is tested without a network below).
    assert statuses[:5] == [200] * 5
    assert 429 in statuses[5:]
    refused = next(r for r in emulator.backend.requests() if r.status == 429)
    assert refused.fault == "rate_limit"


def test_rate_limiter_token_bucket_per_channel() -> None:
    now = [100.0]
    limiter = RateLimiter(5, clock=lambda: now[0])

    assert [limiter.allow("a") for _ in range(6)] == [True] * 5 + [False]
    assert limiter.allow("b")  # buckets are per channel
    now[0] += 0.2  # one token back at 5/s
    assert [limiter.allow("a") for _ in range(2)] == [True, False]
    limiter.set_rate_limit(None)
    assert all(limiter.allow("a") for _ in range(100))


def test_fault_plan_rejects_unknown_kinds_and_rates() -> None:
    plan = FaultPlan()

    with pytest.raises(ValueError, match="timeout"):
        plan.script(["timeout"])
    with pytest.raises(ValueError):
        plan.set_rate(1.5, ["500"])
    with pytest.raises(ValueError):
        plan.set_rate(0.5, [])
    plan.set_rate(1.0, ["503"])
    assert plan.next_fault() == "503"
    plan.clear()
    assert plan.next_fault() is None


# Admin routes -----------------------------------------------------------------------------------


def test_admin_state_never_contains_the_secret(emulator: EmulatorServer) -> None:
    call(emulator, "connect")
    call(emulator, "connect", secret=WRONG_SECRET)

    response = admin(emulator, "GET", "state")

    assert CHANNEL_SECRET not in response.text
    assert response.json()["channels"] == [CHANNEL_ID]
    assert set(response.json()) >= {"channels", "connections", "requests"}
    assert [r["status"] for r in response.json()["requests"]] == [200, 403]


def test_admin_channels_adds_a_channel_without_echoing_its_secret() -> None:
    # A fresh server: the session one must keep exactly one channel for the other tests.
    with EmulatorServer() as server:
        secret = "a9c1e3b5d7f90214365870abcdef0123456789ab"
        added = admin(server, "POST", "channels", {"channel_id": DEMO_CHANNEL_ID, "secret": secret})
        missing = admin(server, "POST", "channels", {"channel_id": "x", "secret": 12345})
        shown = admin(server, "GET", "state")
        connected = call(server, "connect", channel_id=DEMO_CHANNEL_ID, secret=secret)

    assert added.status_code == 200
    assert added.json() == {"channel_id": DEMO_CHANNEL_ID, "name": "Emulated channel"}
    assert missing.status_code == 400
    assert "12345" not in missing.text
    assert secret not in added.text + shown.text
    assert shown.json()["channels"] == [DEMO_CHANNEL_ID]
    assert connected.status_code == 200


def test_admin_faults_route_configures_the_plan(emulator: EmulatorServer) -> None:
    response = admin(emulator, "POST", "faults", {"script": ["503"], "retry_after": 3})
    assert response.status_code == 200
    assert response.json()["faults"]["script"] == ["503"]
    assert call(emulator, "connect").status_code == 503

    admin(emulator, "POST", "faults", {"rate": 1.0, "kinds": ["429"], "seed": 1})
    limited = call(emulator, "connect")
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "3")

    admin(emulator, "POST", "faults", {"clear": True, "rate_limit": 7, "clock_offset_seconds": 5})
    plan = emulator.faults.to_dict()
    assert (plan["rate"], plan["rate_limit"], plan["clock_offset_seconds"]) == (0.0, 7.0, 5.0)
    assert call(emulator, "connect").status_code == 200

    admin(emulator, "POST", "faults", {"rate_limit": None})
    assert emulator.faults.rate_limiter.per_second is None


@pytest.mark.parametrize(
    "payload",
    [{"script": ["boom"]}, {"rate": "half"}, {"rate": 0.5}, {"colour": "red"}, [1]],
    ids=["unknown-kind", "rate-string", "rate-without-kinds", "unknown-key", "not-object"],
)
def test_admin_faults_route_rejects_bad_input(emulator: EmulatorServer, payload: Any) -> None:
    response = admin(emulator, "POST", "faults", payload)

    assert response.status_code == 400
    error_of(response)


def test_admin_reset_route_and_admin_requests_are_not_logged(emulator: EmulatorServer) -> None:
    call(emulator, "connect")

    assert admin(emulator, "POST", "reset").status_code == 200
    assert admin(emulator, "GET", "reset").status_code == 405

    assert emulator.backend.connections(include_disconnected=True) == []
    assert emulator.backend.requests() == []
    assert emulator.backend.channel_ids() == [CHANNEL_ID]


# Backend and state file -------------------------------------------------------------------------


def test_backend_without_http() -> None:
    backend = AmojoBackend({CHANNEL_ID: CHANNEL_SECRET})

    with pytest.raises(UnknownChannelError):
        backend.connect(UNKNOWN_CHANNEL_ID, ACCOUNT_ID, "", "v2", False)
    connection = backend.connect(CHANNEL_ID, ACCOUNT_ID, "", "v2", False)
    connection.title = "changed outside"  # a copy: the backend's state is not affected
    assert backend.get_connection(CHANNEL_ID, ACCOUNT_ID) is not None
    assert backend.connections()[0].title == "Emulated channel"
    assert backend.disconnect(CHANNEL_ID, ACCOUNT_ID) is True
    assert backend.disconnect(CHANNEL_ID, ACCOUNT_ID) is False
    backend.reset()
    assert backend.connections(include_disconnected=True) == []
    assert backend.channel_secret(CHANNEL_ID) == CHANNEL_SECRET


def test_request_log_is_bounded() -> None:
    backend = AmojoBackend()
    for i in range(10_005):
        backend.record(RecordedRequest("POST", f"/{i}", {}, "", 200, None, 0.0))

    log = backend.requests()

    assert len(log) == 10_000
    assert log[0].path == "/5"


def test_state_file_survives_a_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "emulator-state.json"
    with EmulatorServer({CHANNEL_ID: CHANNEL_SECRET}, state_file=state_file) as first:
        call(first, "connect", {"account_id": ACCOUNT_ID, "title": "Kept"})
        call(first, "connect", {"account_id": OTHER_ACCOUNT_ID})
        call(first, "disconnect", {"account_id": OTHER_ACCOUNT_ID})

    assert stat.S_IMODE(os.stat(state_file).st_mode) == 0o600
    assert CHANNEL_SECRET not in state_file.read_text()  # channels are given at each start, not stored
    with EmulatorServer({CHANNEL_ID: CHANNEL_SECRET}, state_file=state_file) as second:
        restored = {c.account_id: c for c in second.backend.connections(include_disconnected=True)}
        response = call(second, "disconnect", {"account_id": ACCOUNT_ID})

    assert restored[ACCOUNT_ID].title == "Kept" and restored[ACCOUNT_ID].connected
    assert not restored[OTHER_ACCOUNT_ID].connected
    assert response.status_code == 200
    assert AmojoBackend(state_file=state_file).connections() == []
    assert list(tmp_path.iterdir()) == [state_file]  # no temp files left behind


def test_corrupt_state_file_is_refused_without_quoting_it(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    state_file.write_text(
        '{"connections": [{"channel_id": "c", "title": "no account key"}]}', encoding="utf-8"
    )

    with pytest.raises(ValueError, match="not a valid emulator state file") as excinfo:
        AmojoBackend(state_file=state_file)
    assert "no account key" not in str(excinfo.value)


# Command line -----------------------------------------------------------------------------------


def run_main(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[threading.Thread, threading.Event, list[int], str]:
    """Start ``main(argv)`` on a thread and return once it printed its listening line."""
    stop = threading.Event()
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(main(argv, stop_event=stop)))
    thread.start()
    output = ""
    deadline = time.monotonic() + 10
    while "listening on" not in output and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
        output += capsys.readouterr().out
    return thread, stop, result, output


def test_main_serves_until_stopped(capsys: pytest.CaptureFixture[str]) -> None:
    thread, stop, result, output = run_main(["--port", "0", "--demo"], capsys)
    try:
        line = output.strip()
        assert line.startswith("amojo emulator listening on http://127.0.0.1:")
        assert line.endswith(
            f"(channels: {DEMO_CHANNEL_ID}; accounts: {DEMO_ACCOUNT_SUBDOMAIN}, {DEMO2_ACCOUNT_SUBDOMAIN})"
        )
        url = line.split(" on ", 1)[1].split(" ", 1)[0]
        path = api_path("connect", DEMO_CHANNEL_ID)
        body = signing.encode_json({"account_id": ACCOUNT_ID})
        headers = signing.signed_headers(DEMO_CHANNEL_SECRET, "POST", path, body, datetime.now(timezone.utc))
        response = requests.post(url + path, data=body, headers=headers, timeout=5)
        assert response.status_code == 200
        demo = {"Authorization": f"Bearer {DEMO_ACCESS_TOKEN}"}
        account = requests.get(url + "/api/v4/account?with=amojo_id", headers=demo, timeout=5)
        assert account.json()["amojo_id"] == DEMO_ACCOUNT_IDS[0]
        demo2 = {"Authorization": f"Bearer {DEMO2_ACCESS_TOKEN}"}
        second = requests.get(url + "/api/v4/account?with=amojo_id", headers=demo2, timeout=5).json()
        assert (second["subdomain"], second["amojo_id"]) == (DEMO2_ACCOUNT_SUBDOMAIN, DEMO_ACCOUNT_IDS[1])
    finally:
        stop.set()
        thread.join(timeout=10)
    assert result == [0]


def test_main_reads_secrets_from_env_and_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(WRONG_SECRET + "\n", encoding="utf-8")
    monkeypatch.setenv(CHANNEL_SECRET_ENV, CHANNEL_SECRET)
    argv = [
        "--port",
        "0",
        "--channel",
        CHANNEL_ID,
        "--channel",
        f"{UNKNOWN_CHANNEL_ID}:@{secret_file}",
        "--rate-limit",
        "50",
        "--fault-rate",
        "0.1",
        "--fault-kinds",
        "500,reset",
        "--fault-seed",
        "3",
    ]

    thread, stop, result, output = run_main(argv, capsys)
    stop.set()
    thread.join(timeout=10)

    assert f"(channels: {CHANNEL_ID}, {UNKNOWN_CHANNEL_ID})" in output
    assert CHANNEL_SECRET not in output and WRONG_SECRET not in output
    assert result == [0]


@pytest.mark.parametrize(
    "argv",
    [
        ["--channel", f"{CHANNEL_ID}:{CHANNEL_SECRET}"],
        ["--channel", f"{CHANNEL_ID}:secret={CHANNEL_SECRET}"],
    ],
    ids=["id-colon-secret", "id-colon-key-value"],
)
def test_main_refuses_a_literal_secret_without_echoing_it(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(["--port", "0", *argv])

    assert excinfo.value.code == 2
    err = capsys.readouterr().err
    assert "cannot be given on the command line" in err
    assert CHANNEL_SECRET not in err


def test_main_needs_a_secret_source_for_a_channel(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CHANNEL_SECRET_ENV, raising=False)

    with pytest.raises(SystemExit) as excinfo:
        main(["--port", "0", "--channel", CHANNEL_ID])

    assert excinfo.value.code == 2
    assert CHANNEL_SECRET_ENV in capsys.readouterr().err


def test_main_rejects_unknown_fault_kinds(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(["--port", "0", "--fault-rate", "0.5", "--fault-kinds", "500,explode"])

    assert excinfo.value.code == 2
    assert "explode" in capsys.readouterr().err


def _cli_token() -> str:
    return mint_token(
        account_id=1,
        integration_id=CHANNEL_ID,
        user_id=1,
        issued_at=0,
        expires_at=4_102_444_800,
        token_id="cli",
    )


def test_main_serves_a_rest_account_with_its_token_from_env_or_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from_env, from_file = (
        _cli_token(),
        mint_token(
            account_id=2,
            integration_id=CHANNEL_ID,
            user_id=1,
            issued_at=0,
            expires_at=4_102_444_800,
            token_id="f",
        ),
    )
    token_file = tmp_path / "token"
    token_file.write_text(from_file + "\n", encoding="utf-8")
    monkeypatch.setenv(ACCESS_TOKEN_ENV, from_env)
    argv = [
        "--port",
        "0",
        "--account",
        f"acme:{ACCOUNT_ID.upper()}",
        "--account",
        f"globex:{OTHER_ACCOUNT_ID}:@{token_file}",
    ]

    thread, stop, result, output = run_main(argv, capsys)
    try:
        url = output.split(" on ", 1)[1].split(" ", 1)[0]
        seen = {
            token: requests.get(
                url + "/api/v4/account?with=amojo_id", headers={"Authorization": f"Bearer {token}"}, timeout=5
            ).json()
            for token in (from_env, from_file)
        }
    finally:
        stop.set()
        thread.join(timeout=10)

    assert "(channels: none; accounts: acme, globex)" in output
    assert (seen[from_env]["subdomain"], seen[from_env]["amojo_id"]) == ("acme", ACCOUNT_ID)
    assert (seen[from_file]["subdomain"], seen[from_file]["amojo_id"]) == ("globex", OTHER_ACCOUNT_ID)
    assert from_env not in output and from_file not in output
    assert result == [0]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (f"acme:{ACCOUNT_ID}:TOKEN", "cannot be given on the command line"),
        ("acme", "SUBDOMAIN:AMOJO_ID"),
        ("acme:not-a-uuid", "amojo_id must be a UUID"),
    ],
    ids=["literal-token", "no-amojo-id", "bad-amojo-id"],
)
def test_main_refuses_a_bad_account_without_echoing_a_token(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, spec: str, message: str
) -> None:
    token = _cli_token()
    monkeypatch.setenv(ACCESS_TOKEN_ENV, token)

    with pytest.raises(SystemExit) as excinfo:
        main(["--port", "0", "--account", spec.replace("TOKEN", token)])

    assert excinfo.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert token not in err


@pytest.mark.parametrize("env_value", [None, "not-a-jwt"], ids=["unset", "not-a-jwt"])
def test_main_needs_a_jwt_shaped_token_for_an_account(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, env_value: str | None
) -> None:
    if env_value is None:
        monkeypatch.delenv(ACCESS_TOKEN_ENV, raising=False)
    else:
        monkeypatch.setenv(ACCESS_TOKEN_ENV, env_value)

    with pytest.raises(SystemExit) as excinfo:
        main(["--port", "0", "--account", f"acme:{ACCOUNT_ID}"])

    assert excinfo.value.code == 2
    err = capsys.readouterr().err
    assert "--account acme" in err
    assert (ACCESS_TOKEN_ENV if env_value is None else "JWT") in err
    assert "not-a-jwt" not in err
