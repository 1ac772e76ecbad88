"""Fixed identifiers the tests use: random-looking but stable, and not the demo or docs values."""

from __future__ import annotations

from typing import Final

CHANNEL_ID: Final = "6a1f0c3e-92b4-4e57-8d2a-b0c47f19e385"
CHANNEL_SECRET: Final = "7c2e9a41b05d38f6e1a4c97b2d5083fe6a19c4d2"
"""A made-up 40-hex channel secret; it only ever opens the test emulator."""

ACCOUNT_ID: Final = "d4b8e2a7-1f36-4c09-9e5b-83a7c6f0d2b1"
OTHER_ACCOUNT_ID: Final = "95c3f1d0-7e28-4a6b-b4d9-0e2f6a8c1b73"
