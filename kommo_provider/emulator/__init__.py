"""An amojo (Kommo Chat API) emulator for connect/disconnect, laid out like a moto service.

``models`` holds state, ``responses`` the HTTP behaviour, ``urls`` the routes, ``faults`` the
injected failures, and ``server`` the loopback HTTP server; its command line is ``kommo-chat emulator``
(:mod:`kommo_provider.cli.emulator`).

The ``DEMO_*`` constants are public on purpose, like moto's fake AWS credentials: the demo secret
only opens this emulator and is not a real channel secret, nor any secret printed in Kommo's docs.
"""

from __future__ import annotations

from kommo_provider.emulator.faults import FAULT_KINDS, FaultPlan, RateLimiter
from kommo_provider.emulator.models import (
    DEFAULT_CHANNEL_NAME,
    AmojoBackend,
    Connection,
    RecordedRequest,
    UnknownChannelError,
)
from kommo_provider.emulator.server import (
    CHANNEL_SECRET_ENV,
    DEMO_ACCOUNT_IDS,
    DEMO_BASE_URL,
    DEMO_CHANNEL_ID,
    DEMO_CHANNEL_SECRET,
    DEMO_PORT,
    EmulatorServer,
)

__all__ = [
    "CHANNEL_SECRET_ENV",
    "DEFAULT_CHANNEL_NAME",
    "DEMO_ACCOUNT_IDS",
    "DEMO_BASE_URL",
    "DEMO_CHANNEL_ID",
    "DEMO_CHANNEL_SECRET",
    "DEMO_PORT",
    "FAULT_KINDS",
    "AmojoBackend",
    "Connection",
    "EmulatorServer",
    "FaultPlan",
    "RateLimiter",
    "RecordedRequest",
    "UnknownChannelError",
]
