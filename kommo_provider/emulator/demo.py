"""The public demo identities: a channel and its secret, amojo account ids, two REST accounts and tokens.

Public on purpose, like moto's fake AWS credentials: the demo secret and the demo token only open
this emulator and are not a real channel secret or access token, nor any printed in Kommo's docs.
"""

from __future__ import annotations

from typing import Final

from kommo_provider.emulator.rest.models import AccountSpec
from kommo_provider.emulator.rest.tokens import mint_token

DEMO_CHANNEL_ID: Final = "f90ba33d-c9d9-44da-b76c-c349b0ecbe41"
"""The channel id of amoCRM's documentation examples, so demo scope ids look like the docs' ones."""

DEMO_CHANNEL_SECRET: Final = "0d3f6b1c9e2a47588a6e1b7c4d2f9a3e5b8c7d10"
"""Public, like moto's fake AWS keys: it only opens the emulator and is not any secret from the docs."""

DEMO_ACCOUNT_IDS: Final = (
    "3b5e8f2a-7c14-4d9e-a6b1-92f0c8d4e713",
    "c81d4e2f-5a96-4b37-8e0c-1f7a2d9b6e54",
)
"""Two made-up amojo account ids for the demo program."""

DEMO_PORT: Final = 8765
DEMO_BASE_URL: Final = f"http://127.0.0.1:{DEMO_PORT}"

CHANNEL_SECRET_ENV: Final = "KOMMO_CHANNEL_SECRET"
"""Environment variable holding the secret for each ``--channel ID`` given without ``:@FILE``."""

ACCESS_TOKEN_ENV: Final = "KOMMO_ACCESS_TOKEN"
"""Environment variable holding the REST token for each ``--account`` given without ``:@FILE``."""

DEMO_ACCOUNT_SUBDOMAIN: Final = "demo"
DEMO_REST_ACCOUNT_ID: Final = 30_000_001
"""The demo account's numeric id, as ``GET /api/v4/account`` reports it."""

DEMO_INTEGRATION_ID: Final = "e1a7c3f5-2b9d-4c6e-8f0a-5d3b7e9c1a24"
"""The made-up integration the demo token belongs to (its sources are this integration's)."""

DEMO_USER_ID: Final = 8_000_001
DEMO_PIPELINES: Final = ("Sales pipeline", "Support pipeline")
"""The demo account's pipelines; the first is the main one."""

DEMO_ACCESS_TOKEN: Final = mint_token(
    account_id=DEMO_REST_ACCOUNT_ID,
    integration_id=DEMO_INTEGRATION_ID,
    user_id=DEMO_USER_ID,
    issued_at=1_767_225_600,  # 2026-01-01T00:00:00Z
    expires_at=4_102_444_800,  # 2100-01-01T00:00:00Z
    token_id="0d3f6b1c9e2a47588a6e1b7c4d2f9a3e",
)
"""Public, like the demo channel secret: a JWT-shaped long-lived token that opens only the demo
account of this emulator, with an ``exp`` far in the future. The same string on every run."""

DEMO_ACCOUNT: Final = AccountSpec(
    subdomain=DEMO_ACCOUNT_SUBDOMAIN,
    token=DEMO_ACCESS_TOKEN,
    amojo_id=DEMO_ACCOUNT_IDS[0],
    name="Demo account",
    id=DEMO_REST_ACCOUNT_ID,
    pipelines=DEMO_PIPELINES,
    integration_id=DEMO_INTEGRATION_ID,
    user_id=DEMO_USER_ID,
)
"""The demo account (``EmulatorServer(accounts=[DEMO_ACCOUNT])``): its amojo_id is the first of
``DEMO_ACCOUNT_IDS``, so the amojo half connects the same account the REST half describes."""

DEMO2_ACCOUNT_SUBDOMAIN: Final = "demo2"
DEMO2_REST_ACCOUNT_ID: Final = 30_000_002
"""The second demo account's numeric id."""

DEMO2_USER_ID: Final = 8_000_002

DEMO2_ACCESS_TOKEN: Final = mint_token(
    account_id=DEMO2_REST_ACCOUNT_ID,
    integration_id=DEMO_INTEGRATION_ID,
    user_id=DEMO2_USER_ID,
    issued_at=1_767_225_600,  # 2026-01-01T00:00:00Z
    expires_at=4_102_444_800,  # 2100-01-01T00:00:00Z
    token_id="5e2a9c7d1b4f48e6a3d0c8b7f1e2d4a6",
)
"""Public, like :data:`DEMO_ACCESS_TOKEN`: the same integration's token for the second demo account,
so a demo can set up two accounts through one provider. The same string on every run."""

DEMO2_ACCOUNT: Final = AccountSpec(
    subdomain=DEMO2_ACCOUNT_SUBDOMAIN,
    token=DEMO2_ACCESS_TOKEN,
    amojo_id=DEMO_ACCOUNT_IDS[1],
    name="Second demo account",
    id=DEMO2_REST_ACCOUNT_ID,
    pipelines=DEMO_PIPELINES,
    integration_id=DEMO_INTEGRATION_ID,
    user_id=DEMO2_USER_ID,
)
"""The second demo account: its amojo_id is the second of ``DEMO_ACCOUNT_IDS``."""

DEMO_ACCOUNTS: Final = (DEMO_ACCOUNT, DEMO2_ACCOUNT)
"""Both demo accounts, as ``kommo-chat emulator --demo`` serves them."""
