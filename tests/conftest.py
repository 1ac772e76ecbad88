"""Shared pytest fixtures: one amojo emulator per session, reset before each test that uses it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from constants import CHANNEL_ID, CHANNEL_SECRET
from rest_helpers import ACME, ACME_B_TOKEN, GLOBEX, INTEGRATION_B

from kommo_provider.emulator import EmulatorServer


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[EmulatorServer]:
    """A real HTTP emulator on a free loopback port with the test channel and the REST accounts of
    ``rest_helpers`` (acme, globex), for the whole session.

    Tests should use ``emulator``, which hands out this server in a clean state.
    """
    with EmulatorServer({CHANNEL_ID: CHANNEL_SECRET}, port=0, accounts=[ACME, GLOBEX]) as server:
        server.rest.add_token("acme", ACME_B_TOKEN, integration_id=INTEGRATION_B)
        yield server


@pytest.fixture
def emulator(emulator_server: EmulatorServer) -> EmulatorServer:
    """The session emulator with no connections, an empty request log and no faults.

    ``faults.reset()`` is ``faults.clear()`` plus rate limit off, clock offset 0 and the default
    ``retry_after`` / ``delay_seconds``, so no test inherits another's knobs.
    """
    emulator_server.reset()  # connections, sources, webhooks, the request log, faults
    emulator_server.backend.add_channel(CHANNEL_ID, CHANNEL_SECRET)  # undo any secret rotation
    return emulator_server
