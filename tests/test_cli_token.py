"""``kommo-chat token`` against a token service of the test's own (token_service.py: ``http.server`` on
loopback, port 0), answering as a vendor's backend and the emulator's ``/_emulator/vendor-tokens/{host}``.

Every failure must be one line naming the account and the HTTP status, with no body, no token and no key
in it; a success, one line of JSON on stdout.
"""

from __future__ import annotations

import json
import math
import socket
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

import pytest
from cli_helpers import Result, RunFn, run_cli
from token_service import BODY_MARKER, EXPIRES_AT, PREFIX, TokenService, serve_tokens

from kommo_provider.cli.token import ACCOUNT_ENV, MAX_ANSWER_BYTES
from kommo_provider.emulator.rest.tokens import mint_token

ACCOUNT: Final = "acme.kommo.com"
OPAQUE_TOKEN: Final = "tok-3f9a.Opaque_TOKEN~value-must-stay-private"
JWT_TOKEN: Final = mint_token(
    account_id=31_000_001,
    integration_id="2f6d1c8e-0b47-4a95-8e3c-7d1a9b5f4e20",
    user_id=9_000_001,
    issued_at=1_767_225_600,
    expires_at=EXPIRES_AT,
    token_id="b7e4c2a19f3d48e6a0c5d1f7e9b3a2c8",
)
SERVICE_KEY: Final = "svc-KEY-5d2e8f1a-never-printed"
WRONG_KEY: Final = "svc-KEY-wrong-0c4b-never-printed"


@pytest.fixture(scope="module")
def _service() -> Iterator[TokenService]:
    with serve_tokens() as service:
        yield service


@pytest.fixture
def service(_service: TokenService, monkeypatch: pytest.MonkeyPatch) -> TokenService:
    """The service, knowing ``acme.kommo.com`` only, requiring no key; ``KOMMO_ACCOUNT`` set to acme."""
    _service.reset()
    _service.token(ACCOUNT, OPAQUE_TOKEN)
    monkeypatch.setenv(ACCOUNT_ENV, ACCOUNT)
    monkeypatch.delenv("KOMMO_TOKEN_SERVICE_KEY", raising=False)
    return _service


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> RunFn:
    """``kommo-chat`` in-process; the key never in stdout or stderr, the tokens never in stderr."""

    def run_token(argv: Sequence[str]) -> Result:
        result = run_cli(capsys, argv, secrets=(SERVICE_KEY, WRONG_KEY))
        for token in (OPAQUE_TOKEN, JWT_TOKEN):
            assert token not in result.err
        return result

    return run_token


def printed(result: Result) -> dict[str, object]:
    """The one JSON line on stdout of a successful run."""
    assert (result.code, result.err) == (0, ""), result.err
    assert result.out.endswith("\n") and result.out.count("\n") == 1, result.out
    answer = json.loads(result.out)
    assert isinstance(answer, dict)
    return answer


def one_error_line(result: Result, *words: str) -> str:
    """The failure is one ``kommo-chat: error:`` line naming ``words``; nothing on stdout, no body."""
    assert result.out == ""
    assert result.err.count("\n") == 1 and result.err.startswith("kommo-chat: error: "), result.err
    assert "Traceback" not in result.err and BODY_MARKER not in result.err
    for word in words:
        assert word in result.err, f"{word!r} not in {result.err!r}"
    return result.err


# -- answers that carry a token ------------------------------------------------------------------------


def test_prints_the_services_token_and_expiry_as_one_json_line(run: RunFn, service: TokenService) -> None:
    answer = printed(run(["token", "--url", service.url]))
    assert answer == {"accessToken": OPAQUE_TOKEN, "expiresAt": EXPIRES_AT}
    assert service.seen == [(f"{PREFIX}/{ACCOUNT}", None)], "one GET, no key when none is set"


@pytest.mark.parametrize(
    "expires_at",
    [
        "2030-01-01T00:00:00Z",
        "2030-01-01T03:00:00+03:00",
        "2029-12-31T19:00:00-05:00",
        "2030-01-01t00:00:00z",
        "2030-01-01T00:00:00.250Z",
        EXPIRES_AT + 0.75,
    ],
)
def test_expires_at_in_rfc3339_or_fractional_seconds_becomes_unix_seconds(
    run: RunFn, service: TokenService, expires_at: object
) -> None:
    service.token(ACCOUNT, OPAQUE_TOKEN, expires_at)
    assert printed(run(["token", "--url", service.url])) == {
        "accessToken": OPAQUE_TOKEN,
        "expiresAt": EXPIRES_AT,
    }


