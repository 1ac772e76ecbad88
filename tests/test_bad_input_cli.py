"""Bad input, tried the way a user would: a table of cases, each a clear one-line error and nothing sent.

Issue "Hardening: what broke when bad input was tried as a user would". For every ``kommo-chat``
case the test checks:

* the exit status (2 for a usage error, 1 for a configuration error);
* exactly one ``error:`` line, the last one on stderr, naming the argument or field;
* nothing on stdout, no ``Traceback`` and no Python function name (argparse prints a ``type=``
  function's ``__name__`` when it raises ``ValueError``: ``invalid _curl_base_type value``);
* no secret in stdout or stderr: the channel secret is a distinctive string in
  ``KOMMO_CHANNEL_SECRET``, and the test suite's secrets are checked too;
* no request reached the emulator (``--base-url`` points at it wherever a value could get through).

Then the same for :func:`kommo_provider.verify_webhook` / :func:`webhook_signature` (exception type
and a message naming the parameter) and for :func:`kommo_provider.hosts.resolve_base_url`
(always ``ConfigurationError`` naming the field, never a bare ``ValueError``).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import pytest
from cli_helpers import SECRETS, run_cli, set_stdin
from constants import ACCOUNT_ID, CHANNEL_ID

from kommo_provider import cli, verify_webhook, webhook_signature
from kommo_provider.cli import argtypes
from kommo_provider.emulator import server as emulator_server
from kommo_provider.emulator.server import EmulatorServer
from kommo_provider.exceptions import ConfigurationError
from kommo_provider.hosts import resolve_base_url

SECRET: Final = "Zx9-corpus-SECRET-4e1f7a-must-never-be-printed"
"""The channel secret every case runs with (unless it sets its own): distinctive, so a leak is seen."""

EMULATOR: Final = "{emulator}"
"""Replaced by the test emulator's URL in a case's argv."""

MISSING_FILE: Final = "/nonexistent/kommo-corpus/file"
SIGN: Final = ("sign", "--method", "POST", "--path", "/v2/origin/custom/x/connect")
IDS: Final = ("--channel-id", CHANNEL_ID, "--account-id", ACCOUNT_ID)
TO_EMULATOR: Final = ("--base-url", EMULATOR, "--retries", "0", "--timeout", "2")
"""Where connect/disconnect would go if a bad value got through: the emulator, which records it."""
QUICK: Final = ("--retries", "0", "--timeout", "2")
DATE: Final = "Tue, 14 Nov 2023 09:05:00 +0300"
FULLWIDTH_COLON: Final = "\uff1a"


@dataclass(frozen=True)
class CliCase:
    id: str
    argv: tuple[str, ...]
    code: int
    names: tuple[str, ...]
    """Text the error line must contain: the argument (``--base-url``) and/or field (``account_id``)."""
    secret: str | None = SECRET
    """``KOMMO_CHANNEL_SECRET`` for the run; ``None`` = unset."""
    stdin: bytes | None = None
    hidden: tuple[str, ...] = field(default=())
    """Other text that must not be echoed (a password in a URL)."""
    account: str | None = None
    """``KOMMO_ACCOUNT`` for the run (``kommo-chat token``); ``None`` = unset."""


def case(
    case_id: str,
    argv: Sequence[str],
    code: int,
    *names: str,
    secret: str | None = SECRET,
    stdin: bytes | None = None,
    hidden: Sequence[str] = (),
    account: str | None = None,
) -> CliCase:
    return CliCase(case_id, tuple(argv), code, names, secret, stdin, tuple(hidden), account)


def connect_base_url(case_id: str, url: str, *names: str, command: str = "connect") -> CliCase:
    return case(case_id, [command, *IDS, "--base-url", url, *QUICK], 2, "--base-url", *names)


CLI_CASES: Final = [
    # -- sign: --date (the Date text is signed verbatim, so it must be one that can be sent) ----------
    case("sign-date-word", [*SIGN, "--date", "yesterday"], 2, "--date", "RFC 2822"),
    case("sign-date-no-zone", [*SIGN, "--date", "Tue, 14 Nov 2023 09:05:00"], 2, "--date", "zone"),
    case("sign-date-minus-zero", [*SIGN, "--date", "Tue, 14 Nov 2023 09:05:00 -0000"], 2, "--date"),
    case("sign-date-day-99", [*SIGN, "--date", "Tue, 99 Nov 2023 09:05:00 +0000"], 2, "--date"),
    case("sign-date-empty", [*SIGN, "--date", ""], 2, "--date"),
    case("sign-date-leading-space", [*SIGN, "--date", f" {DATE}"], 2, "--date", "whitespace"),
    case("sign-date-trailing-newline", [*SIGN, "--date", f"{DATE}\n"], 2, "--date"),
    case("sign-date-header-injection", [*SIGN, "--date", f"{DATE}\r\nX-Evil: 1"], 2, "--date"),
    case("sign-date-non-ascii", [*SIGN, "--date", f"{DATE}\u00a0"], 2, "--date"),
    # -- sign: --curl base URL ---------------------------------------------------------------------
    case("sign-curl-unclosed-ipv6", [*SIGN, "--curl", "http://[::1"], 2, "--curl", "not a valid URL"),
    case("sign-curl-bad-ipv6", [*SIGN, "--curl", "http://[zz::1]:1"], 2, "--curl", "not a valid URL"),
    case("sign-curl-port-range", [*SIGN, "--curl", "http://127.0.0.1:99999"], 2, "--curl", "port"),
    case("sign-curl-port-letters", [*SIGN, "--curl", "http://127.0.0.1:abc"], 2, "--curl", "port"),
    case(
        "sign-curl-fullwidth", [*SIGN, "--curl", f"http{FULLWIDTH_COLON}//127.0.0.1"], 2, "--curl", "U+FF1A"
    ),
    case("sign-curl-empty", [*SIGN, "--curl", ""], 2, "--curl", "empty"),
    case("sign-curl-plain-http", [*SIGN, "--curl", "http://example.com"], 2, "--curl", "https"),
    case("sign-curl-with-path", [*SIGN, "--curl", "https://amojo.kommo.com/v2"], 2, "--curl", "path"),
    # -- sign: --method, --path ---------------------------------------------------------------------
    case("sign-method-space", ["sign", "--method", "PO ST", "--path", "/x"], 2, "--method"),
    case("sign-method-empty", ["sign", "--method", "", "--path", "/x"], 2, "--method"),
    case(
        "sign-method-cyrillic",
        ["sign", "--method", "\u041f\u041e\u0421\u0422", "--path", "/x"],
        2,
        "--method",
    ),
    case("sign-method-missing", ["sign", "--path", "/x"], 2, "--method"),
    case("sign-path-relative", ["sign", "--method", "POST", "--path", "v2/x"], 2, "--path"),
    case("sign-path-empty", ["sign", "--method", "POST", "--path", ""], 2, "--path"),
    case("sign-path-bad-url", ["sign", "--method", "POST", "--path", "http://[::1/v2/x"], 2, "--path"),
    case("sign-path-newline", ["sign", "--method", "POST", "--path", "/v2/x\nDate: y"], 2, "--path"),
    case("sign-path-space", ["sign", "--method", "POST", "--path", "/v2/a b"], 2, "--path"),
    # -- sign: body and secret sources ----------------------------------------------------------------
    case("sign-body-and-file", [*SIGN, "--body", "{}", "--body-file", MISSING_FILE], 2, "--body"),
    case("sign-body-file-missing", [*SIGN, "--body-file", MISSING_FILE], 1, "body file", MISSING_FILE),
    case("sign-secret-flag", [*SIGN, "--secret", SECRET], 2, "--secret", "KOMMO_CHANNEL_SECRET"),
    case("sign-secret-flag-equals", [*SIGN, f"--secret={SECRET}"], 2, "--secret"),
    case("sign-channel-secret-flag", [*SIGN, "--channel-secret", SECRET], 2, "--channel-secret"),
    case("sign-secret-file-abbrev", [*SIGN, "--secret-fi", MISSING_FILE], 2, "--secret-fi"),
    case("sign-secret-file-missing", [*SIGN, "--secret-file", MISSING_FILE], 1, "secret file"),
    case("sign-secret-unset", SIGN, 1, "KOMMO_CHANNEL_SECRET", "--secret-file", secret=None),
    case("sign-secret-empty", SIGN, 1, "KOMMO_CHANNEL_SECRET", secret=""),
    case("sign-secret-whitespace", SIGN, 1, "KOMMO_CHANNEL_SECRET", "whitespace", secret=f"{SECRET}\n"),
    # -- connect: --base-url ----------------------------------------------------------------------
    connect_base_url("connect-url-unclosed-ipv6", "http://[::1", "not a valid URL"),
    connect_base_url("connect-url-bad-ipv6", "http://[zz::1]:1", "not a valid URL"),
    connect_base_url("connect-url-fullwidth-colon", f"http{FULLWIDTH_COLON}//127.0.0.1", "U+FF1A"),
    connect_base_url("connect-url-port-range", "http://127.0.0.1:99999", "port"),
    connect_base_url("connect-url-port-letters", "http://127.0.0.1:abc", "port"),
    connect_base_url("connect-url-port-negative", "http://127.0.0.1:-1", "port"),
    connect_base_url("connect-url-port-zero", "http://127.0.0.1:0", "port"),
    connect_base_url("connect-url-empty", "", "empty"),
    connect_base_url("connect-url-blank", "   ", "empty"),
    connect_base_url("connect-url-no-host", "https://:443", "host"),
    connect_base_url("connect-url-plain-http", "http://amojo.example.com", "https"),
    connect_base_url("connect-url-ftp", "ftp://amojo.kommo.com", "region"),
    connect_base_url("connect-url-typo-region", "komo", "region"),
    connect_base_url("connect-url-path", "https://amojo.kommo.com/v2/origin", "path"),
    connect_base_url("connect-url-newline-inside", "http://127.0.0.1:87\n65", "control"),
    case(
        "connect-url-credentials",
        ["connect", *IDS, "--base-url", "http://bot:Pa55-hidden-word@127.0.0.1:abc", *QUICK],
        2,
        "--base-url",
        "credentials",
        hidden=["Pa55-hidden-word"],
    ),
    case("connect-region-bogus", ["connect", *IDS, "--region", "eu"], 2, "--region"),
    case(
        "connect-url-and-region",
        ["connect", *IDS, "--base-url", EMULATOR, "--region", "amocrm.ru"],
        2,
        "--region",
        "--base-url",
    ),
    # -- connect: ids ------------------------------------------------------------------------------
    case(
        "connect-account-newline",
        ["connect", "--channel-id", CHANNEL_ID, "--account-id", f"{ACCOUNT_ID}\n", *TO_EMULATOR],
        2,
        "--account-id",
        "account_id",
    ),
    case(
        "connect-account-space",
        ["connect", "--channel-id", CHANNEL_ID, "--account-id", f" {ACCOUNT_ID}", *TO_EMULATOR],
        2,
        "account_id",
    ),
    case(
        "connect-channel-newline",
        ["connect", "--channel-id", f"{CHANNEL_ID}\n", "--account-id", ACCOUNT_ID, *TO_EMULATOR],
        2,
        "--channel-id",
        "channel_id",
    ),
    case(
        "connect-channel-not-uuid",
        ["connect", "--channel-id", "my-channel", "--account-id", ACCOUNT_ID, *TO_EMULATOR],
        2,
        "channel_id",
        "UUID",
    ),
    case(
        "connect-account-empty",
        ["connect", "--channel-id", CHANNEL_ID, "--account-id", "", *TO_EMULATOR],
        2,
        "account_id",
    ),
    case(
        "connect-account-braced",
        ["connect", "--channel-id", CHANNEL_ID, "--account-id", f"{{{ACCOUNT_ID}}}", *TO_EMULATOR],
        2,
        "account_id",
    ),
    case(
        "connect-account-missing",
        ["connect", "--channel-id", CHANNEL_ID, *TO_EMULATOR],
        2,
        "--account-id",
    ),
    # -- connect: numbers and the rest -----------------------------------------------------------------
    case("connect-timeout-word", ["connect", *IDS, *TO_EMULATOR, "--timeout", "abc"], 2, "--timeout"),
    case("connect-timeout-nan", ["connect", *IDS, *TO_EMULATOR, "--timeout", "nan"], 2, "--timeout"),
    case("connect-timeout-inf", ["connect", *IDS, *TO_EMULATOR, "--timeout", "inf"], 2, "--timeout"),
    case("connect-timeout-zero", ["connect", *IDS, *TO_EMULATOR, "--timeout", "0"], 2, "--timeout"),
    case("connect-timeout-negative", ["connect", *IDS, *TO_EMULATOR, "--timeout", "-1"], 2, "--timeout"),
    case("connect-retries-negative", ["connect", *IDS, *TO_EMULATOR, "--retries", "-1"], 2, "--retries"),
    case("connect-retries-fraction", ["connect", *IDS, *TO_EMULATOR, "--retries", "1.5"], 2, "--retries"),
    case("connect-retries-word", ["connect", *IDS, *TO_EMULATOR, "--retries", "many"], 2, "--retries"),
    case("connect-retries-too-many", ["connect", *IDS, *TO_EMULATOR, "--retries", "21"], 2, "--retries"),
    case("connect-timeout-too-long", ["connect", *IDS, *TO_EMULATOR, "--timeout", "601"], 2, "--timeout"),
    case("connect-title-empty", ["connect", *IDS, *TO_EMULATOR, "--title", ""], 2, "--title"),
    case("connect-title-blank", ["connect", *IDS, *TO_EMULATOR, "--title", "   "], 2, "--title"),
    case(
        "connect-hook-v3",
        ["connect", *IDS, *TO_EMULATOR, "--hook-api-version", "v3"],
        2,
        "--hook-api-version",
    ),
    case("connect-secret-unset", ["connect", *IDS, *TO_EMULATOR], 1, "KOMMO_CHANNEL_SECRET", secret=None),
    case(
        "connect-secret-whitespace",
        ["connect", *IDS, *TO_EMULATOR],
        1,
        "KOMMO_CHANNEL_SECRET",
        "whitespace",
        secret=f" {SECRET}",
    ),
    case(
        "connect-secret-file-missing",
        ["connect", *IDS, *TO_EMULATOR, "--secret-file", MISSING_FILE],
        1,
        "secret file",
    ),
    case("connect-secret-flag", ["connect", *IDS, *TO_EMULATOR, "--secret", SECRET], 2, "--secret"),
    # -- disconnect ------------------------------------------------------------------------------------
    connect_base_url("disconnect-url-unclosed-ipv6", "http://[::1", "not a valid URL", command="disconnect"),
    connect_base_url("disconnect-url-port-range", "http://127.0.0.1:99999", "port", command="disconnect"),
    connect_base_url("disconnect-url-empty", "", "empty", command="disconnect"),
    case(
        "disconnect-account-newline",
        ["disconnect", "--channel-id", CHANNEL_ID, "--account-id", f"{ACCOUNT_ID}\n", *TO_EMULATOR],
        2,
        "--account-id",
        "account_id",
    ),
    case(
        "disconnect-channel-tab",
        ["disconnect", "--channel-id", f"{CHANNEL_ID}\t", "--account-id", ACCOUNT_ID, *TO_EMULATOR],
        2,
        "channel_id",
    ),
    case("disconnect-timeout-nan", ["disconnect", *IDS, *TO_EMULATOR, "--timeout", "nan"], 2, "--timeout"),
    case("disconnect-retries-neg", ["disconnect", *IDS, *TO_EMULATOR, "--retries", "-5"], 2, "--retries"),
    case("disconnect-title", ["disconnect", *IDS, *TO_EMULATOR, "--title", "x"], 2, "--title"),
    case(
        "disconnect-secret-unset", ["disconnect", *IDS, *TO_EMULATOR], 1, "KOMMO_CHANNEL_SECRET", secret=None
    ),
    # -- verify-webhook ---------------------------------------------------------------------------------
    case("verify-signature-missing", ["verify-webhook", "--body-file", __file__], 2, "--signature"),
    case(
        "verify-signature-empty",
        ["verify-webhook", "--signature", "", "--body-file", __file__],
        2,
        "--signature",
    ),
    case(
        "verify-signature-blank",
        ["verify-webhook", "--signature", "  ", "--body-file", __file__],
        2,
        "--signature",
    ),
    case(
        "verify-stdin-twice",
        ["verify-webhook", "--signature", "00", "--secret-file", "-"],
        2,
        "--body-file",
        stdin=f"{SECRET}\n".encode(),
    ),
    case(
        "verify-secret-empty",
        ["verify-webhook", "--signature", "00", "--body-file", __file__],
        1,
        "KOMMO_CHANNEL_SECRET",
        secret="",
    ),
    case(
        "verify-secret-unset",
        ["verify-webhook", "--signature", "00", "--body-file", __file__],
        1,
        "KOMMO_CHANNEL_SECRET",
        secret=None,
    ),
    case(
        "verify-body-file-missing",
        ["verify-webhook", "--signature", "00", "--body-file", MISSING_FILE],
        1,
        "body file",
    ),
    case(
        "verify-secret-file-empty",
        ["verify-webhook", "--signature", "00", "--body-file", __file__, "--secret-file", "/dev/null"],
        1,
        "empty",
    ),
    # -- emulator ---------------------------------------------------------------------------------------
    case("emulator-port-range", ["emulator", "--demo", "--port", "99999"], 2, "--port"),
    case("emulator-port-negative", ["emulator", "--demo", "--port", "-1"], 2, "--port"),
    case("emulator-port-word", ["emulator", "--demo", "--port", "abc"], 2, "--port"),
    case("emulator-port-fraction", ["emulator", "--demo", "--port", "80.5"], 2, "--port"),
    case("emulator-rate-limit-nan", ["emulator", "--demo", "--rate-limit", "nan"], 2, "--rate-limit"),
    case("emulator-rate-limit-inf", ["emulator", "--demo", "--rate-limit", "inf"], 2, "--rate-limit"),
    case("emulator-rate-limit-negative", ["emulator", "--demo", "--rate-limit", "-1"], 2, "--rate-limit"),
    case("emulator-rate-limit-zero", ["emulator", "--demo", "--rate-limit", "0"], 2, "--rate-limit"),
    case("emulator-fault-rate-2", ["emulator", "--demo", "--fault-rate", "2"], 2, "--fault-rate"),
    case("emulator-fault-rate-nan", ["emulator", "--demo", "--fault-rate", "nan"], 2, "--fault-rate"),
    case("emulator-fault-rate-negative", ["emulator", "--demo", "--fault-rate", "-0.1"], 2, "--fault-rate"),
    case("emulator-fault-seed-word", ["emulator", "--demo", "--fault-seed", "x"], 2, "--fault-seed"),
    case("emulator-fault-kinds", ["emulator", "--demo", "--fault-kinds", "teapot"], 2, "--fault-kinds"),
    case(
        "emulator-disconnect-body",
        ["emulator", "--demo", "--disconnect-body", "null"],
        2,
        "--disconnect-body",
    ),
    case(
        "emulator-channels-file-missing", ["emulator", "--channels-file", MISSING_FILE], 2, "--channels-file"
    ),
    case(
        "emulator-channel-literal-secret", ["emulator", "--channel", f"{CHANNEL_ID}:{SECRET}"], 2, "--channel"
    ),
    # -- token: --url, KOMMO_ACCOUNT, the service key ----------------------------------------------------
    case("token-url-missing", ["token"], 2, "--url", account="acme"),
    case("token-url-empty", ["token", "--url", ""], 2, "--url", "empty", account="acme"),
    case(
        "token-url-ftp", ["token", "--url", "ftp://tokens.example.com"], 2, "--url", "http(s)", account="acme"
    ),
    case("token-url-no-host", ["token", "--url", "https:///kommo"], 2, "--url", account="acme"),
    case("token-url-port-letters", ["token", "--url", "https://tokens.example.com:abc"], 2, "--url"),
    case("token-url-port-zero", ["token", "--url", "http://127.0.0.1:0/tokens"], 2, "--url"),
    case("token-url-newline", ["token", "--url", "https://tokens.example.com/\nx"], 2, "--url"),
    case(
        "token-url-plain-http",
        ["token", "--url", "http://tokens.example.com/kommo"],
        2,
        "--url",
        "https",
        account="acme",
    ),
    case(
        "token-url-credentials",
        ["token", "--url", "https://vendor:Pa55-token-key@tokens.example.com/kommo"],
        2,
        "--url",
        "credentials",
        hidden=["Pa55-token-key"],
        account="acme",
    ),
    case(
        "token-url-query",
        ["token", "--url", "https://tokens.example.com/kommo?key=Qu3ry-token-key"],
        2,
        "--url",
        "query",
        hidden=["Qu3ry-token-key"],
        account="acme",
    ),
    case("token-account-unset", ["token", "--url", f"{EMULATOR}/tokens"], 2, "KOMMO_ACCOUNT"),
    case(
        "token-account-url",
        ["token", "--url", f"{EMULATOR}/tokens"],
        2,
        "KOMMO_ACCOUNT",
        account="https://a/",
    ),
    case("token-account-www", ["token", "--url", f"{EMULATOR}/tokens"], 2, "KOMMO_ACCOUNT", account="www"),
    case(
        "token-key-flag",
        ["token", "--url", f"{EMULATOR}/tokens", "--key", SECRET],
        2,
        "--key",
        "KOMMO_TOKEN_SERVICE_KEY",
        account="acme",
    ),
    case(
        "token-key-file-missing",
        ["token", "--url", f"{EMULATOR}/tokens", "--key-file", MISSING_FILE],
        1,
        MISSING_FILE,
        account="acme",
    ),
    # -- no command ---------------------------------------------------------------------------------------
    case("unknown-command", ["frobnicate"], 2, "frobnicate"),
    case("no-command", [], 2, "COMMAND"),
]

CLI_MODULES: Final = (
    cli,
    *(importlib.import_module(f"{cli.__name__}.{info.name}") for info in pkgutil.iter_modules(cli.__path__)),
)
PYTHON_NAMES: Final = sorted(
    {
        name
        for module in (*CLI_MODULES, emulator_server)
        for name, value in vars(module).items()
        if name.startswith("_") and not name.startswith("__") and callable(value)
    }
    | {name for name, value in vars(argtypes).items() if "_" in name.strip("_") and callable(value)}
    | {"_curl_base_type", "_date_type", "_path_type", "_uuid_type"}
)
"""Python names of the CLI's modules (private helpers, snake_case argument types) and of the emulator:
none may show up in what a user reads."""

ARGPARSE_TYPE_NAME: Final = re.compile(r"invalid [\w.<> ]+ value: ")
"""argparse's message for a type function that raised ValueError: it names the function."""


