"""The emulator's HTTP transport: chunked bodies, Expect: 100-continue, body limit, IPv6, keep-alive."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
import requests
from constants import ACCOUNT_ID, CHANNEL_ID, CHANNEL_SECRET

from kommo_provider import signing
from kommo_provider.emulator import EmulatorServer

CONNECT_PATH = f"/v2/origin/custom/{CHANNEL_ID}/connect"


def signed_connect(body: bytes) -> dict[str, str]:
    return signing.signed_headers(CHANNEL_SECRET, "POST", CONNECT_PATH, body, datetime.now(timezone.utc))


def exchange(emulator: EmulatorServer, data: bytes) -> bytes:
    """Send raw bytes on a fresh connection and read until the server closes it (5 s at most)."""
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=5) as conn:
        conn.sendall(data)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    return received


def head_and_body(raw: bytes) -> tuple[str, bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return head.decode("latin-1"), body


def test_chunked_request_body_is_decoded_and_signed_as_received(emulator: EmulatorServer) -> None:
    body = signing.encode_json({"account_id": ACCOUNT_ID})

    def chunks() -> Iterator[bytes]:  # a generator body makes requests send Transfer-Encoding: chunked
        yield body[:7]
        yield body[7:]

    headers = signed_connect(body)
    response = requests.post(emulator.url + CONNECT_PATH, data=chunks(), headers=headers, timeout=5)

    assert response.status_code == 200
    assert response.json()["scope_id"] == f"{CHANNEL_ID}_{ACCOUNT_ID}"
    (logged,) = emulator.backend.requests()
    assert logged.headers["Transfer-Encoding"] == "chunked"
    assert logged.body == body.decode()


def test_expect_100_continue_gets_one_interim_answer_then_the_real_one(emulator: EmulatorServer) -> None:
    body = signing.encode_json({"account_id": ACCOUNT_ID})
    headers = signed_connect(body)
    head = f"POST {CONNECT_PATH} HTTP/1.1\r\nHost: emulator\r\nExpect: 100-continue\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"

    with socket.create_connection(("127.0.0.1", emulator.port), timeout=5) as conn:
        conn.sendall(head.encode())
        interim = conn.recv(65536)  # the client waits for this before sending the body
        conn.sendall(body)
        rest = b""
        while chunk := conn.recv(65536):
            rest += chunk

    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    status, answer = head_and_body(rest)
    assert status.startswith("HTTP/1.1 200 OK")
    assert json.loads(answer)["account_id"] == ACCOUNT_ID


def test_a_body_over_1_mib_is_refused_with_413_before_it_is_read(emulator: EmulatorServer) -> None:
    request = (
        f"POST {CONNECT_PATH} HTTP/1.1\r\nHost: emulator\r\nContent-Type: application/json\r\n"
        f"Content-Length: {1024 * 1024 + 1}\r\n\r\n"
    ).encode()

    raw = exchange(emulator, request)  # no body sent: the answer must not wait for it

    head, body = head_and_body(raw)
    assert head.startswith("HTTP/1.1 413 ")
    assert "Connection: close" in head
    assert json.loads(body)["error_code"] == 413
    assert emulator.backend.connections() == []


def test_a_chunked_body_over_1_mib_is_refused_with_413(emulator: EmulatorServer) -> None:
    chunk = b"x" * 65536
    request = f"POST {CONNECT_PATH} HTTP/1.1\r\nHost: emulator\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
    request += (b"10000\r\n" + chunk + b"\r\n") * 17  # 17 x 64 KiB > 1 MiB, never terminated

    head, _ = head_and_body(exchange(emulator, request))

    assert head.startswith("HTTP/1.1 413 ")


def test_a_malformed_chunked_body_is_400_and_closes(emulator: EmulatorServer) -> None:
    request = (
        f"POST {CONNECT_PATH} HTTP/1.1\r\nHost: emulator\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
    ).encode()

    head, body = head_and_body(exchange(emulator, request))

    assert head.startswith("HTTP/1.1 400 ")
    assert "Connection: close" in head
    assert json.loads(body)["error_type"] == "BAD_REQUEST"


def test_ipv6_loopback_serves_the_api() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        server = EmulatorServer({CHANNEL_ID: CHANNEL_SECRET}, host="::1").start()
    except OSError as exc:
        pytest.skip(f"cannot bind ::1: {exc}")
    try:
        body = signing.encode_json({"account_id": ACCOUNT_ID})
        headers = signed_connect(body)
        response = requests.post(server.url + CONNECT_PATH, data=body, headers=headers, timeout=5)
    finally:
        server.stop()

    assert server.url.startswith("http://[::1]:")
    assert response.status_code == 200


def test_keep_alive_answers_keep_their_reason_phrase_and_framing(emulator: EmulatorServer) -> None:
    request = b"GET /nowhere HTTP/1.1\r\nHost: e\r\n\r\n"
    request += b"GET /nowhere HTTP/1.1\r\nHost: e\r\nConnection: close\r\n\r\n"

    raw = exchange(emulator, request)  # two pipelined requests on one connection

    assert raw.count(b"HTTP/1.1 404 Not Found\r\n") == 2
    assert raw.count(b"Content-Length: 0\r\n") == 2


def test_stop_closes_idle_keep_alive_connections() -> None:
    server = EmulatorServer({CHANNEL_ID: CHANNEL_SECRET}).start()
    conn = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    try:
        conn.sendall(b"GET /nowhere HTTP/1.1\r\nHost: emulator\r\n\r\n")
        first = conn.recv(65536)
        server.stop()
        after_stop = conn.recv(65536)  # b"" once the server shut the connection down
    finally:
        conn.close()

    assert first.startswith(b"HTTP/1.1 404 ")
    assert after_stop == b""


def test_a_busy_port_raises_oserror_instead_of_exiting() -> None:
    with EmulatorServer() as first, pytest.raises(OSError):
        EmulatorServer(port=first.port).start()
