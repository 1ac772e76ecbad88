"""The ``kommo-chat`` command line, driven in-process through ``main([...])`` (like httpx's test_main.py).

Every captured stdout/stderr is checked for the secrets used here: the CLI must never print one.
"""

from __future__ import annotations

import argparse
import email.utils
import hashlib
import hmac
import json
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Final

import pytest
from cli_helpers import (
    TV1_SECRET,
    TV4_SECRET,
    WRONG_SECRET,
    RunFn,
    assert_no_secret,
    run_cli,
    set_stdin,
)
from constants import ACCOUNT_ID, CHANNEL_ID, CHANNEL_SECRET, OTHER_ACCOUNT_ID

from kommo_provider import cli, signing
from kommo_provider import emulator as kommo_emulator
from kommo_provider.cli import emulator as cli_emulator
from kommo_provider.cli.secrets import SecretSource, load_referenced_secret
from kommo_provider.emulator import rest as kommo_emulator_rest
from kommo_provider.emulator.server import DEMO_PORT, EmulatorServer
from kommo_provider.exceptions import SecretError
from kommo_provider.settings import DEFAULT_RETRIES

# Published inputs, kommo-chat-api.md section 5 (the secrets are in cli_helpers).
TV1_DATE = "Thu, 29 Oct 2020 11:59:55 +0000"
TV1_PATH = "/v2/origin/custom/f90ba33d-c9d9-44da-b76c-c349b0ecbe41/connect"
TV1_BODY = (  # 98 bytes, given literally on the amoCRM page
    '{"account_id":"af9945ff-1490-4cad-807d-945c15d88bec","title":"ScopeTitle","hook_api_version":"v2"}'
)
TV1_MD5 = "a5e8ae04332a6d0aac15f01ad05d40e3"
TV1_SIGNATURE = "e0dcc1936d766a7d5f53fe19887fafa50bef92e0"

TV4_DATE = "Wed, 30 Nov 2022 16:33:21 +0000"
TV4_PATH = "/v2/origin/custom/f62a0162-46a7-430e-b06c-0ef798d56b21/disconnect"
TV4_BODY = b'{"account_id":"52fd2a28-d2eb-4bd8-b862-a67934927b38"}'
TV4_MD5 = "2a3c7cd98696c0388111e2d6b2b694d0"
TV4_SIGNATURE = "7a9ce132fff0315dc4b99ce9b2c69bb2dfdb6404"

UNKNOWN_CHANNEL_ID = "11111111-2222-3333-4444-555555555555"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cli.SECRET_ENV, raising=False)