def test_the_corpus_covers_every_subcommand() -> None:
    assert len(CLI_CASES) >= 50
    assert len(HOOK_CASES) >= 15
    ids = [c.id for c in CLI_CASES] + [c.id for c in HOOK_CASES]
    assert len(set(ids)) == len(ids)
    commands = {c.argv[0] for c in CLI_CASES if c.argv}
    assert commands >= {c.NAME for c in cli.COMMANDS}


@pytest.mark.parametrize("bad", CLI_CASES, ids=lambda c: c.id)
def test_cli_bad_input(
    bad: CliCase,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    emulator: EmulatorServer,
) -> None:
    def must_not_start(self: EmulatorServer) -> EmulatorServer:
        raise AssertionError(f"the emulator started despite {bad.argv}")

    monkeypatch.setattr(EmulatorServer, "start", must_not_start)
    if bad.secret is None:
        monkeypatch.delenv(cli.SECRET_ENV, raising=False)
    else:
        monkeypatch.setenv(cli.SECRET_ENV, bad.secret)
    if bad.account is None:
        monkeypatch.delenv("KOMMO_ACCOUNT", raising=False)
    else:
        monkeypatch.setenv("KOMMO_ACCOUNT", bad.account)
    monkeypatch.delenv("KOMMO_TOKEN_SERVICE_KEY", raising=False)
    set_stdin(monkeypatch, bad.stdin if bad.stdin is not None else b"")
    argv = [arg.replace(EMULATOR, emulator.url) for arg in bad.argv]

    result = run_cli(capsys, argv, secrets=(*SECRETS, SECRET, *bad.hidden))

    assert result.code == bad.code, result.err
    assert result.out == ""
    assert "Traceback" not in result.err
    lines = result.err.splitlines()
    errors = [line for line in lines if ": error: " in line]
    assert errors and errors == [lines[-1]], f"want one error line, the last one: {result.err!r}"
    error = errors[0]
    assert error.startswith(("kommo-chat: error: ", "kommo-chat ")), error
    for name in bad.names:
        assert name in error, f"{name!r} not named in {error!r}"
    assert ARGPARSE_TYPE_NAME.search(result.err) is None, error
    for name in PYTHON_NAMES:
        assert not re.search(rf"(?<![\w-]){re.escape(name)}\b", result.err), f"{name} in {error!r}"
    assert emulator.backend.requests() == [], "a request reached the emulator"