def test_a_bare_jwt_as_text_gets_its_exp_as_expires_at(run: RunFn, service: TokenService) -> None:
    service.answer(ACCOUNT, 200, f"{JWT_TOKEN}\n", "text/plain; charset=utf-8")
    assert printed(run(["token", "--url", service.url])) == {
        "accessToken": JWT_TOKEN,
        "expiresAt": EXPIRES_AT,
    }


def test_a_token_without_any_expiry_is_printed_without_expires_at(run: RunFn, service: TokenService) -> None:
    service.answer(ACCOUNT, 200, OPAQUE_TOKEN, "text/plain")
    assert printed(run(["token", "--url", service.url])) == {"accessToken": OPAQUE_TOKEN}
    service.answer(ACCOUNT, 200, json.dumps({"accessToken": OPAQUE_TOKEN}))
    assert printed(run(["token", "--url", service.url + "/"])) == {"accessToken": OPAQUE_TOKEN}


@pytest.mark.parametrize(
    ("account", "host"),
    [("acme", "acme.kommo.com"), ("ACME.kommo.com.", "acme.kommo.com"), ("shop.amocrm.ru", "shop.amocrm.ru")],
)
def test_the_account_is_asked_for_by_its_canonical_host(
    run: RunFn, service: TokenService, monkeypatch: pytest.MonkeyPatch, account: str, host: str
) -> None:
    monkeypatch.setenv(ACCOUNT_ENV, account)
    service.token(host, JWT_TOKEN)
    assert printed(run(["token", "--url", service.url]))["accessToken"] == JWT_TOKEN
    assert [path for path, _ in service.seen] == [f"{PREFIX}/{host}"]


