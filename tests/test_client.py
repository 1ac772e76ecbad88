"""ChatApiClient against the real emulator: success, every error path, retries and faults."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from typing import ClassVar

import pytest
import requests
from constants import ACCOUNT_ID, CHANNEL_ID, CHANNEL_SECRET
from emulator_helpers import stored, wait_for_requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kommo_provider import signing
from kommo_provider.auth import KommoSignatureAuth
from kommo_provider.client import ChatApiClient
from kommo_provider.emulator import EmulatorServer
from kommo_provider.exceptions import (
    ChannelNotFoundError,
    ConfigurationError,
    InvalidRequestError,
    RateLimitedError,
    ServerError,
    SignatureRejectedError,
    TransportError,
    UnexpectedResponseError,
)
from kommo_provider.hosts import resolve_base_url
from kommo_provider.payloads import ChannelCredentials
from kommo_provider.transport import BoundedRetry, RequestPacer

CHANNEL = ChannelCredentials(CHANNEL_ID, CHANNEL_SECRET)
UNKNOWN_CHANNEL = "11111111-2222-4333-8444-555555555555"


def make_client(emulator: EmulatorServer, **kwargs: object) -> ChatApiClient:
    options: dict[str, object] = {"max_requests_per_second": None, "read_timeout": 2.0}
    options.update(kwargs)
    return ChatApiClient(emulator.url, **options)  # type: ignore[arg-type]


def test_connect_returns_the_servers_answer(emulator: EmulatorServer) -> None:
    result = make_client(emulator).connect(CHANNEL, ACCOUNT_ID, title="Bot", is_time_window_disabled=True)
    stored = emulator.backend.get_connection(CHANNEL_ID, ACCOUNT_ID)
    assert stored is not None and stored.connected
    assert result.scope_id == stored.scope_id
    assert result.to_dict() == {
        "account_id": ACCOUNT_ID,
        "scope_id": stored.scope_id,
        "title": "Bot",
        "hook_api_version": "v2",
        "is_time_window_disabled": True,
    }


def test_the_sent_bytes_are_the_hashed_bytes(emulator: EmulatorServer) -> None:
    make_client(emulator).connect(CHANNEL, ACCOUNT_ID, title='Канал/1 "quoted"')
    (recorded,) = emulator.backend.requests()
    body = recorded.body.encode("utf-8")
    assert body == signing.encode_json(
        {"account_id": ACCOUNT_ID, "title": 'Канал/1 "quoted"', "hook_api_version": "v2"}
    )
    assert recorded.headers["Content-MD5"] == signing.body_md5(body)
    assert recorded.headers["Content-Type"] == "application/json"
    assert recorded.headers["Date"].endswith(" +0000")


def test_connect_without_title_gets_the_channel_name(emulator: EmulatorServer) -> None:
    result = make_client(emulator).connect(CHANNEL, ACCOUNT_ID)
    assert result.get("title") == "Emulated channel"
    assert "title" not in json.loads(emulator.backend.requests()[0].body)


def test_disconnect_accepts_empty_and_object_bodies(emulator: EmulatorServer) -> None:
    client = make_client(emulator)
    client.connect(CHANNEL, ACCOUNT_ID)
    client.disconnect(CHANNEL, ACCOUNT_ID)
    assert not stored(emulator, CHANNEL_ID, ACCOUNT_ID).connected
    with EmulatorServer({CHANNEL_ID: CHANNEL_SECRET}, disconnect_body="object") as other:
        make_client(other).disconnect(CHANNEL, ACCOUNT_ID)
        assert other.backend.requests()[-1].status == 200


def test_wrong_secret_is_a_signature_error_without_the_secret(emulator: EmulatorServer) -> None:
    wrong = "0" * 40
    with pytest.raises(SignatureRejectedError) as info:
        make_client(emulator).connect(ChannelCredentials(CHANNEL_ID, wrong), ACCOUNT_ID)
    text = str(info.value) + repr(info.value)
    assert "channel secret" in text and "clock" in text and info.value.status == 403
    assert wrong not in text and "differs" not in text  # clocks agree: no skew claim


def test_clock_skew_is_reported(emulator: EmulatorServer) -> None:
    def slow() -> datetime:
        return datetime.now(timezone.utc) - timedelta(minutes=20)

    with pytest.raises(SignatureRejectedError, match=r"differs from this machine's by \+1[12]\d\d s"):
        make_client(emulator, clock=slow).connect(CHANNEL, ACCOUNT_ID)


def test_unknown_channel(emulator: EmulatorServer) -> None:
    with pytest.raises(ChannelNotFoundError, match=UNKNOWN_CHANNEL):
        make_client(emulator).connect(ChannelCredentials(UNKNOWN_CHANNEL, CHANNEL_SECRET), ACCOUNT_ID)


def test_invalid_request_carries_the_servers_details(emulator: EmulatorServer) -> None:
    with pytest.raises(InvalidRequestError) as info:
        make_client(emulator).connect(CHANNEL, ACCOUNT_ID, hook_api_version="v3")
    assert info.value.status == 400 and "hook_api_version" in (info.value.details or "")


@pytest.mark.parametrize("script", [["429"], ["500", "500"], ["503", "reset", "502"], ["reset"]])
def test_transient_faults_are_retried(emulator: EmulatorServer, script: list[str]) -> None:
    emulator.faults.retry_after = 0
    emulator.faults.script([k for k in script if k != "502"])
    result = make_client(emulator).connect(CHANNEL, ACCOUNT_ID)
    assert result.scope_id == f"{CHANNEL_ID}_{ACCOUNT_ID}"
    statuses = [r.status for r in emulator.backend.requests()]
    assert statuses[-1] == 200 and len(statuses) == len([k for k in script if k != "502"]) + 1


def test_retry_after_is_honoured(emulator: EmulatorServer) -> None:
    emulator.faults.retry_after = 1
    emulator.faults.script(["429"])
    started = time.monotonic()
    make_client(emulator).connect(CHANNEL, ACCOUNT_ID)
    assert time.monotonic() - started >= 0.9


def test_persistent_503_gives_a_clear_error_after_bounded_retries(emulator: EmulatorServer) -> None:
    emulator.faults.retry_after = 0
    emulator.faults.script(["503"] * 20)
    with pytest.raises(ServerError, match="503 after retries"):
        make_client(emulator, retry=3).connect(CHANNEL, ACCOUNT_ID)
    assert len(emulator.backend.requests()) == 4  # first try + 3 retries


def test_persistent_429_is_rate_limited_error(emulator: EmulatorServer) -> None:
    emulator.faults.retry_after = 0
    emulator.faults.script(["429"] * 5)
    with pytest.raises(RateLimitedError, match="maxRequestsPerSecond"):
        make_client(emulator, retry=2).connect(CHANNEL, ACCOUNT_ID)


def test_timeout_is_a_transport_error(emulator: EmulatorServer) -> None:
    emulator.faults.delay_seconds = 1.0
    emulator.faults.script(["delay", "delay"])
    with pytest.raises(TransportError, match=r"no answer .* within 0\.3 s"):
        make_client(emulator, read_timeout=0.3, retry=1).connect(CHANNEL, ACCOUNT_ID)
    assert [r.fault for r in wait_for_requests(emulator, 2)] == ["delay", "delay"]


def test_a_delay_then_success_is_retried(emulator: EmulatorServer) -> None:
    emulator.faults.delay_seconds = 1.0
    emulator.faults.script(["delay"])
    assert make_client(emulator, read_timeout=0.3).connect(CHANNEL, ACCOUNT_ID).scope_id
    assert sorted(str(r.fault) for r in wait_for_requests(emulator, 2)) == ["None", "delay"]


def test_garbage_body_is_an_unexpected_response(emulator: EmulatorServer) -> None:
    emulator.faults.script(["garbage"])
    with pytest.raises(UnexpectedResponseError, match="not JSON"):
        make_client(emulator).connect(CHANNEL, ACCOUNT_ID)


def test_unreachable_host_is_a_transport_error() -> None:
    client = ChatApiClient("http://127.0.0.1:9", retry=0, max_requests_per_second=None)
    with pytest.raises(TransportError, match=r"could not reach http://127\.0\.0\.1:9"):
        client.connect(CHANNEL, ACCOUNT_ID)


def test_rate_limited_emulator_is_not_hit_when_paced(emulator: EmulatorServer) -> None:
    emulator.faults.set_rate_limit(7)
    client = make_client(emulator, max_requests_per_second=7)
    for i in range(12):
        client.connect(CHANNEL, f"00000000-0000-4000-8000-{i:012d}")
    assert {r.status for r in emulator.backend.requests()} == {200}


def test_pacer_spaces_requests() -> None:
    pacer = RequestPacer(20)
    started = time.monotonic()
    for _ in range(5):
        pacer.wait()
    assert time.monotonic() - started >= 0.19
    assert RequestPacer(None).interval == RequestPacer(0).interval == 0


def test_retry_after_is_capped() -> None:
    class Fake:
        headers: ClassVar[dict[str, str]] = {"Retry-After": "3600"}

        def getheader(self, name: str) -> str | None:
            return self.headers.get(name)

    assert BoundedRetry().get_retry_after(Fake()) == 30.0


def test_reprs_never_show_the_secret(emulator: EmulatorServer) -> None:
    assert CHANNEL_SECRET not in repr(CHANNEL)
    assert CHANNEL_SECRET not in repr(KommoSignatureAuth(CHANNEL_SECRET))
    assert CHANNEL_SECRET not in repr(make_client(emulator))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "https://amojo.kommo.com"),
        ("kommo", "https://amojo.kommo.com"),
        ("amocrm.ru", "https://amojo.amocrm.ru"),
        ("AMOCRM.COM", "https://amojo.amocrm.com"),
        ("https://amojo.kommo.com/", "https://amojo.kommo.com"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
        ("http://localhost:1", "http://localhost:1"),
        ("http://[::1]:8", "http://[::1]:8"),
    ],
)
def test_base_urls(value: str | None, expected: str) -> None:
    assert resolve_base_url(value) == expected


@pytest.mark.parametrize(
    "value", ["http://amojo.kommo.com", "https://x/path", "https://u:p@x", "amojo.kommo.com", "https://x?q=1"]
)
def test_bad_base_urls_name_the_field(value: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        resolve_base_url(value)
    assert info.value.field == "base_url"


def test_plain_http_to_a_remote_host_needs_an_explicit_opt_in() -> None:
    assert resolve_base_url("http://10.0.0.5:80", allow_insecure=True) == "http://10.0.0.5:80"


# -- properties ----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
bodies = st.fixed_dictionaries(
    {"account_id": st.just(ACCOUNT_ID)},
    optional={"title": st.text(min_size=1), "is_time_window_disabled": st.booleans(), "extra": json_values},
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=bodies)
def test_any_json_body_signed_by_the_client_is_accepted(
    emulator: EmulatorServer, payload: dict[str, object]
) -> None:
    session = requests.Session()
    body = signing.encode_json(payload)
    response = session.post(
        f"{emulator.url}/v2/origin/custom/{CHANNEL_ID}/connect",
        data=body,
        auth=KommoSignatureAuth(CHANNEL_SECRET),
        timeout=5,
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope_id"] == f"{CHANNEL_ID}_{ACCOUNT_ID}"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=bodies, target=st.sampled_from(["body", "path", "date", "secret"]), data=st.data())
def test_any_tampering_is_rejected(
    emulator: EmulatorServer, payload: dict[str, object], target: str, data: st.DataObject
) -> None:
    body = signing.encode_json(payload)
    path = f"/v2/origin/custom/{CHANNEL_ID}/connect"
    now = datetime.now(timezone.utc)
    headers = signing.signed_headers(CHANNEL_SECRET, "POST", path, body, now)
    if target == "body":
        i = data.draw(st.integers(0, len(body) - 1))
        body = body[:i] + bytes([body[i] ^ data.draw(st.integers(1, 255))]) + body[i + 1 :]
    elif target == "path":
        headers["X-Signature"] = signing.signed_headers(CHANNEL_SECRET, "POST", path + "x", body, now)[
            "X-Signature"
        ]
    elif target == "date":
        shift = data.draw(st.integers(1, 600))
        headers["Date"] = signing.http_date(now + timedelta(seconds=shift))
    else:
        secret = bytearray(CHANNEL_SECRET.encode())
        i = data.draw(st.integers(0, len(secret) - 1))
        secret[i] = ord("0") if secret[i] != ord("0") else ord("1")
        headers = signing.signed_headers(secret.decode(), "POST", path, body, now)
    response = requests.post(emulator.url + path, data=body, headers=headers, timeout=5)
    assert response.status_code == 403, (target, response.text)


def test_proxy_environment_is_honoured(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment is read once per session, but still read: a proxy setting takes effect."""
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "")
    with pytest.raises(TransportError):
        make_client(emulator, retry=0).connect(CHANNEL, ACCOUNT_ID)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert make_client(emulator).connect(CHANNEL, ACCOUNT_ID).scope_id
