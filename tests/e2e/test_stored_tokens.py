"""Stored tokens Kommo no longer takes: what the README's "Many accounts" says to run, under the real CLI.

``accessTokens`` (and ``accessToken``) are the provider's configuration, which the state keeps
(encrypted). ``pulumi refresh`` and ``pulumi destroy`` configure every provider from the state, the
default provider included, not from the program or the stack config as they are now. So once the
account's token was rotated (the old one revoked), a refresh fails even after the new token is in the
stack config; ``pulumi up`` first, or ``refresh``/``destroy`` with ``--run-program``, take the new one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest
from pulumi import automation as auto

from kommo_provider.emulator import (
    DEMO_ACCESS_TOKEN,
    DEMO_ACCOUNT,
    DEMO_CHANNEL_ID,
    DEMO_CHANNEL_SECRET,
    DEMO_INTEGRATION_ID,
    EmulatorServer,
)
from stack_runner import LocalStack

pytestmark = pytest.mark.e2e

PROJECT: Final = "kommo-tokens-e2e"
SOURCE: Final = {
    "type": "kommo:index:Source",
    "properties": {"account": "demo", "name": "Vendor chat", "externalId": "vendor-chat"},
}


def explicit_program() -> dict[str, Any]:
    """One explicit provider whose ``accessTokens`` come from the project's secret config."""
    return {
        "name": PROJECT,
        "runtime": "yaml",
        "config": {"apiBaseUrl": {"type": "string"}, "demoToken": {"type": "string", "secret": True}},
        "resources": {
            "vendor": {
                "type": "pulumi:providers:kommo",
                "properties": {"apiBaseUrl": "${apiBaseUrl}", "accessTokens": {"demo": "${demoToken}"}},
            },
            "chats": {**SOURCE, "options": {"provider": "${vendor}"}},
        },
    }


def default_program() -> dict[str, Any]:
    """The default provider, configured from ``kommo:apiBaseUrl`` and ``kommo:accessTokens``."""
    return {"name": PROJECT, "runtime": "yaml", "resources": {"chats": SOURCE}}


class TokenStack:
    """A YAML project whose token lives in stack config, as the README shows it."""

    def __init__(self, root: Path, emulator: EmulatorServer, provider: str) -> None:
        self.provider = provider
        project = root / "project"
        project.mkdir(parents=True)
        program = explicit_program() if provider == "explicit" else default_program()
        (project / "Pulumi.yaml").write_text(json.dumps(program, indent=2), encoding="utf-8")
        self.local = LocalStack("dev", None, state_dir=root / "state", passphrase="tokens", work_dir=project)
        key = f"{PROJECT}:apiBaseUrl" if provider == "explicit" else "kommo:apiBaseUrl"
        self.local.set_config({key: emulator.url})
        self.set_token(DEMO_ACCESS_TOKEN)

    def set_token(self, token: str) -> None:
        """``pulumi config set --secret`` with the value on stdin."""
        if self.provider == "explicit":
            self.local.set_secret_config(f"{PROJECT}:demoToken", token)
        else:
            self.local.set_secret_config("kommo:accessTokens", json.dumps({"demo": token}))

    @property
    def stack(self) -> auto.Stack:
        return self.local.stack


@pytest.fixture
def demo() -> Iterator[EmulatorServer]:
    with EmulatorServer({DEMO_CHANNEL_ID: DEMO_CHANNEL_SECRET}, accounts=[DEMO_ACCOUNT]) as server:
        yield server


def changes(emulator: EmulatorServer, since: int) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in emulator.request_log.requests()[since:] if r.method != "GET"]


@pytest.mark.usefixtures("pulumi_cli")
@pytest.mark.parametrize("recovery", ["up first", "run-program"])
@pytest.mark.parametrize("provider", ["default", "explicit"])
def test_rotated_stored_token_needs_up_or_run_program_before_refresh_and_destroy(
    tmp_path: Path, demo: EmulatorServer, provider: str, recovery: str
) -> None:
    stack = TokenStack(tmp_path, demo, provider)
    stack.stack.up()
    [made] = demo.rest.sources("demo")

    stack.set_token(demo.rest.rotate_token("demo", integration_id=DEMO_INTEGRATION_ID))
    with pytest.raises(auto.CommandError) as refused:  # the state's token, revoked by the rotation
        stack.stack.refresh()
    assert "Kommo refused the access token of demo.kommo.com (401)" in str(refused.value)
    assert "give it a valid token in the kommo provider's accessTokens" in str(refused.value)

    before = len(demo.request_log.requests())
    if recovery == "up first":
        stack.stack.up()  # the provider takes the new token in place; nothing else changes
        assert changes(demo, before) == []
        stack.stack.refresh()
        stack.stack.destroy()
    else:
        stack.stack.refresh(run_program=True)
        stack.stack.destroy(run_program=True)
    assert changes(demo, before) == [("DELETE", f"/api/v4/sources/{made.id}")]
    assert demo.rest.sources("demo") == []