def test_the_key_goes_as_a_bearer_header_from_the_environment_or_a_file(
    run: RunFn, service: TokenService, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    service.key = SERVICE_KEY
    monkeypatch.setenv("KOMMO_TOKEN_SERVICE_KEY", SERVICE_KEY)
    assert printed(run(["token", "--url", service.url]))["accessToken"] == OPAQUE_TOKEN
    monkeypatch.delenv("KOMMO_TOKEN_SERVICE_KEY")
    key_file = tmp_path / "key"
    key_file.write_text(f"{SERVICE_KEY}\n")
    assert (
        printed(run(["token", "--url", service.url, "--key-file", str(key_file)]))["accessToken"]
        == OPAQUE_TOKEN
    )
    assert service.seen == [(f"{PREFIX}/{ACCOUNT}", f"Bearer {SERVICE_KEY}")] * 2


def test_verbose_logs_the_request_but_neither_token_nor_key(
    run: RunFn, service: TokenService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KOMMO_TOKEN_SERVICE_KEY", SERVICE_KEY)
    result = run(["-v", "token", "--url", service.url])
    assert result.code == 0 and json.loads(result.out)["accessToken"] == OPAQUE_TOKEN
    assert f"GET {service.url}/{ACCOUNT} -> 200" in result.err


# -- answers that do not ---------------------------------------------------------------------------------


def test_an_unknown_account_is_a_404_named_in_one_line(
    run: RunFn, service: TokenService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ACCOUNT_ENV, "globex")
    result = run(["token", "--url", service.url])
    assert result.code == 1
    one_error_line(result, "globex.kommo.com", "HTTP 404")


def test_a_server_error_shows_neither_body_nor_the_token_in_it(run: RunFn, service: TokenService) -> None:
    service.answer(ACCOUNT, 500, json.dumps({"accessToken": OPAQUE_TOKEN, "trace": BODY_MARKER}))
    result = run(["token", "--url", service.url])
    assert result.code == 1
    one_error_line(result, ACCOUNT, "HTTP 500")


def test_a_service_that_wants_a_key_says_whether_one_was_sent(
    run: RunFn, service: TokenService, monkeypatch: pytest.MonkeyPatch
) -> None:
    service.key = SERVICE_KEY
    result = run(["token", "--url", service.url])
    assert result.code == 1
    one_error_line(result, ACCOUNT, "HTTP 401", "without a key", "KOMMO_TOKEN_SERVICE_KEY")
    monkeypatch.setenv("KOMMO_TOKEN_SERVICE_KEY", WRONG_KEY)
    result = run(["token", "--url", service.url])
    assert result.code == 1
    one_error_line(result, ACCOUNT, "HTTP 401", "with the key given")
    assert service.seen == [(f"{PREFIX}/{ACCOUNT}", None), (f"{PREFIX}/{ACCOUNT}", f"Bearer {WRONG_KEY}")]


@pytest.mark.parametrize(
    ("content_type", "body", "words"),
    [
        ("application/json", f"not json {BODY_MARKER}", ("not JSON",)),
        ("application/json", json.dumps({"token": OPAQUE_TOKEN}), ('"accessToken"',)),
        ("application/json", json.dumps({"accessToken": 12345}), ('"accessToken"',)),
        (
            "application/json",
            json.dumps({"accessToken": OPAQUE_TOKEN, "expiresAt": "tomorrow"}),
            ("expiresAt",),
        ),
        ("application/json", json.dumps({"accessToken": OPAQUE_TOKEN, "expiresAt": True}), ("expiresAt",)),
        (
            "application/json",
            json.dumps({"accessToken": OPAQUE_TOKEN, "expiresAt": math.nan}),
            ("expiresAt",),
        ),
        (
            "application/json",
            json.dumps({"accessToken": OPAQUE_TOKEN, "expiresAt": "2030-01-01T00:00:00"}),
            ("zone",),
        ),
        ("application/json", json.dumps({"accessToken": f"Bearer {OPAQUE_TOKEN}"}), ("whitespace",)),
        ("text/html", f"<html><body>{BODY_MARKER}</body></html>", ("characters a bearer token cannot have",)),
        ("text/plain", f"{OPAQUE_TOKEN} {OPAQUE_TOKEN}", ("whitespace",)),
        ("text/plain", "", ("empty",)),
        ("application/octet-stream", b"\xff\xfe" + OPAQUE_TOKEN.encode(), ("UTF-8",)),
        ("text/plain", "a" * (MAX_ANSWER_BYTES + 1), ("KiB",)),
    ],
    ids=[
        "json-type-not-json",
        "json-without-access-token",
        "access-token-not-a-string",
        "expires-at-a-word",
        "expires-at-a-boolean",
        "expires-at-nan",
        "expires-at-without-zone",
        "token-with-bearer",
        "html-page",
        "two-words",
        "empty",
        "not-utf8",
        "too-long",
    ],
)
def test_a_200_without_a_usable_token_is_one_line_naming_the_status(
    run: RunFn, service: TokenService, content_type: str, body: str | bytes, words: tuple[str, ...]
) -> None:
    service.answer(ACCOUNT, 200, body, content_type)
    result = run(["token", "--url", service.url])
    assert result.code == 1
    error = one_error_line(result, ACCOUNT, "HTTP 200", *words)
    assert OPAQUE_TOKEN not in error


def test_a_redirect_is_not_followed(
    run: RunFn, service: TokenService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A redirect could take the key to another host, or to plain http: it is a failure, not followed."""
    monkeypatch.setenv("KOMMO_TOKEN_SERVICE_KEY", SERVICE_KEY)
    service.answer(ACCOUNT, 302, "", "text/plain")
    service.token("elsewhere", OPAQUE_TOKEN)
    result = run(["token", "--url", service.url])
    assert result.code == 1
    one_error_line(result, ACCOUNT, "HTTP 302")
    assert [path for path, _ in service.seen] == [f"{PREFIX}/{ACCOUNT}"]


def test_an_unreachable_service_names_the_account(run: RunFn, service: TokenService) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    result = run(["token", "--url", f"http://127.0.0.1:{closed}/tokens"])
    assert result.code == 1
    one_error_line(result, ACCOUNT, "could not be reached")


@pytest.mark.parametrize("account", [None, "", "  ", "https://acme.kommo.com/", "www", "acme.example.com"])
def test_kommo_account_missing_or_not_a_host_is_a_usage_error_and_nothing_is_sent(
    run: RunFn, service: TokenService, monkeypatch: pytest.MonkeyPatch, account: str | None
) -> None:
    if account is None:
        monkeypatch.delenv(ACCOUNT_ENV)
    else:
        monkeypatch.setenv(ACCOUNT_ENV, account)
    result = run(["token", "--url", service.url])
    assert result.code == 2
    one_error_line(result, ACCOUNT_ENV)
    assert service.seen == []
