"""The amojo (Kommo Chat API) half of the emulator: connect and disconnect of a custom chat channel.

``models`` holds channels and connections, ``responses`` the signed HTTP operations, ``urls`` the
routes, ``exceptions`` amojo's error answers.
"""

from __future__ import annotations

from kommo_provider.emulator.amojo.models import (
    DEFAULT_CHANNEL_NAME,
    AmojoBackend,
    Connection,
    UnknownChannelError,
)
from kommo_provider.emulator.amojo.responses import AmojoResponse, DisconnectBody

__all__ = [
    "DEFAULT_CHANNEL_NAME",
    "AmojoBackend",
    "AmojoResponse",
    "Connection",
    "DisconnectBody",
    "UnknownChannelError",
]