@pytest.fixture(autouse=True)
def _nothing_secret_leaks(capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    """Whatever a test leaves in the capture (not read through run()) is checked too."""
    yield
    captured = capsys.readouterr()
    assert_no_secret(captured.out, captured.err)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> RunFn:
    """Call ``cli.main(argv)`` in-process; return exit code and captured output (secret-free)."""
    return lambda argv: run_cli(capsys, argv)


def header_lines(out: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in out.splitlines() if not line.startswith("curl "))


def curl_line(out: str) -> str:
    lines = [line for line in out.splitlines() if line.startswith("curl ")]
    assert len(lines) == 1, out
    return lines[0]


def run_curl(command: str) -> tuple[int, str]:
    """Run a printed curl command in a shell; return (HTTP status, response body)."""
    done = subprocess.run(
        ["sh", "-c", command + " -w '\\n%{http_code}'"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    body, _, status = done.stdout.rpartition("\n")
    return int(status), body


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- sign ----------------------------------------------------------------------------------------------


def test_published_inputs_are_intact() -> None:
    assert len(TV1_BODY.encode()) == 98
    assert len(TV4_BODY) == 53


def test_sign_reproduces_tv1_with_secret_from_env(run: RunFn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOMMO_CHANNEL_SECRET", TV1_SECRET)
    result = run(["sign", "--method", "POST", "--path", TV1_PATH, "--date", TV1_DATE, "--body", TV1_BODY])
    assert result.code == 0, result.err
    assert result.out == (
        f"Date: {TV1_DATE}\n"
        "Content-Type: application/json\n"
        f"Content-MD5: {TV1_MD5}\n"
        f"X-Signature: {TV1_SIGNATURE}\n"
    )
    assert result.err == ""


def test_sign_reproduces_tv4_with_secret_file(run: RunFn, tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(TV4_SECRET + "\n")  # the trailing newline is dropped
    body_file = tmp_path / "body.json"
    body_file.write_bytes(TV4_BODY)
    result = run(
        [
            "sign",
            "--method",
            "DELETE",
            "--path",
            TV4_PATH,
            "--date",
            TV4_DATE,
            "--body-file",
            str(body_file),
            "--secret-file",
            str(secret_file),
        ]
    )
    assert result.code == 0, result.err
    headers = header_lines(result.out)
    assert headers == {
        "Date": TV4_DATE,
        "Content-Type": "application/json",
        "Content-MD5": TV4_MD5,
        "X-Signature": TV4_SIGNATURE,
    }


def test_sign_secret_from_stdin(run: RunFn, monkeypatch: pytest.MonkeyPatch) -> None:
    set_stdin(monkeypatch, (TV1_SECRET + "\n").encode())
    result = run(
        [
            "sign",
            "--method",
            "post",
            "--path",
            TV1_PATH,
            "--date",
            TV1_DATE,
            "--body",
            TV1_BODY,
            "--secret-file",
            "-",
        ]
    )
    assert result.code == 0, result.err
    assert header_lines(result.out)["X-Signature"] == TV1_SIGNATURE


def test_sign_full_url_does_not_sign_the_query(run: RunFn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOMMO_CHANNEL_SECRET", TV1_SECRET)
    result = run(
        [
            "sign",
            "--method",
            "POST",
            "--path",
            f"https://amojo.kommo.com{TV1_PATH}?x=1",
            "--date",
            TV1_DATE,
            "--body",
            TV1_BODY,
        ]
    )
    assert result.code == 0, result.err
    assert header_lines(result.out)["X-Signature"] == TV1_SIGNATURE


def test_sign_hashes_the_body_file_bytes_exactly(
    run: RunFn, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KOMMO_CHANNEL_SECRET", TV1_SECRET)
    body_file = tmp_path / "body.json"
    body_file.write_bytes(TV1_BODY.encode() + b"\n")
    result = run(
        ["sign", "--method", "POST", "--path", TV1_PATH, "--date", TV1_DATE, "--body-file", str(body_file)]
    )
    assert result.code == 0, result.err
    headers = header_lines(result.out)
    assert headers["Content-MD5"] == signing.body_md5(TV1_BODY.encode() + b"\n") != TV1_MD5
    assert headers["X-Signature"] != TV1_SIGNATURE


def test_sign_empty_body_and_default_date_is_now(run: RunFn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOMMO_CHANNEL_SECRET", TV1_SECRET)
    before = datetime.now(timezone.utc).replace(microsecond=0)
    result = run(["sign", "--method", "GET", "--path", "/v2/origin/custom/x/chats"])
    after = datetime.now(timezone.utc)
    assert result.code == 0, result.err
    headers = header_lines(result.out)
    assert headers["Content-MD5"] == signing.EMPTY_BODY_MD5
    assert before <= signing.parse_http_date(headers["Date"]) <= after


def test_sign_bad_date_is_a_usage_error(run: RunFn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOMMO_CHANNEL_SECRET", TV1_SECRET)
    result = run(["sign", "--method", "POST", "--path", TV1_PATH, "--date", "yesterday"])
    assert result.code == 2
    assert "--date" in result.err
    assert "RFC 2822" in result.err
    assert result.out == ""


def test_sign_body_and_body_file_are_exclusive(run: RunFn, tmp_path: Path) -> None:
    result = run(
        ["sign", "--method", "POST", "--path", TV1_PATH, "--body", "{}", "--body-file", str(tmp_path / "x")]
    )
    assert result.code == 2
    assert "not allowed with" in result.err


def test_sign_curl_command_is_accepted_by_the_emulator(
    run: RunFn, monkeypatch: pytest.MonkeyPatch, emulator: EmulatorServer
) -> None:
    monkeypatch.setenv("KOMMO_CHANNEL_SECRET", CHANNEL_SECRET)
    body = json.dumps({"account_id": ACCOUNT_ID, "title": 'It\'s a "test" $HOME `x`'})
    result = run(
        [
            "sign",
            "--method",
            "POST",
            "--path",
            f"/v2/origin/custom/{CHANNEL_ID}/connect",
            "--body",
            body,
            "--curl",
            emulator.url,
        ]
    )
    assert result.code == 0, result.err
    command = curl_line(result.out)
    headers = header_lines(result.out)
    assert command.startswith(f"curl -sS -X POST '{emulator.url}/v2/origin/custom/{CHANNEL_ID}/connect' ")
    assert headers["X-Signature"] in command
    status, answer = run_curl(command)
    assert status == 200, answer
    data = json.loads(answer)
    assert data["scope_id"] == f"{CHANNEL_ID}_{ACCOUNT_ID}"
    assert data["title"] == 'It\'s a "test" $HOME `x`'  # the shell passed the body through untouched
    connection = emulator.backend.get_connection(CHANNEL_ID, ACCOUNT_ID)
    assert connection is not None and connection.connected


def test_sign_curl_with_body_file_and_query_then_delete(
    run: RunFn, monkeypatch: pytest.MonkeyPatch, emulator: EmulatorServer, tmp_path: Path
) -> None:
    monkeypatch.setenv("KOMMO_CHANNEL_SECRET", CHANNEL_SECRET)
    body_file = tmp_path / "connect body.json"  # a space, to prove the @FILE is quoted
    body_file.write_bytes(json.dumps({"account_id": ACCOUNT_ID}).encode() + b"\n")
    result = run(
        [
            "sign",
            "--method",
            "POST",
            "--path",
            f"/v2/origin/custom/{CHANNEL_ID}/connect?debug=1",
            "--body-file",
            str(body_file),
            "--curl",
            emulator.url,
        ]
    )
    assert result.code == 0, result.err
    command = curl_line(result.out)
    assert "?debug=1" in command  # sent in the URL, not signed
    assert "--data-binary '@" in command
    status, answer = run_curl(command)
    assert status == 200, answer
    assert json.loads(answer)["scope_id"] == f"{CHANNEL_ID}_{ACCOUNT_ID}"

    result = run(
        [
            "sign",
            "--method",
            "DELETE",
            "--path",
            f"/v2/origin/custom/{CHANNEL_ID}/disconnect",
            "--body",
            json.dumps({"account_id": ACCOUNT_ID}),
            "--curl",
            emulator.url,
        ]
    )
    assert result.code == 0, result.err
    status, answer = run_curl(curl_line(result.out))
    assert status == 200, answer
    connection = emulator.backend.get_connection(CHANNEL_ID, ACCOUNT_ID)
    assert connection is not None and not connection.connected


def test_sign_curl_without_body_sends_no_data(run: RunFn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOMMO_CHANNEL_SECRET", TV1_SECRET)
    result = run(
        [
            "sign",
            "--method",
            "GET",
            "--path",
            "/v2/origin/custom/s/chats/c/history?limit=50",
            "--curl",
            "kommo",
        ]
    )
    assert result.code == 0, result.err
    command = curl_line(result.out)
    assert "--data-binary" not in command
    assert "'https://amojo.kommo.com/v2/origin/custom/s/chats/c/history?limit=50'" in command


def test_sign_curl_refuses_plain_http_to_a_remote_host(run: RunFn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOMMO_CHANNEL_SECRET", TV1_SECRET)
    result = run(["sign", "--method", "POST", "--path", TV1_PATH, "--curl", "http://example.com"])
    assert result.code == 2
    assert "--curl" in result.err


def sts_signature(secret: str, method: str, body: bytes, date: str, path: str) -> str:
    """X-Signature computed with the standard library alone, from Kommo's description of the scheme."""
    md5 = hashlib.md5(body).hexdigest()
    message = "\n".join((method, md5, "application/json", date, path))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha1).hexdigest()


def test_sign_date_with_an_offset_is_signed_verbatim(run: RunFn, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Date header and the string to sign are the given text, not the same instant in UTC."""
    monkeypatch.setenv("KOMMO_CHANNEL_SECRET", TV1_SECRET)
    date = "Tue, 14 Nov 2023 09:05:00 +0300"
    result = run(["sign", "--method", "POST", "--path", TV1_PATH, "--date", date, "--body", TV1_BODY])
    assert result.code == 0, result.err
    headers = header_lines(result.out)
    assert headers["Date"] == date  # not "Tue, 14 Nov 2023 06:05:00 +0000"
    assert headers["X-Signature"] == sts_signature(TV1_SECRET, "POST", TV1_BODY.encode(), date, TV1_PATH)


def test_sign_date_with_an_offset_is_accepted_by_the_emulator(
    run: RunFn, monkeypatch: pytest.MonkeyPatch, emulator: EmulatorServer
) -> None:
    monkeypatch.setenv("KOMMO_CHANNEL_SECRET", CHANNEL_SECRET)
    date = email.utils.format_datetime(datetime.now(timezone(timedelta(hours=3))).replace(microsecond=0))
    assert date.endswith(" +0300")
    path = f"/v2/origin/custom/{CHANNEL_ID}/connect"
    body = json.dumps({"account_id": ACCOUNT_ID})
    result = run(
        ["sign", "--method", "POST", "--path", path, "--date", date, "--body", body, "--curl", emulator.url]
    )
    assert result.code == 0, result.err
    assert header_lines(result.out)["Date"] == date
    status, answer = run_curl(curl_line(result.out))
    assert status == 200, answer
    assert json.loads(answer)["scope_id"] == f"{CHANNEL_ID}_{ACCOUNT_ID}"


@pytest.mark.parametrize(
    "date",
    [
        "Tue, 14 Nov 2023 09:05:00",  # no zone
        "Tue, 14 Nov 2023 09:05:00 -0000",  # RFC 2822's "zone unknown"
        " Tue, 14 Nov 2023 09:05:00 +0300",  # would be signed with the space but sent without it
        "Tue, 14 Nov 2023 09:05:00 +0300\r\nX-Injected: 1",
    ],
    ids=["no-zone", "minus-zero", "leading-space", "crlf"],
)
def test_sign_date_that_cannot_be_sent_verbatim_is_refused(
    run: RunFn, monkeypatch: pytest.MonkeyPatch, date: str
) -> None:
    monkeypatch.setenv("KOMMO_CHANNEL_SECRET", TV1_SECRET)
    result = run(["sign", "--method", "POST", "--path", TV1_PATH, "--date", date])
    assert (result.code, result.out) == (2, "")
    assert result.err.splitlines()[-1].startswith("kommo-chat sign: error: argument --date: ")


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--curl", "http://[::1"),
        ("--curl", "http://[zz::1]:1"),
        ("--path", "http://[::1/v2/x"),
        ("--path", "/v2/x\nDate: forged"),
    ],
)
def test_sign_type_errors_name_the_option_not_a_function(
    run: RunFn, monkeypatch: pytest.MonkeyPatch, option: str, value: str
) -> None:
    monkeypatch.setenv("KOMMO_CHANNEL_SECRET", TV1_SECRET)
    argv = ["sign", "--method", "POST", "--path", TV1_PATH, option, value]
    result = run(argv)
    assert (result.code, result.out) == (2, "")
    error = result.err.splitlines()[-1]
    assert error.startswith(f"kommo-chat sign: error: argument {option}: ")
    assert "_type" not in result.err and "_parse" not in result.err
    assert re.search(r"invalid \w+ value: ", error) is None  # argparse's "invalid <function> value:"


# -- connect / disconnect ---------------------------------------------------------------------------


def test_connect_prints_the_scope_id(
    run: RunFn, monkeypatch: pytest.MonkeyPatch, emulator: EmulatorServer
) -> None:
    monkeypatch.setenv("KOMMO_CHANNEL_SECRET", CHANNEL_SECRET)
    result = run(
        [
            "connect",
            "--channel-id",
            CHANNEL_ID,
            "--account-id",
            ACCOUNT_ID,
            "--title",
            "Support bot",
            "--base-url",
            emulator.url,
        ]
    )
    assert result.code == 0, result.err
    connection = emulator.backend.get_connection(CHANNEL_ID, ACCOUNT_ID)
    assert connection is not None and connection.connected
    lines = result.out.splitlines()
    assert lines[0] == f"scope_id: {connection.scope_id}"
    assert lines[1:] == [
        f"account_id: {ACCOUNT_ID}",
        "title: Support bot",
        "hook_api_version: v2",
        "is_time_window_disabled: false",
    ]
    assert connection.title == "Support bot"
    assert connection.hook_api_version == "v2"


def test_connect_json_output(
    run: RunFn, monkeypatch: pytest.MonkeyPatch, emulator: EmulatorServer, tmp_path: Path
) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(CHANNEL_SECRET)
    result = run(
        [
            "connect",
            "--channel-id",
            CHANNEL_ID,
            "--account-id",
            OTHER_ACCOUNT_ID,
            "--json",
            "--hook-api-version",
            "v1",
            "--time-window-disabled",
            "--secret-file",
            str(secret_file),
            "--base-url",
            emulator.url,
            "--timeout",
            "10",
            "--retries",
            "0",
        ]
    )
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data == {
        "account_id": OTHER_ACCOUNT_ID,
        "scope_id": f"{CHANNEL_ID}_{OTHER_ACCOUNT_ID}",
        "title": data["title"],  # the emulator's channel name: no --title given
        "hook_api_version": "v1",
        "is_time_window_disabled": True,
    }
    connection = emulator.backend.get_connection(CHANNEL_ID, OTHER_ACCOUNT_ID)
    assert connection is not None
    assert connection.is_time_window_disabled is True
    assert connection.hook_api_version == "v1"


def test_disconnect(run: RunFn, monkeypatch: pytest.MonkeyPatch, emulator: EmulatorServer) -> None:
    monkeypatch.setenv("KOMMO_CHANNEL_SECRET", CHANNEL_SECRET)
    common = ["--channel-id", CHANNEL_ID, "--account-id", ACCOUNT_ID, "--base-url", emulator.url]
    assert run(["connect", *common]).code == 0
    result = run(["disconnect", *common])
    assert result.code == 0, result.err
    assert result.out == f"disconnected {ACCOUNT_ID} from {CHANNEL_ID}\n"
    connection = emulator.backend.get_connection(CHANNEL_ID, ACCOUNT_ID)
    assert connection is not None and not connection.connected
    assert [r.method for r in emulator.backend.requests()] == ["POST", "DELETE"]


def test_wrong_secret_explains_signature_and_clock(
    run: RunFn, monkeypatch: pytest.MonkeyPatch, emulator: EmulatorServer
) -> None:
    monkeypatch.setenv("KOMMO_CHANNEL_SECRET", WRONG_SECRET)
    result = run(
        ["connect", "--channel-id", CHANNEL_ID, "--account-id", ACCOUNT_ID, "--base-url", emulator.url]
    )
    assert result.code == 1
    assert result.out == ""
    assert result.err.startswith("kommo-chat: error: ")
    assert len(result.err.strip().splitlines()) == 1
    assert "signature" in result.err and "secret" in result.err and "clock" in result.err
    assert "Traceback" not in result.err
    assert WRONG_SECRET not in result.err
    assert emulator.backend.get_connection(CHANNEL_ID, ACCOUNT_ID) is None


def test_unknown_channel(run: RunFn, monkeypatch: pytest.MonkeyPatch, emulator: EmulatorServer) -> None:
    monkeypatch.setenv("KOMMO_CHANNEL_SECRET", CHANNEL_SECRET)
    for command in ("connect", "disconnect"):
        result = run(
            [
                command,
                "--channel-id",
                UNKNOWN_CHANNEL_ID,
                "--account-id",
                ACCOUNT_ID,
                "--base-url",
                emulator.url,
            ]
        )
        assert result.code == 1
        assert result.err.startswith("kommo-chat: error: ")
        assert f"channel {UNKNOWN_CHANNEL_ID}" in result.err
        assert "Traceback" not in result.err


def test_server_errors_are_retried_and_reported(
    run: RunFn, monkeypatch: pytest.MonkeyPatch, emulator: EmulatorServer
) -> None:
    monkeypatch.setenv("KOMMO_CHANNEL_SECRET", CHANNEL_SECRET)
    common = ["--channel-id", CHANNEL_ID, "--account-id", ACCOUNT_ID, "--base-url", emulator.url]
    emulator.faults.script(["503"])
    assert run(["connect", *common, "--retries", "1"]).code == 0
    emulator.faults.script(["500"])
    result = run(["connect", *common, "--retries", "0"])
    assert result.code == 1
    assert "500" in result.err


def test_unreachable_host(run: RunFn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOMMO_CHANNEL_SECRET", CHANNEL_SECRET)
    result = run(
        [
            "disconnect",
            "--channel-id",
            CHANNEL_ID,
            "--account-id",
            ACCOUNT_ID,
            "--base-url",
            f"http://127.0.0.1:{closed_port()}",
            "--retries",
            "0",
        ]
    )
    assert result.code == 1
    assert "could not reach" in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["--channel-id", "not-a-uuid", "--account-id", ACCOUNT_ID], "--channel-id"),
        (["--channel-id", CHANNEL_ID, "--account-id", "42"], "--account-id"),
    ],
)
@pytest.mark.parametrize("command", ["connect", "disconnect"])
def test_bad_uuid_is_a_usage_error(
    run: RunFn, monkeypatch: pytest.MonkeyPatch, command: str, argv: list[str], field: str
) -> None:
    monkeypatch.setenv("KOMMO_CHANNEL_SECRET", CHANNEL_SECRET)
    result = run([command, *argv])
    assert result.code == 2
    assert f"argument {field}: " in result.err
    assert "UUID" in result.err
    assert field.strip("-").replace("-", "_") in result.err  # channel_id / account_id


def test_base_url_and_region_are_exclusive(run: RunFn) -> None:
    result = run(
        [
            "connect",
            "--channel-id",
            CHANNEL_ID,
            "--account-id",
            ACCOUNT_ID,
            "--base-url",
            "https://amojo.kommo.com",
            "--region",
            "amocrm.ru",
        ]
    )
    assert result.code == 2
    assert "not allowed with" in result.err


@pytest.mark.parametrize(
    "base_url",
    [
        "http://[::1",
        "http://[zz::1]:1",
        "http\uff1a//127.0.0.1",  # a full-width colon
        "http://127.0.0.1:99999",
        "http://127.0.0.1:abc",
        "http://127.0.0.1:0",
        "",
    ],
    ids=["unclosed-bracket", "bad-ipv6", "fullwidth-colon", "port-range", "port-letters", "port-0", "empty"],
)
@pytest.mark.parametrize("command", ["connect", "disconnect"])
def test_malformed_base_url_is_a_one_line_usage_error(
    run: RunFn, monkeypatch: pytest.MonkeyPatch, emulator: EmulatorServer, command: str, base_url: str
) -> None:
    monkeypatch.setenv("KOMMO_CHANNEL_SECRET", CHANNEL_SECRET)
    result = run([command, "--channel-id", CHANNEL_ID, "--account-id", ACCOUNT_ID, "--base-url", base_url])
    assert (result.code, result.out) == (2, "")
    assert result.err.startswith("kommo-chat: error: argument --base-url: ")
    assert len(result.err.splitlines()) == 1
    assert emulator.backend.requests() == []


@pytest.mark.parametrize("field", ["channel_id", "account_id"])
@pytest.mark.parametrize("padding", ["\n", " ", "\t", "\r\n"], ids=["newline", "space", "tab", "crlf"])
def test_id_with_surrounding_whitespace_is_refused(
    run: RunFn, monkeypatch: pytest.MonkeyPatch, emulator: EmulatorServer, field: str, padding: str
) -> None:
    monkeypatch.setenv("KOMMO_CHANNEL_SECRET", CHANNEL_SECRET)
    ids = {"channel_id": CHANNEL_ID, "account_id": ACCOUNT_ID}
    ids[field] += padding
    argv = ["--channel-id", ids["channel_id"], "--account-id", ids["account_id"], "--base-url", emulator.url]
    result = run(["connect", *argv])
    assert (result.code, result.out) == (2, "")
    option = "--" + field.replace("_", "-")
    assert result.err.splitlines()[-1].startswith(f"kommo-chat connect: error: argument {option}: {field} ")
    assert emulator.backend.requests() == []


def test_connect_help_gives_the_client_default_retries(run: RunFn) -> None:
    result = run(["connect", "--help"])
    assert result.code == 0
    help_text = " ".join(result.out.split())
    assert f"429 and 5xx (default {DEFAULT_RETRIES})" in help_text


def test_insecure_base_url_is_a_usage_error(run: RunFn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOMMO_CHANNEL_SECRET", CHANNEL_SECRET)
    result = run(
        [
            "connect",
            "--channel-id",
            CHANNEL_ID,
            "--account-id",
            ACCOUNT_ID,
            "--base-url",
            "http://amojo.example.com",
        ]
    )
    assert result.code == 2
    assert "--base-url" in result.err and "https" in result.err


def test_verbose_logs_the_request_but_not_the_secret(
    run: RunFn, monkeypatch: pytest.MonkeyPatch, emulator: EmulatorServer
) -> None:
    monkeypatch.setenv("KOMMO_CHANNEL_SECRET", CHANNEL_SECRET)
    result = run(
        ["-v", "connect", "--channel-id", CHANNEL_ID, "--account-id", ACCOUNT_ID, "--base-url", emulator.url]
    )
    assert result.code == 0, result.err
    assert f"POST /v2/origin/custom/{CHANNEL_ID}/connect -> 200" in result.err
    # run() already asserted that no secret is in the output.


# -- secret handling -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["sign", "--method", "POST", "--path", TV1_PATH],
        ["connect", "--channel-id", CHANNEL_ID, "--account-id", ACCOUNT_ID],
        ["disconnect", "--channel-id", CHANNEL_ID, "--account-id", ACCOUNT_ID],
        ["verify-webhook", "--signature", "00", "--body-file", __file__],
    ],
    ids=["sign", "connect", "disconnect", "verify-webhook"],
)
def test_missing_secret_names_both_ways_to_give_it(run: RunFn, argv: list[str]) -> None:
    result = run(argv)
    assert result.code == 1
    assert result.err.startswith("kommo-chat: error: ")
    assert "KOMMO_CHANNEL_SECRET" in result.err
    assert "--secret-file" in result.err
    assert result.out == ""


def test_empty_secret_env_counts_as_missing(run: RunFn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOMMO_CHANNEL_SECRET", "")
    result = run(["sign", "--method", "POST", "--path", TV1_PATH])
    assert result.code == 1
    assert "KOMMO_CHANNEL_SECRET" in result.err


@pytest.mark.parametrize(
    "flag", [["--secret", TV1_SECRET], [f"--secret={TV1_SECRET}"], ["--channel-secret", TV1_SECRET]]
)
def test_a_secret_flag_does_not_exist(run: RunFn, flag: list[str]) -> None:
    result = run(["sign", "--method", "POST", "--path", TV1_PATH, *flag])
    assert result.code == 2
    assert "KOMMO_CHANNEL_SECRET" in result.err  # says what to do instead
    # run() asserted the value is not echoed back.


def test_options_cannot_be_abbreviated(run: RunFn, tmp_path: Path) -> None:
    # With argparse's default abbreviations "--secret X" would silently mean "--secret-file X".
    secret_file = tmp_path / "secret"
    secret_file.write_text(TV1_SECRET)
    result = run(["sign", "--method", "POST", "--path", TV1_PATH, "--secret-fi", str(secret_file)])
    assert result.code == 2
    assert "unrecognized arguments: --secret-fi" in result.err
    assert result.out == ""


def test_secret_file_problems(run: RunFn, tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    result = run(["sign", "--method", "POST", "--path", TV1_PATH, "--secret-file", str(missing)])
    assert result.code == 1
    assert str(missing) in result.err

    spaced = tmp_path / "spaced"
    spaced.write_text(f" {TV1_SECRET}\n")
    result = run(["sign", "--method", "POST", "--path", TV1_PATH, "--secret-file", str(spaced)])
    assert result.code == 1
    assert "whitespace" in result.err

    empty = tmp_path / "empty"
    empty.write_text("\n")
    result = run(["sign", "--method", "POST", "--path", TV1_PATH, "--secret-file", str(empty)])
    assert result.code == 1
    assert "empty" in result.err


def test_a_referenced_secret_comes_from_the_environment_or_a_file_never_the_value(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The rule behind ``--channel ID[:@FILE]``: no reference reads the variable, ``@FILE`` the file."""
    source = SecretSource("channel secret", "KOMMO_CHANNEL_SECRET", "--channel ID:@FILE")
    monkeypatch.setenv("KOMMO_CHANNEL_SECRET", CHANNEL_SECRET)
    assert load_referenced_secret(source, None) == CHANNEL_SECRET
    secret_file = tmp_path / "secret"
    secret_file.write_text(TV1_SECRET + "\n")
    assert load_referenced_secret(source, f"@{secret_file}") == TV1_SECRET
    for literal in (TV1_SECRET, f"secret={TV1_SECRET}", "@"):
        with pytest.raises(SecretError) as info:
            load_referenced_secret(source, literal)
        message = str(info.value)
        assert "cannot be given on the command line" in message
        assert "KOMMO_CHANNEL_SECRET" in message and "--channel ID:@FILE" in message
        assert TV1_SECRET not in message
    monkeypatch.delenv("KOMMO_CHANNEL_SECRET")
    with pytest.raises(SecretError, match="no channel secret: set the KOMMO_CHANNEL_SECRET"):
        load_referenced_secret(source, None)


# -- verify-webhook ------------------------------------------------------------------------------------

WEBHOOK_BODY = b'{"account_id":"af9945ff-1490-4cad-807d-945c15d88bec","message":{"text":"hi"}}'


def test_verify_webhook_valid_from_stdin(run: RunFn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOMMO_CHANNEL_SECRET", CHANNEL_SECRET)
    set_stdin(monkeypatch, WEBHOOK_BODY)
    result = run(["verify-webhook", "--signature", signing.signature_bytes(CHANNEL_SECRET, WEBHOOK_BODY)])
    assert (result.code, result.out) == (0, "valid\n")


def test_verify_webhook_valid_from_file(run: RunFn, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KOMMO_CHANNEL_SECRET", CHANNEL_SECRET)
    body_file = tmp_path / "hook.json"
    body_file.write_bytes(WEBHOOK_BODY)
    signature = signing.signature_bytes(CHANNEL_SECRET, WEBHOOK_BODY).upper()
    result = run(["verify-webhook", "--signature", signature, "--body-file", str(body_file)])
    assert (result.code, result.out) == (0, "valid\n")


@pytest.mark.parametrize(
    "body", [WEBHOOK_BODY + b"\n", WEBHOOK_BODY.replace(b"hi", b"ho")], ids=["trailing-newline", "tampered"]
)
def test_verify_webhook_invalid(run: RunFn, monkeypatch: pytest.MonkeyPatch, body: bytes) -> None:
    monkeypatch.setenv("KOMMO_CHANNEL_SECRET", CHANNEL_SECRET)
    set_stdin(monkeypatch, body)
    result = run(["verify-webhook", "--signature", signing.signature_bytes(CHANNEL_SECRET, WEBHOOK_BODY)])
    assert (result.code, result.out) == (1, "invalid signature\n")


def test_verify_webhook_cannot_read_secret_and_body_from_stdin(run: RunFn) -> None:
    result = run(["verify-webhook", "--signature", "00", "--secret-file", "-"])
    assert result.code == 2
    assert "--body-file" in result.err


# -- emulator and plumbing -----------------------------------------------------------------------------


def test_emulator_arguments_reach_the_emulator_command(run: RunFn, monkeypatch: pytest.MonkeyPatch) -> None:
    """``kommo-chat emulator`` parses the emulator's options and returns the command's exit status."""
    seen: list[tuple[object, ...]] = []

    def fake_run(args: argparse.Namespace) -> int:
        seen.append((args.port, args.demo, args.channel, args.log_requests, args.verbose))
        return 7

    monkeypatch.setattr("kommo_provider.cli.emulator.run", fake_run)
    assert run(["emulator", "--port", "0", "--demo"]).code == 7
    assert run(["-v", "emulator", "--verbose", "--channel", f"{CHANNEL_ID}:@/dev/null"]).code == 7
    assert seen == [
        (0, True, [], False, False),
        (DEMO_PORT, False, [f"{CHANNEL_ID}:@/dev/null"], True, True),  # emulator --verbose and kommo-chat -v
    ]


def test_emulator_help_and_usage_errors_come_from_the_emulator(run: RunFn) -> None:
    result = run(["emulator", "--help"])
    assert result.code == 0
    assert "--demo" in result.out
    result = run(["emulator", "--no-such-option"])
    assert result.code == 2
    assert "--no-such-option" in result.err


@pytest.mark.parametrize(
    "argv",
    [
        ["--port", "99999"],
        ["--port", "-1"],
        ["--port", "abc"],
        ["--rate-limit", "nan"],
        ["--rate-limit", "inf"],
        ["--rate-limit", "-1"],
        ["--fault-rate", "2"],
        ["--fault-rate", "nan"],
    ],
    ids=lambda argv: " ".join(argv),
)
def test_emulator_bad_numbers_are_usage_errors(
    run: RunFn, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    def must_not_start(self: EmulatorServer) -> EmulatorServer:
        raise AssertionError(f"the emulator started with {argv}")

    monkeypatch.setattr(EmulatorServer, "start", must_not_start)
    result = run(["emulator", "--demo", *argv])
    assert (result.code, result.out) == (2, "")
    assert "Traceback" not in result.err
    errors = [line for line in result.err.splitlines() if ": error: " in line]
    assert errors == [result.err.splitlines()[-1]]
    assert errors[0].startswith(f"kommo-chat emulator: error: argument {argv[0]}: ")


def test_usage_errors(run: RunFn) -> None:
    assert run([]).code == 2
    assert run(["frobnicate"]).code == 2
    assert run(["sign", "--method", "POST", "--path", TV1_PATH, "--bogus"]).code == 2
    assert run(["sign", "--method", "POST", "--path", "relative/path"]).code == 2
    assert (
        run(
            ["connect", "--channel-id", CHANNEL_ID, "--account-id", ACCOUNT_ID, "--hook-api-version", "v3"]
        ).code
        == 2
    )
    assert (
        run(["connect", "--channel-id", CHANNEL_ID, "--account-id", ACCOUNT_ID, "--timeout", "0"]).code == 2
    )
    help_result = run(["--help"])
    assert help_result.code == 0
    assert "verify-webhook" in help_result.out


# -- without the emulator extra (a bare `pip install kommo-provider`) ------------------------------------

WITHOUT_WERKZEUG: Final = (
    # A None in sys.modules makes every import of werkzeug fail, as it does in a bare install.
    "import sys; sys.modules['werkzeug'] = None; "
    "from kommo_provider.cli import main; raise SystemExit(main(sys.argv[1:]))"
)
"""``kommo-chat`` in a fresh interpreter that cannot import werkzeug (tests/test_packaging.py installs the
wheel with no extras in a virtualenv: the slow, faithful check)."""


def run_without_werkzeug(argv: list[str], secret: str = TV1_SECRET) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", cli.SECRET_ENV: secret}
    return subprocess.run([sys.executable, "-c", WITHOUT_WERKZEUG, *argv], capture_output=True, text=True,
                          env=env, timeout=60, check=False)  # fmt: skip


def test_without_the_emulator_extra_every_other_command_runs(emulator: EmulatorServer) -> None:
    usage = run_without_werkzeug(["--help"])
    assert usage.returncode == 0, usage.stderr
    assert all(command.NAME in usage.stdout for command in cli.COMMANDS)  # every parser was built
    assert "--demo" in run_without_werkzeug(["emulator", "--help"]).stdout
    signed = run_without_werkzeug(["sign", "--method", "POST", "--path", TV1_PATH, "--date", TV1_DATE,
                                   "--body", TV1_BODY])  # fmt: skip
    assert (signed.returncode, signed.stderr) == (0, ""), signed.stderr
    assert f"X-Signature: {TV1_SIGNATURE}" in signed.stdout
    connected = run_without_werkzeug(
        ["connect", "--channel-id", CHANNEL_ID, "--account-id", ACCOUNT_ID, "--base-url", emulator.url],
        secret=CHANNEL_SECRET,
    )
    assert connected.returncode == 0, connected.stderr
    assert emulator.backend.get_connection(CHANNEL_ID, ACCOUNT_ID) is not None
    assert_no_secret(usage.stdout, signed.stdout, signed.stderr, connected.stdout, connected.stderr)


def test_without_the_emulator_extra_the_emulator_says_so_in_one_line() -> None:
    done = run_without_werkzeug(["emulator", "--demo", "--port", "0"])
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == f"kommo-chat: error: {cli_emulator.NEEDS_EXTRA}\n"
    assert cli_emulator.NEEDS_EXTRA == (
        "kommo-chat emulator needs the emulator extra: pip install 'kommo-provider[emulator]'"
    )


def test_without_the_emulator_extra_the_emulator_package_names_it() -> None:
    """What serves no HTTP imports without werkzeug; the server says which extra brings it."""
    code = (
        "import sys; sys.modules['werkzeug'] = None\n"
        "from kommo_provider.emulator import DEMO_ACCOUNT, FAULT_KINDS, AccountSpec, mint_token\n"
        "from kommo_provider.emulator import EmulatorServer\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        "ModuleNotFoundError: kommo_provider.emulator.EmulatorServer needs werkzeug, which the emulator "
        "extra installs: pip install 'kommo-provider[emulator]'"
    )


def test_the_emulator_packages_export_every_name_they_list() -> None:
    for package in (kommo_emulator, kommo_emulator_rest):
        assert set(package.__all__) <= set(dir(package))
        for name in package.__all__:
            assert getattr(package, name) is not None, f"{package.__name__}.{name}"
        with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
            getattr(package, "nothing_here")  # noqa: B009


def test_python_dash_m_runs_the_cli(tmp_path: Path) -> None:
    env = {"KOMMO_CHANNEL_SECRET": TV1_SECRET, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "kommo_provider",
            "sign",
            "--method",
            "POST",
            "--path",
            TV1_PATH,
            "--date",
            TV1_DATE,
            "--body",
            TV1_BODY,
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).parent.parent,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"X-Signature: {TV1_SIGNATURE}" in done.stdout
    assert_no_secret(done.stdout, done.stderr)
