"""The emulator's control API under ``/_emulator``: state, reset, faults, and out-of-band changes."""

from __future__ import annotations

from kommo_provider.emulator.admin.responses import AdminResponse

__all__ = ["AdminResponse"]