# -- webhook verification -----------------------------------------------------------------------------

BODY: Final = b'{"account_id":"af9945ff-1490-4cad-807d-945c15d88bec","message":{"text":"hi"}}'
GOOD_SIGNATURE: Final = webhook_signature(SECRET, BODY)


@dataclass(frozen=True)
class HookCase:
    id: str
    secret: Any
    body: Any
    signature: Any
    error: type[Exception]
    names: tuple[str, ...]


def hook(
    case_id: str, secret: Any, body: Any, signature: Any, error: type[Exception], *names: str
) -> HookCase:
    return HookCase(case_id, secret, body, signature, error, names)


HOOK_CASES: Final = [
    hook("secret-empty", "", BODY, webhook_signature("x", BODY), ValueError, "secret", "empty"),
    hook("secret-none", None, BODY, GOOD_SIGNATURE, ValueError, "secret"),
    hook("secret-empty-forged", "", BODY, "fc3ff98e8c6a0d3087d515c0473f8677f2d4ab59", ValueError, "secret"),
    hook("secret-empty-bytes-sig", "", BODY, GOOD_SIGNATURE.encode(), ValueError, "secret"),
    hook("secret-bytes", SECRET.encode(), BODY, GOOD_SIGNATURE, TypeError, "secret", "str"),
    hook("secret-int", 1234, BODY, GOOD_SIGNATURE, TypeError, "secret"),
    hook("body-str", SECRET, BODY.decode(), GOOD_SIGNATURE, TypeError, "body", "raw", "bytes"),
    hook("body-none", SECRET, None, GOOD_SIGNATURE, TypeError, "body"),
    hook("body-dict", SECRET, {"account_id": "x"}, GOOD_SIGNATURE, TypeError, "body"),
    hook("body-int", SECRET, 7, GOOD_SIGNATURE, TypeError, "body"),
    hook("body-list", SECRET, [BODY], GOOD_SIGNATURE, TypeError, "body"),
    hook("signature-int", SECRET, BODY, 12345, TypeError, "received_signature", "str or bytes"),
    hook("signature-float", SECRET, BODY, 1.5, TypeError, "received_signature"),
    hook("signature-list", SECRET, BODY, [GOOD_SIGNATURE], TypeError, "received_signature"),
    hook("signature-dict", SECRET, BODY, {"X-Signature": GOOD_SIGNATURE}, TypeError, "received_signature"),
    hook("signature-bool", SECRET, BODY, True, TypeError, "received_signature"),
]


