"""Published and derived amojo signing vectors (tests/vectors/<case>/, provenance in SOURCE.md).

Each stage is compared separately so a failure names the first stage that differs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from kommo_provider import signing

VECTORS = Path(__file__).parent / "vectors"


@dataclass(frozen=True)
class Vector:
    name: str
    secret: str
    method: str
    path: str
    date: str
    body: bytes
    content_md5: str
    string_to_sign: str
    signature: str


def load(case: Path) -> Vector:
    raw = (case / "request.http").read_bytes()
    head, _, body = raw.partition(b"\n\n")
    request_line, *header_lines = head.decode("utf-8").split("\n")
    method, path = request_line.split(" ", 1)
    headers = dict(line.split(": ", 1) for line in header_lines)
    return Vector(
        name=case.name,
        secret=(case / "secret.txt").read_text(),
        method=method,
        path=path,
        date=headers["Date"],
        body=body,
        content_md5=(case / "content_md5.txt").read_text(),
        string_to_sign=(case / "string_to_sign.txt").read_text(),
        signature=(case / "signature.txt").read_text(),
    )


CASES = sorted(p for p in VECTORS.iterdir() if p.is_dir())


def test_all_published_vectors_are_present() -> None:
    assert {c.name for c in CASES} >= {
        "tv1-connect",
        "tv4-disconnect",
        "tv5-disconnect-delete",
        "tv5-disconnect-post",
        "tv5-history-get",
    }


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_vector(case: Path) -> None:
    v = load(case)
    assert (case / "SOURCE.md").read_text().strip(), "every vector names its source"
    now = signing.parse_http_date(v.date)
    assert signing.http_date(now) == v.date, "stage: Date"
    assert signing.body_md5(v.body) == v.content_md5, "stage: Content-MD5"
    sts = signing.string_to_sign(
        v.method, v.content_md5, signing.CONTENT_TYPE_JSON, v.date, signing.signing_path(v.path)
    )
    assert sts == v.string_to_sign, "stage: string to sign"
    assert signing.signature(v.secret, sts) == v.signature, "stage: signature"
    headers = signing.signed_headers(v.secret, v.method, v.path, v.body, now)
    assert headers == {
        "Date": v.date,
        "Content-Type": "application/json",
        "Content-MD5": v.content_md5,
        "X-Signature": v.signature,
    }


TV1 = load(VECTORS / "tv1-connect")
TV1_NOW = signing.parse_http_date(TV1.date)


def test_query_string_is_not_signed() -> None:
    with_query = signing.signed_headers(TV1.secret, "POST", TV1.path + "?x=1", TV1.body, TV1_NOW)
    assert with_query["X-Signature"] == TV1.signature
    full_url = signing.signed_headers(
        TV1.secret, "POST", "https://amojo.kommo.com" + TV1.path + "?x=1", TV1.body, TV1_NOW
    )
    assert full_url["X-Signature"] == TV1.signature


def test_negative_vector_signing_the_query_differs() -> None:
    sts = signing.string_to_sign("POST", TV1.content_md5, "application/json", TV1.date, TV1.path + "?x=1")
    assert signing.signature(TV1.secret, sts) == "c5bd3dc12bf282118fb5707f35dcbae7a75e66d0"


def test_negative_vectors_other_serialisations() -> None:
    payload = {
        "account_id": "af9945ff-1490-4cad-807d-945c15d88bec",
        "title": "ScopeTitle",
        "hook_api_version": "v2",
    }
    assert signing.encode_json(payload) == TV1.body
    spaced = json.dumps(payload).encode()  # Python's default ", " and ": " separators
    assert signing.body_md5(spaced) == "058648825bc2fee876de446ef537a09a"
    cyr = dict(payload, title="Канал/1")
    raw = signing.encode_json(cyr)
    assert signing.body_md5(raw) == "878776dfee4d2a78e94ec536df696c3f"
    assert signing.body_md5(raw + b"\n") == "cad4f15da89de4247603b76981e711e0"
    php = raw.decode().replace("Канал/1", "\\u041a\\u0430\\u043d\\u0430\\u043b\\/1").encode()
    assert signing.body_md5(php) == "bf1ffaefa072bca8584a2083b28409c0"


def test_empty_body_md5() -> None:
    assert signing.body_md5(b"") == signing.EMPTY_BODY_MD5


def test_http_date_converts_to_utc_and_drops_microseconds() -> None:
    from datetime import datetime, timedelta, timezone

    moscow = timezone(timedelta(hours=3))
    assert signing.http_date(datetime(2020, 10, 29, 14, 59, 55, 999, tzinfo=moscow)) == TV1.date
    with pytest.raises(ValueError):
        signing.http_date(datetime(2020, 10, 29))


@pytest.mark.parametrize("bad", ["", "yesterday", "29 Oct 2020", "Thu, 29 Oct 2020 11:59:55"])
def test_parse_http_date_rejects_non_rfc2822(bad: str) -> None:
    with pytest.raises(ValueError):
        signing.parse_http_date(bad)


def test_signatures_match_is_case_insensitive_and_exact() -> None:
    assert signing.signatures_match(TV1.signature, TV1.signature.upper())
    assert not signing.signatures_match(TV1.signature, TV1.signature[:-1] + "1")
    assert not signing.signatures_match(TV1.signature, "")
