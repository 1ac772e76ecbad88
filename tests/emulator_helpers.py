"""Small assertions on emulator state shared by the tests."""

from __future__ import annotations

from kommo_provider.emulator import Connection, EmulatorServer


def stored(emulator: EmulatorServer, channel_id: str, account_id: str) -> Connection:
    """The emulator's record of (channel, account); fails the test if there is none."""
    connection = emulator.backend.get_connection(channel_id, account_id)
    assert connection is not None, f"the emulator has no connection for {account_id}"
    return connection