@pytest.mark.parametrize("bad", HOOK_CASES, ids=lambda c: c.id)
def test_verify_webhook_bad_input(bad: HookCase) -> None:
    with pytest.raises(bad.error) as info:
        verify_webhook(bad.secret, bad.body, bad.signature)
    assert type(info.value) is bad.error  # not an AttributeError, not a subclass surprise
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{bad.names[0]}: ")
    for name in bad.names:
        assert name in message
    assert SECRET not in message and GOOD_SIGNATURE not in message


@pytest.mark.parametrize(
    "bad", [c for c in HOOK_CASES if c.names[0] != "received_signature"], ids=lambda c: c.id
)
def test_webhook_signature_refuses_the_same_secrets_and_bodies(bad: HookCase) -> None:
    with pytest.raises(bad.error, match=rf"^{bad.names[0]}: "):
        webhook_signature(bad.secret, bad.body)


@pytest.mark.parametrize(
    "signature",
    [None, "", b"", "zz" * 20, b"\xff" * 40, GOOD_SIGNATURE[:-1], f"sha1={GOOD_SIGNATURE}"],
    ids=["none", "empty", "empty-bytes", "not-hex", "non-ascii-bytes", "truncated", "prefixed"],
)
def test_a_bad_signature_value_is_just_invalid(signature: str | bytes | None) -> None:
    """A missing or malformed X-Signature is what a forged webhook looks like: False, not an error."""
    assert verify_webhook(SECRET, BODY, signature) is False


