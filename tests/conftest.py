"""Shared pytest fixtures: one emulator per session (and worker), reset before each test that uses it,
and the plugin process with its provider configured for that emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from constants import CHANNEL_ID, CHANNEL_SECRET
from plugin_harness import PluginProcess, provider_config
from rest_helpers import ACME, ACME_B_TOKEN, GLOBEX, INTEGRATION_B

from kommo_provider.emulator import EmulatorServer

pytest_plugins = ["needs"]  # the Pulumi CLI, the plugin archive, the SDK examples: fixtures and markers


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
    """The session emulator with no connections, an empty request log, no faults, and the test channel
    alone, with its own secret: what one test changed never reaches the next, whichever worker runs it.

    ``faults.reset()`` is ``faults.clear()`` plus rate limit off, clock offset 0 and the default
    ``retry_after`` / ``delay_seconds``, so no test inherits another's knobs.
    """
    emulator_server.reset()  # connections, sources, webhooks, the request log, faults
    for channel in emulator_server.backend.channel_ids():  # channels an earlier test added
        if channel != CHANNEL_ID:
            emulator_server.backend.remove_channel(channel)
    emulator_server.backend.add_channel(CHANNEL_ID, CHANNEL_SECRET)  # undo any secret rotation
    return emulator_server


@pytest.fixture(scope="module")
def plugin() -> Iterator[PluginProcess]:
    """The plugin's own process, shared by a module's tests (each configures it as it needs), outside any
    Pulumi run: nothing one test declares is remembered for the next (see ``run``)."""
    with PluginProcess(engine="") as process:
        yield process


@pytest.fixture
def run(emulator: EmulatorServer) -> Iterator[PluginProcess]:
    """A plugin process of a Pulumi run of its own, configured as ``configured`` is: what its resources
    declare is remembered for the rest of the run (two resources on one object, deletes kept)."""
    with PluginProcess() as process:
        process.configure(provider_config(emulator))
        yield process


@pytest.fixture
def configured(plugin: PluginProcess, emulator: EmulatorServer) -> PluginProcess:
    """The plugin configured with the test channel and both test accounts (:func:`provider_config`)."""
    response = plugin.configure(provider_config(emulator))
    assert response.acceptSecrets and response.supportsPreview
    return plugin
