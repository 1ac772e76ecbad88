"""Small assertions on emulator state shared by the tests."""

from __future__ import annotations

import time

from kommo_provider.emulator import Connection, EmulatorServer, RecordedRequest


def stored(emulator: EmulatorServer, channel_id: str, account_id: str) -> Connection:
    """The emulator's record of (channel, account); fails the test if there is none."""
    connection = emulator.backend.get_connection(channel_id, account_id)
    assert connection is not None, f"the emulator has no connection for {account_id}"
    return connection


def wait_for_requests(emulator: EmulatorServer, count: int) -> list[RecordedRequest]:
    """Wait until the log holds ``count`` requests. A request the client gave up on (a read timeout) is
    logged when the emulator answers it: a test that times one out waits for it, so it cannot land in
    the log of whichever test runs next on that emulator."""
    deadline = time.monotonic() + 10
    while len(emulator.backend.requests()) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return emulator.backend.requests()