# -- base URLs -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("http://[::1", "not a valid URL"),
        ("http://[zz::1]:1", "not a valid URL"),
        ("https://[::1]x/", "not a valid URL"),
        (f"http{FULLWIDTH_COLON}//127.0.0.1", "U+FF1A"),
        ("http://127.0.0.1:99999", "port"),
        ("http://127.0.0.1:abc", "port"),
        ("http://127.0.0.1:-1", "port"),
        ("http://127.0.0.1:0", "port"),
        ("http://127.0.0.1:\uff18\uff10", "port"),  # full-width digits
        ("https://:443", "host"),
        ("http://127.0.0.1:87\n65", "control"),
        ("https://amojo.\tkommo.com", "control"),
        ("https://amojo.kommo.com]:443", "not a valid URL"),
        ("https://bot:Pa55-hidden-word@amojo.kommo.com", "credentials"),
        ("https://amojo.kommo.com?x=1", "query"),
        ("amojo.kommo.com", "region"),
        (" https://amojo.kommo.com/ ", "whitespace around it"),
        ("http://127.0.0.1:8765\n", "whitespace around it"),  # $(cat file): refused, as ids are
    ],
)
def test_resolve_base_url_raises_configuration_error(value: str, words: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        resolve_base_url(value, field="kommo:baseUrl")
    assert type(info.value) is ConfigurationError
    assert info.value.field == "kommo:baseUrl"
    assert str(info.value).startswith("kommo:baseUrl: ")
    assert words in info.value.reason
    assert "\n" not in str(info.value).replace("\\n", "")
    assert "Pa55-hidden-word" not in str(info.value)


@pytest.mark.parametrize(
    ("value", "resolved"),
    [
        ("kommo", "https://amojo.kommo.com"),
        ("amocrm.ru", "https://amojo.amocrm.ru"),
        ("https://amojo.kommo.com/", "https://amojo.kommo.com"),
        ("HTTPS://Amojo.Kommo.com", "https://amojo.kommo.com"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
        ("http://[::1]:8765", "http://[::1]:8765"),
        ("http://localhost:", "http://localhost"),
    ],
)
def test_resolve_base_url_still_takes_good_values(value: str, resolved: str) -> None:
    assert resolve_base_url(value) == resolved
