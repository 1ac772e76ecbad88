"""Webhook X-Signature checks: HMAC-SHA1 of the raw body bytes, keyed by the channel secret."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from kommo_provider.webhooks import verify_webhook, webhook_signature

SECRET = "5a44c5dff55f3c15a4cce8d7c4cc27e207c7e189"
BODY = (
    b'{"account_id":"af9945ff-1490-4cad-807d-945c15d88bec","time":1603972795,'
    b'"message":{"receiver":{"id":"U1"},"message":{"type":"text","text":"Hello"}}}'
)


def expected(secret: str, body: bytes) -> str:
    """Independent computation with the standard library (not via kommo_provider.signing)."""
    return hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def test_webhook_signature_is_lowercase_hex_hmac_sha1_of_the_body() -> None:
    sig = webhook_signature(SECRET, BODY)
    assert sig == expected(SECRET, BODY)
    assert len(sig) == 40
    assert sig == sig.lower()


def test_valid_signature() -> None:
    assert verify_webhook(SECRET, BODY, expected(SECRET, BODY)) is True


def test_empty_body_has_a_signature_too() -> None:
    assert verify_webhook(SECRET, b"", expected(SECRET, b"")) is True


@pytest.mark.parametrize("index", [0, len(BODY) // 2, len(BODY) - 1])
def test_tampered_byte_is_rejected(index: int) -> None:
    tampered = bytearray(BODY)
    tampered[index] ^= 0x01
    assert verify_webhook(SECRET, bytes(tampered), expected(SECRET, BODY)) is False


def test_trailing_newline_changes_the_signature() -> None:
    sig = expected(SECRET, BODY)
    assert webhook_signature(SECRET, BODY + b"\n") != sig
    assert verify_webhook(SECRET, BODY + b"\n", sig) is False
    assert verify_webhook(SECRET, BODY + b"\r\n", sig) is False


def test_reserialised_json_is_rejected() -> None:
    # Same JSON value, different bytes (Python's default separators): the raw bytes are what count.
    respaced = BODY.replace(b'":', b'": ').replace(b'",', b'", ')
    assert respaced != BODY
    assert verify_webhook(SECRET, respaced, expected(SECRET, BODY)) is False


def test_wrong_secret_is_rejected() -> None:
    other = "fb50586ff7b68cd831fe0ef356345903f644c0d2"
    assert verify_webhook(SECRET, BODY, expected(other, BODY)) is False


@pytest.mark.parametrize("signature", [None, ""])
def test_missing_signature_is_rejected(signature: str | None) -> None:
    assert verify_webhook(SECRET, BODY, signature) is False


def test_uppercase_hex_is_accepted() -> None:
    assert verify_webhook(SECRET, BODY, expected(SECRET, BODY).upper()) is True


@pytest.mark.parametrize(
    "signature",
    ["not-a-signature", "0" * 40, "é" * 40, "sha1=" + "0" * 40],
    ids=["garbage", "zeros", "non-ascii", "prefixed"],
)
def test_malformed_signature_is_rejected_without_raising(signature: str) -> None:
    assert verify_webhook(SECRET, BODY, signature) is False


def test_truncated_signature_is_rejected() -> None:
    assert verify_webhook(SECRET, BODY, expected(SECRET, BODY)[:-1]) is False


# -- bad arguments: loud, and never an AttributeError ---------------------------------------------------


@pytest.mark.parametrize("secret", ["", None], ids=["empty", "none"])
def test_empty_secret_is_refused_loudly(secret: str | None) -> None:
    # An HMAC keyed with "" is one anybody can compute: a service whose secret variable is unset
    # would accept forged webhooks if this returned True (it did) or quietly returned False.
    forged = expected("", BODY)
    with pytest.raises(ValueError, match=r"^secret: .*empty") as info:
        verify_webhook(secret, BODY, forged)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match=r"^secret: "):
        webhook_signature(secret, BODY)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_signature_given_as_raw_header_bytes(kind: type) -> None:
    raw = kind(expected(SECRET, BODY).encode("ascii"))
    assert verify_webhook(SECRET, BODY, raw) is True
    assert verify_webhook(SECRET, BODY, kind(expected(SECRET, BODY + b"x").encode("ascii"))) is False


@pytest.mark.parametrize("raw", [b"", b"\xff" * 40, "é".encode() * 20], ids=["empty", "latin1", "utf8"])
def test_signature_bytes_that_are_not_a_hex_digest_are_invalid(raw: bytes) -> None:
    assert verify_webhook(SECRET, BODY, raw) is False


@pytest.mark.parametrize(
    "signature", [12345, 0, 1.5, ["abc"], object()], ids=["int", "zero", "float", "list", "object"]
)
def test_signature_of_a_wrong_type_is_a_type_error(signature: object) -> None:
    with pytest.raises(TypeError, match=r"^received_signature: .*str or bytes"):
        verify_webhook(SECRET, BODY, signature)  # type: ignore[arg-type]


def test_str_body_is_a_type_error_asking_for_the_raw_bytes() -> None:
    with pytest.raises(TypeError, match=r"^body: pass the raw request body bytes") as info:
        verify_webhook(SECRET, BODY.decode(), expected(SECRET, BODY))  # type: ignore[arg-type]
    assert SECRET not in str(info.value)
    with pytest.raises(TypeError, match=r"^body: "):
        webhook_signature(SECRET, BODY.decode())  # type: ignore[arg-type]


@pytest.mark.parametrize("body", [None, 42, {"a": 1}], ids=["none", "int", "dict"])
def test_body_of_a_wrong_type_is_a_type_error(body: object) -> None:
    with pytest.raises(TypeError, match=r"^body: must be the raw request body as bytes"):
        verify_webhook(SECRET, body, expected(SECRET, BODY))  # type: ignore[arg-type]


def test_bytearray_and_memoryview_bodies_are_hashed_as_their_bytes() -> None:
    sig = expected(SECRET, BODY)
    assert verify_webhook(SECRET, bytearray(BODY), sig) is True
    assert verify_webhook(SECRET, memoryview(BODY), sig) is True
    assert webhook_signature(SECRET, bytearray(BODY)) == sig
