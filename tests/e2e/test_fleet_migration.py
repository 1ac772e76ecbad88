"""Moving a 0.3.0 stack (a provider per account) to one provider, as the README's "Many accounts" says.

The 0.3.0 fixture (``tests/fixtures/upgrade/0.3.0/accounts/``) is a vendor's stack: a provider per
account, one account on the default provider, and per account a connection, a Source and a Webhook.
The test replays it into an emulator and a fresh backend (``upgrade_replay``) and takes the README's
steps under the real CLI with this checkout's plugin: ``up`` with the version bumped, ``refresh`` (each
object's account and its new id recorded), the program rewritten to one provider for the accounts with
an ``account`` on each object, ``preview`` (no replacement, no delete but the old providers), ``up``
(nothing sent that changes Kommo), a clean ``preview`` and ``refresh``, and ``destroy``. The accounts
go to the channel's provider with ``accessTokens``, or with ``tokenCommand`` (``kommo-chat token``
asking the emulator's vendor token service), or to a provider of their own beside the channel's.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pytest
from upgrade_replay import (
    Step,
    UpgradedStack,
    assert_holds_recorded_objects,
    changes_to_kommo,
    recorded_outputs,
    replay_accounts,
    replay_connections,
)

import kommo_provider
from kommo_provider.emulator import EmulatorServer

from release_0_3_0 import ACCOUNTS, WEBHOOK_KEY  # isort: skip  (beside the fixtures, on sys.path)

pytestmark = pytest.mark.e2e

OBJECT_TYPES: Final = {
    "kommo:index:ChatChannelConnection",
    "kommo:index:Source",
    "kommo:index:Webhook",
}
PROVIDER_TYPE: Final = "pulumi:providers:kommo"
HOSTS: Final = {
    "acme": "acme.kommo.com",
    "globex": "globex.kommo.com",
    "initech": "initech.amocrm.ru",
    "umbrella": "umbrella.kommo.com",
}
"""Each account of the fixture (the prefix of its resources' names) and its host."""

ACCESS_TOKENS: Final = """\
      accessTokens:
        acme: ${acmeToken}
        globex.kommo.com: ${globexToken}
        initech.amocrm.ru: ${initechToken}
        umbrella: ${kommo:accessToken}"""
"""The tokens the stack config already holds, the default provider's from ``kommo:accessToken``."""
TOKEN_COMMAND: Final = """\
      tokenCommand:
        - kommo-chat
        - token
        - --url
        - ${baseUrl}/_emulator/vendor-tokens"""
"""The vendor's token service (the emulator's), asked through ``kommo-chat token``."""
ACCOUNTS_PROVIDER: Final = """\
  accounts:
    type: pulumi:providers:kommo
    properties:
      apiBaseUrl: ${baseUrl}
@TOKENS@
      maxRequestsPerSecond: 0
    options:
      version: @VERSION@
      pluginDownloadURL: github://api.github.com/kommo-provider/kommo-provider
"""
"""A provider for the accounts beside the channel's, which then stays as 0.3.0 had it."""


@dataclass(frozen=True)
class Layout:
    """Where the accounts go: which provider serves the REST objects, and with which tokens."""

    tokens: str
    apart: bool = False

    @property
    def rest_provider(self) -> str:
        return "accounts" if self.apart else "channel"


LAYOUTS: Final = {
    "channel-accessTokens": Layout(ACCESS_TOKENS),
    "channel-tokenCommand": Layout(TOKEN_COMMAND),
    "apart-accessTokens": Layout(ACCESS_TOKENS, apart=True),
}

ONE_PROVIDER_PROGRAM: Final = """\
name: kommo-accounts
runtime: yaml

config:
  baseUrl:
    type: string
  channelId:
    type: string
  channelSecret:
    type: string
    secret: true
  acmeToken:
    type: string
    secret: true
  globexToken:
    type: string
    secret: true
  initechToken:
    type: string
    secret: true

resources:
  # The per-account providers are gone: the channel's provider, or one beside it, serves the accounts.
  channel:
    type: pulumi:providers:kommo
    properties:
      channelId: ${channelId}
      channelSecret: ${channelSecret}
      baseUrl: ${baseUrl}
@CHANNEL_ACCOUNTS@
      maxRequestsPerSecond: 0
    options:
      version: @VERSION@
      pluginDownloadURL: github://api.github.com/kommo-provider/kommo-provider
@ACCOUNTS_PROVIDER@

  acmeChat:
    type: kommo:index:ChatChannelConnection
    properties:
      accountId: ${acmeAccount.amojoId}
      title: Vendor chat
    options:
      provider: ${channel}
  acmeSource:
    type: kommo:index:Source
    properties:
      account: acme
      name: Vendor chat (partners)
      externalId: vendor-chat
      pipelineId: ${acmePipelines.pipelines[1].id}
    options:
      provider: ${@REST@}
  acmeEvents:
    type: kommo:index:Webhook
    properties:
      account: acme
      destination: https://bot.example.com/kommo/acme/events
      settings: [add_message, status_lead]
    options:
      provider: ${@REST@}

  globexChat:
    type: kommo:index:ChatChannelConnection
    properties:
      accountId: ${globexAccount.amojoId}
      title: Vendor chat
    options:
      provider: ${channel}
  globexSource:
    type: kommo:index:Source
    properties:
      account: globex.kommo.com
      name: Vendor chat
      externalId: vendor-chat
    options:
      provider: ${@REST@}
  globexEvents:
    type: kommo:index:Webhook
    properties:
      account: globex.kommo.com
      destination:
        fn::secret: https://bot.example.com/kommo/events?account=globex&key=@WEBHOOK_KEY@
      settings: [add_message]
    options:
      provider: ${@REST@}

  initechChat:
    type: kommo:index:ChatChannelConnection
    properties:
      accountId: ${initechAccount.amojoId}
      title: Vendor chat
      hookApiVersion: v1
    options:
      provider: ${channel}
  initechSource:
    type: kommo:index:Source
    properties:
      account: initech.amocrm.ru
      name: Vendor chat
      externalId: vendor-chat
    options:
      provider: ${@REST@}
  initechEvents:
    type: kommo:index:Webhook
    properties:
      account: initech.amocrm.ru
      destination: https://bot.example.com/kommo/initech/events
      settings: [add_talk, update_talk]
      sort: 5
    options:
      provider: ${@REST@}

  # umbrella was on the default provider: it moves to the same provider.
  umbrellaChat:
    type: kommo:index:ChatChannelConnection
    properties:
      accountId: ${umbrellaAccount.amojoId}
      title: Vendor chat
    options:
      provider: ${channel}
  umbrellaSource:
    type: kommo:index:Source
    properties:
      account: umbrella
      name: Vendor chat
      externalId: vendor-chat
    options:
      provider: ${@REST@}
  umbrellaEvents:
    type: kommo:index:Webhook
    properties:
      account: umbrella
      destination: https://bot.example.com/kommo/umbrella/events
      settings: [add_message]
    options:
      provider: ${@REST@}

variables:
  acmeAccount:
    fn::invoke:
      function: kommo:index:getAccount
      arguments: {account: acme}
      options: {provider: "${@REST@}"}
  acmePipelines:
    fn::invoke:
      function: kommo:index:getPipelines
      arguments: {account: acme}
      options: {provider: "${@REST@}"}
  globexAccount:
    fn::invoke:
      function: kommo:index:getAccount
      arguments: {account: globex.kommo.com}
      options: {provider: "${@REST@}"}
  initechAccount:
    fn::invoke:
      function: kommo:index:getAccount
      arguments: {account: initech.amocrm.ru}
      options: {provider: "${@REST@}"}
  umbrellaAccount:
    fn::invoke:
      function: kommo:index:getAccount
      arguments: {account: umbrella}
      options: {provider: "${@REST@}"}

outputs:
  acmeScopeId: ${acmeChat.scopeId}
  acmeSourceId: ${acmeSource.sourceId}
  acmePipelineId: ${acmeSource.pipelineId}
  globexScopeId: ${globexChat.scopeId}
  globexSourceId: ${globexSource.sourceId}
  initechScopeId: ${initechChat.scopeId}
  initechSourceId: ${initechSource.sourceId}
  initechPipelineId: ${initechSource.pipelineId}
  umbrellaScopeId: ${umbrellaChat.scopeId}
  umbrellaSourceId: ${umbrellaSource.sourceId}
"""
"""The fixture's program after the move: the one thing the user rewrites (the stack config stays)."""

OLD_PROVIDERS: Final = ("acme", "globex", "initech")


def one_provider_program(layout: Layout) -> str:
    channel = "" if layout.apart else "      apiBaseUrl: ${baseUrl}\n" + layout.tokens
    accounts = ACCOUNTS_PROVIDER.replace("@TOKENS@", layout.tokens) if layout.apart else ""
    return (
        ONE_PROVIDER_PROGRAM.replace("@CHANNEL_ACCOUNTS@\n", f"{channel}\n" if channel else "")
        .replace("@ACCOUNTS_PROVIDER@\n", accounts)
        .replace("@REST@", layout.rest_provider)
        .replace("@VERSION@", kommo_provider.__version__)
        .replace("@WEBHOOK_KEY@", WEBHOOK_KEY)
    )


@pytest.fixture
def fleet() -> Iterator[EmulatorServer]:
    """What Kommo held after 0.3.0's ``up``: four connections, four accounts with their tokens, and their
    sources and webhooks with the ids Kommo gave them."""
    with EmulatorServer(dict(ACCOUNTS.channels), port=0) as server:
        assert replay_connections(server, ACCOUNTS) == 4
        replay_accounts(server, ACCOUNTS)
        yield server


def _objects(upgraded: UpgradedStack) -> dict[str, tuple[str, str, object]]:
    """Each Source and Webhook in state: name -> (its id, Kommo's id from its outputs, its ``account``)."""
    found = {}
    for r in upgraded.resources():
        if r["type"] in ("kommo:index:Source", "kommo:index:Webhook"):
            outputs = r.get("outputs", {})
            number = outputs.get("sourceId", outputs.get("webhookId"))
            found[r["urn"].rsplit("::", 1)[-1]] = (r["id"], str(number), outputs.get("account"))
    return found


def _numbers(objects: dict[str, tuple[str, str, object]]) -> dict[str, str]:
    """Kommo's id of each object, as state records it."""
    return {name: number for name, (_, number, _) in objects.items()}


def _assert_refresh_recorded_accounts(upgraded: UpgradedStack, before: dict[str, str]) -> None:
    """After the refresh every Source and Webhook has the id ``<host>/<Kommo's id>`` and its account in
    state, and names the same object of Kommo as before."""
    objects = _objects(upgraded)
    assert len(objects) == 8
    for name, (rid, number, account) in objects.items():
        host = HOSTS[next(prefix for prefix in HOSTS if name.startswith(prefix))]
        assert account == host, f"{name}: refresh recorded the account {account!r}"
        assert rid == f"{host}/{number}", f"{name}: refresh left the id {rid!r}"
    assert _numbers(objects) == before, "refresh changed which object of Kommo a resource names"


def _assert_only_old_providers_go(steps: Sequence[Step], layout: Layout) -> None:
    """No replacement anywhere, no account object created or deleted: the per-account providers and the
    default one are deleted, the accounts' provider made or updated in place, and every object stays."""
    shown = "\n".join(map(str, steps))
    objects = [s for s in steps if s.type in OBJECT_TYPES]
    assert len(objects) == 12, shown
    assert {s.op for s in objects} == {"same"}, f"an account object changes:\n{shown}"
    providers = sorted((s.op, s.name.split("_", 1)[0]) for s in steps if s.type == PROVIDER_TYPE)
    expected = [("delete", name) for name in (*OLD_PROVIDERS, "default")]
    expected += [("same", "channel"), ("create", "accounts")] if layout.apart else [("update", "channel")]
    assert providers == sorted(expected), f"providers:\n{shown}"


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.usefixtures("pulumi_cli")
def test_a_0_3_0_fleet_moves_to_one_provider_without_a_change_in_kommo(
    fleet: EmulatorServer, tmp_path: Path, layout: str
) -> None:
    chosen = LAYOUTS[layout]
    upgraded = UpgradedStack(ACCOUNTS, tmp_path, fleet.url)
    recorded_numbers = _numbers(_objects(upgraded))

    # 1. The program names the new plugin version: up changes nothing in Kommo.
    assert upgraded.stack.up().summary.result == "succeeded"
    assert changes_to_kommo(fleet) == [], "up with the new version changed something at Kommo"
    versions = {r["inputs"].get("version") for r in upgraded.resources() if r["type"] == PROVIDER_TYPE}
    assert versions == {kommo_provider.__version__}, "a provider in state still names another version"

    # 2. refresh with the program as it was: each object's account and new id go into state.
    before = len(fleet.request_log.requests())
    upgraded.stack.refresh()
    assert changes_to_kommo(fleet, before) == [], "refresh must only read"
    _assert_refresh_recorded_accounts(upgraded, recorded_numbers)

    # 3. The program rewritten to one provider; the stack config stays as it is.
    program = Path(upgraded.stack.workspace.work_dir) / "Pulumi.yaml"
    program.write_text(one_provider_program(chosen), encoding="utf-8")

    # 4. preview: only the old providers go.
    before = len(fleet.request_log.requests())
    _assert_only_old_providers_go(upgraded.preview_steps(), chosen)
    assert changes_to_kommo(fleet, before) == [], "preview must only read"

    # 5. up: nothing that changes Kommo is sent; the keyed destination stays out of the state in clear.
    before = len(fleet.request_log.requests())
    assert upgraded.stack.up().summary.result == "succeeded"
    assert changes_to_kommo(fleet, before) == [], "the move changed something at Kommo"
    assert_holds_recorded_objects(fleet, ACCOUNTS)
    assert len(fleet.backend.connections()) == 4
    assert upgraded.local.outputs() == recorded_outputs(ACCOUNTS)
    providers = [r["urn"].rsplit("::", 1)[-1] for r in upgraded.resources() if r["type"] == PROVIDER_TYPE]
    assert sorted(providers) == sorted({"channel", chosen.rest_provider}), providers
    backend = [p for p in (tmp_path / "state" / ".pulumi").rglob("*") if p.is_file()]
    assert backend and not [p for p in backend if WEBHOOK_KEY in p.read_text(errors="replace")], (
        "the webhook's key in the backend in clear"
    )

    # 6. A clean preview and refresh.
    upgraded.stack.preview(expect_no_changes=True)
    before = len(fleet.request_log.requests())
    upgraded.stack.refresh()
    assert changes_to_kommo(fleet, before) == [], "refresh must only read"
    upgraded.stack.preview(expect_no_changes=True)
    assert _numbers(_objects(upgraded)) == recorded_numbers

    # Then destroy leaves nothing, in Kommo or in state.
    before = len(fleet.request_log.requests())
    upgraded.stack.destroy()
    assert fleet.backend.connections() == [], "destroy left an account connected"
    assert fleet.rest.sources() == [] and fleet.rest.webhooks() == [], "destroy left an object"
    deletes = changes_to_kommo(fleet, before)
    assert all(200 <= status < 300 for _, _, status in deletes), f"a delete failed: {deletes}"
    assert upgraded.resources() == []
