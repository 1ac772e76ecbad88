"""A Kommo integration's per-account setup under the real CLI, as a user runs it, against the emulator.

The account is looked up (``kommo:index:getAccount``), connected to the demo channel, given a lead
source and subscribed to a local bot's events. The YAML programs use the default provider, configured
from stack config as a user would (``kommo:accountDomain``, ``kommo:apiBaseUrl``, and
``kommo:accessToken`` set with ``config set --secret``), and go through the whole path: preview, up,
drift made out of band, import, destroy, a wrong token, and where the token may appear. The Python SDK
example (examples/python, a fleet of both demo accounts through one provider) goes through the same
drift path, with its tokens from its ``tokenCommand``.

Over 300 lines on purpose: each test is one step of the same user's path, and reads best beside the
program builder and the emulator helpers it shares with the others.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from pulumi import automation as auto
from yaml_stack import PASSPHRASE, YamlStack, yaml_stacks

from kommo_provider.emulator import (
    DEMO_ACCESS_TOKEN,
    DEMO_ACCOUNT,
    DEMO_ACCOUNTS,
    DEMO_CHANNEL_ID,
    DEMO_CHANNEL_SECRET,
    DEMO_INTEGRATION_ID,
    DEMO_REST_ACCOUNT_ID,
    EmulatorServer,
    mint_token,
)
from stack_runner import PROJECT_DIR

pytestmark = pytest.mark.e2e

CONNECTION = "kommo:index:ChatChannelConnection"
SOURCE = "kommo:index:Source"
WEBHOOK = "kommo:index:Webhook"
ACCOUNT = DEMO_ACCOUNT.subdomain
EXTERNAL_ID = "support-bot"
SOURCE_NAME = "Support bot chats"
BOT_URL = "http://127.0.0.1:8080/kommo/events"
"""A local bot's URL: plain http is accepted for loopback. The emulator never posts to it."""
EVENTS = ["add_message", "status_lead"]
AMOJO_PATHS = "/v2/origin/custom/"
WRONG_TOKEN = mint_token(
    account_id=DEMO_REST_ACCOUNT_ID + 1,
    integration_id=DEMO_INTEGRATION_ID,
    user_id=1,
    issued_at=1_767_225_600,
    expires_at=4_102_444_800,
    token_id="wrong",
)
"""Well formed and unexpired, so only Kommo can refuse it: no account of the emulator has it."""


def setup_program(*, lookups: bool = True, connection: bool = True) -> dict[str, Any]:
    """A YAML program on the default provider: the account's connection (its accountId from getAccount,
    or written down), a source on the main pipeline, and the bot's webhook."""
    resources: dict[str, Any] = {
        "chats": {"type": SOURCE, "properties": {"name": SOURCE_NAME, "externalId": EXTERNAL_ID}},
        "events": {"type": WEBHOOK, "properties": {"destination": BOT_URL, "settings": EVENTS}},
    }
    outputs = {"externalId": "${chats.externalId}", "sourceId": "${chats.sourceId}",
               "destination": "${events.destination}"}  # fmt: skip
    if connection:
        account_id = "${account.amojoId}" if lookups else DEMO_ACCOUNT.amojo_id
        resources["support"] = {
            "type": CONNECTION,
            "properties": {"accountId": account_id, "title": "Support bot"},
        }
        outputs["scopeId"] = "${support.scopeId}"
    program = {"name": "kommo-account-e2e", "runtime": "yaml", "resources": resources, "outputs": outputs}
    if lookups:
        program["variables"] = {"account": {"fn::invoke": {"function": "kommo:index:getAccount"}}}
    return program


def account_stack(make: Callable[..., YamlStack], program: dict[str, Any], emulator: EmulatorServer,
                  token: str, env: dict[str, str]) -> YamlStack:  # fmt: skip
    """A YAML project and its stack, the default provider configured from stack config as a user would."""
    stack = make(program, env=env)
    stack.local.set_config({"kommo:channelId": DEMO_CHANNEL_ID, "kommo:baseUrl": emulator.url,
                            "kommo:accountDomain": ACCOUNT, "kommo:apiBaseUrl": emulator.url})  # fmt: skip
    stack.local.set_secret_config("kommo:channelSecret", DEMO_CHANNEL_SECRET)
    stack.local.set_secret_config("kommo:accessToken", token)
    return stack


@pytest.fixture
def demo() -> Iterator[EmulatorServer]:
    """An emulator of this test's own, serving the demo channel and the demo account."""
    with EmulatorServer({DEMO_CHANNEL_ID: DEMO_CHANNEL_SECRET}, accounts=[DEMO_ACCOUNT]) as server:
        yield server


@pytest.fixture
def make_stack(tmp_path: Path, demo: EmulatorServer, pulumi_cli: Path) -> Iterator[Callable[..., YamlStack]]:
    with yaml_stacks(tmp_path) as make:  # each one destroyed at the end: nothing left in the emulator

        def made(program: dict[str, Any], token: str = DEMO_ACCESS_TOKEN, **env: str) -> YamlStack:
            return account_stack(make, program, demo, token, env)

        yield made


def seen(emulator: EmulatorServer, since: int = 0) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in emulator.request_log.requests()[since:]]


def changes_to_kommo(emulator: EmulatorServer, since: int = 0) -> list[tuple[str, str]]:
    """Requests that change something at Kommo: any REST call but a read, and any amojo call."""
    return [(m, p) for m, p in seen(emulator, since) if m != "GET" or p.startswith(AMOJO_PATHS)]


def rest_call(emulator: EmulatorServer, method: str, path: str, body: Any) -> Any:
    """A call made outside Pulumi with the demo token, as another tool or a person would."""
    answer = requests.request(method, f"{emulator.url}/api/v4{path}", json=body, timeout=5,
                              headers={"Authorization": f"Bearer {DEMO_ACCESS_TOKEN}"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    return answer.json()


def made_by_hand(emulator: EmulatorServer, **fields: Any) -> int:
    """A source made outside Pulumi; its id."""
    body = {"name": "Made by hand", "external_id": "by-hand", **fields}
    [source] = rest_call(emulator, "POST", "/sources", [body])["_embedded"]["sources"]
    return int(source["id"])


def test_preview_only_reads_and_up_converges(
    make_stack: Callable[..., YamlStack], demo: EmulatorServer
) -> None:
    stack = make_stack(setup_program())
    assert stack.stack.preview().change_summary == {"create": 4}  # the stack, a connection, source, webhook
    assert seen(demo) == [("GET", "/api/v4/account?with=amojo_id")], "preview only looks the account up"

    assert stack.stack.up().summary.resource_changes == {"create": 4}
    account = demo.rest.account(ACCOUNT)
    [connection] = demo.backend.connections()
    [source] = demo.rest.sources(ACCOUNT)
    [hook] = demo.rest.webhooks(ACCOUNT)
    assert connection.account_id == account.amojo_id, "the connection took getAccount's amojoId"
    assert (source.name, source.external_id) == (SOURCE_NAME, EXTERNAL_ID)
    assert source.pipeline_id == account.main_pipeline().id, "no pipelineId: Kommo's main pipeline"
    assert (hook.destination, hook.settings, hook.disabled) == (BOT_URL, EVENTS, False)
    assert stack.outputs() == {"scopeId": connection.scope_id, "externalId": EXTERNAL_ID,
                               "sourceId": source.id, "destination": BOT_URL}  # fmt: skip

    before = len(demo.request_log.requests())
    stack.stack.preview(expect_no_changes=True)
    stack.stack.refresh(expect_no_changes=True)
    assert changes_to_kommo(demo, before) == [], "preview and refresh only read"


def test_a_program_without_lookups_previews_without_any_request(
    make_stack: Callable[..., YamlStack], demo: EmulatorServer
) -> None:
    stack = make_stack(setup_program(lookups=False))
    assert stack.stack.preview().change_summary == {"create": 4}
    assert seen(demo) == []


def test_drift_shows_on_refresh_and_up_repairs_it_and_destroy_removes_only_the_stacks_objects(
    make_stack: Callable[..., YamlStack], demo: EmulatorServer
) -> None:
    bystander = made_by_hand(demo)
    rest_call(
        demo, "POST", "/webhooks", {"destination": "https://crm.example.com/hook", "settings": ["add_lead"]}
    )
    stack = make_stack(setup_program())
    stack.stack.up()
    source_id = stack.outputs()["sourceId"]

    demo.rest.change_source(source_id, name="Renamed by hand")
    assert stack.stack.refresh().summary.resource_changes == {"same": 3, "update": 1}
    [source] = stack.resources(SOURCE)
    assert source["outputs"]["name"] == "Renamed by hand", "refresh wrote Kommo's name into state"
    before = len(demo.request_log.requests())
    assert stack.stack.up().summary.resource_changes == {"same": 3, "update": 1}
    assert changes_to_kommo(demo, before) == [("PATCH", f"/api/v4/sources/{source_id}")]
    assert demo.rest.sources(ACCOUNT)[1].name == SOURCE_NAME

    demo.rest.remove_source(source_id)
    assert stack.stack.refresh().summary.resource_changes == {"same": 3, "delete": 1}
    assert stack.resources(SOURCE) == [], "a source deleted out of band leaves the state"
    before = len(demo.request_log.requests())
    assert stack.stack.up().summary.resource_changes == {"same": 3, "create": 1}
    assert changes_to_kommo(demo, before) == [("POST", "/api/v4/sources")]
    [_, remade] = demo.rest.sources(ACCOUNT)
    assert remade.external_id == EXTERNAL_ID and stack.outputs()["sourceId"] == remade.id != source_id

    [_, hook] = demo.rest.webhooks(ACCOUNT)
    demo.rest.change_webhook(hook.id, disabled=True)  # as Kommo does after failed deliveries
    assert stack.stack.refresh().summary.resource_changes == {"same": 3, "update": 1}
    assert stack.resources(WEBHOOK)[0]["outputs"]["disabled"] is True
    before = len(demo.request_log.requests())
    assert stack.stack.up().summary.resource_changes == {"same": 3, "update": 1}
    assert changes_to_kommo(demo, before) == [("POST", "/api/v4/webhooks")]
    assert demo.rest.webhooks(ACCOUNT)[1].disabled is False
    stack.stack.refresh(expect_no_changes=True)
    stack.stack.preview(expect_no_changes=True)

    stack.stack.destroy()
    assert [s.id for s in demo.rest.sources(ACCOUNT)] == [bystander]
    assert [h.destination for h in demo.rest.webhooks(ACCOUNT)] == ["https://crm.example.com/hook"]
    assert demo.backend.connections() == []
    assert [stack.resources(t) for t in (CONNECTION, SOURCE, WEBHOOK)] == [[], [], []]


def test_import_reads_the_whole_source_and_a_matching_program_shows_no_diff(
    make_stack: Callable[..., YamlStack], demo: EmulatorServer, tmp_path: Path
) -> None:
    support = demo.rest.account(ACCOUNT).pipelines[1]
    source_id = made_by_hand(demo, name="WhatsApp chats", external_id="wa-chats", pipeline_id=support.id)
    stack = make_stack({"name": "kommo-account-e2e", "runtime": "yaml", "resources": {}})
    stack.stack.up()
    before = len(demo.request_log.requests())
    generated = tmp_path / "imported.yaml"
    imported_id = f"{ACCOUNT}.kommo.com/{source_id}"  # an id names the account and Kommo's id
    stack.local.run_cli(["import", SOURCE, "chats", imported_id, "--yes", "--protect=false",
                         "--out", str(generated)])  # fmt: skip
    assert changes_to_kommo(demo, before) == [], "import only reads"
    [imported] = stack.resources(SOURCE)
    assert imported["id"] == imported_id
    read_back = {k: imported["outputs"][k] for k in ("name", "externalId", "pipelineId", "sourceId")}
    assert read_back == {"name": "WhatsApp chats", "externalId": "wa-chats", "pipelineId": support.id,
                         "sourceId": source_id}  # fmt: skip
    assert "wa-chats" in generated.read_text()

    properties = {"name": "WhatsApp chats", "externalId": "wa-chats", "pipelineId": support.id}
    stack.write({"name": "kommo-account-e2e", "runtime": "yaml",
                 "resources": {"chats": {"type": SOURCE, "properties": properties}}})  # fmt: skip
    stack.stack.preview(expect_no_changes=True)
    assert changes_to_kommo(demo, before) == []


@pytest.mark.parametrize("lookups", [True, False], ids=["getAccount", "source-and-webhook"])
def test_a_wrong_token_fails_in_one_line_naming_access_token_with_nothing_in_state(
    make_stack: Callable[..., YamlStack], demo: EmulatorServer, lookups: bool
) -> None:
    stack = make_stack(setup_program(lookups=lookups, connection=lookups), token=WRONG_TOKEN)
    with pytest.raises(auto.CommandError) as info:
        stack.stack.up()
    text = str(info.value)
    diagnostics = text.partition("Diagnostics:")[2].partition("Resources:")[0]
    failures = sorted(line.strip() for line in diagnostics.splitlines() if "error:" in line and "401" in line)
    # Each call the token opens fails on its own, in one line: the lookup, and the source and webhook
    # (which do not wait for it).
    account = f"{ACCOUNT}.kommo.com"
    what = [f"creating the source in {account} failed", f"creating the webhook in {account} failed"]
    what += [f"getAccount of {account} failed"] if lookups else []
    assert len(failures) == len(what), diagnostics
    for line in failures:
        assert f"Kommo refused the access token of {account} (401)" in line, line
        assert "set accessToken on the kommo provider (or kommo:accessToken)" in line, line
    assert sorted(w for w in what if any(w in line for line in failures)) == sorted(what), failures
    assert "Traceback" not in text and WRONG_TOKEN not in text
    assert [stack.resources(t) for t in (CONNECTION, SOURCE, WEBHOOK)] == [[], [], []]
    assert demo.rest.sources() == [] and demo.rest.webhooks() == [] and demo.backend.connections() == []


def token_parts_in(text: str) -> list[str]:
    """The parts of the demo token found in ``text``: its claims and its signature (the header is the
    same in every JWT, so it says nothing)."""
    return [part for part in DEMO_ACCESS_TOKEN.split(".")[1:] if part in text]


def test_the_token_is_only_ciphertext_in_the_backend_and_absent_from_verbose_logs(
    make_stack: Callable[..., YamlStack], demo: EmulatorServer
) -> None:
    stack = make_stack(setup_program(), KOMMO_PROVIDER_LOG_LEVEL="DEBUG")
    verbose: dict[str, Any] = {"log_verbosity": 9, "log_to_std_err": True, "debug": True}
    up = stack.stack.up(**verbose)
    refresh = stack.stack.refresh(**verbose)
    export = stack.local.run_cli(["stack", "export", "--stack", stack.local.name]).stdout
    [provider] = [r for r in json.loads(export)["deployment"]["resources"]
                  if r["type"] == "pulumi:providers:kommo"]  # fmt: skip
    assert "ciphertext" in provider["inputs"]["accessToken"]
    assert "secure:" in (stack.dir / "Pulumi.e2e.yaml").read_text()
    destroy = stack.stack.destroy(**verbose)
    assert len(up.stderr) > 10_000, "the verbose engine log was captured"
    for where, text in {
        "up output and logs": up.stdout + up.stderr,
        "refresh output and logs": refresh.stdout + refresh.stderr,
        "destroy output and logs": destroy.stdout + destroy.stderr,
        "stack export": export,
        "backend files and stack config": stack.stored_text(),
        "emulator request log": json.dumps([r.to_dict() for r in demo.request_log.requests()]),
    }.items():
        assert token_parts_in(text) == [], f"the access token in plaintext in the {where}"


def test_the_plugins_debug_log_shows_each_request_without_the_token(
    make_stack: Callable[..., YamlStack], demo: EmulatorServer
) -> None:
    stack = make_stack(setup_program(), KOMMO_PROVIDER_LOG_LEVEL="DEBUG")
    up = stack.stack.up(log_verbosity=9, log_to_std_err=True, debug=True)
    logged = up.stdout + up.stderr
    assert token_parts_in(logged) == []
    assert re.search(r"GET /api/v4/account\S* -> 200", logged), "request-level lines from the plugin"


# -- the Python SDK example ------------------------------------------------------------------------


class PythonExample:
    """examples/python/kommo_example.py, run as a user runs it, with a backend folder of its own."""

    def __init__(self, root: Path) -> None:
        self.state = root / "state"
        self.env = {**os.environ, "PULUMI_HOME": str(root / "home"), "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE}
        for name in ("KOMMO_BASE_URL", "KOMMO_API_BASE_URL"):
            self.env.pop(name, None)
        self.output: list[str] = []

    def run(self, operation: str, *args: str, ok: bool = True) -> dict[str, Any]:
        argv = [sys.executable, str(PROJECT_DIR / "examples" / "python" / "kommo_example.py"),
                "--state", str(self.state), *args, operation]  # fmt: skip
        done = subprocess.run(argv, cwd=PROJECT_DIR, env=self.env, capture_output=True, text=True,
                              timeout=600, check=False)  # fmt: skip
        self.output += [done.stdout, done.stderr]
        assert (done.returncode == 0) == ok, f"{operation}: {done.returncode}\n{done.stderr}\n{done.stdout}"
        return json.loads(done.stdout.strip().splitlines()[-1]) if ok else {}

    def stored_text(self) -> str:
        return "".join(p.read_text(errors="replace") for p in self.state.rglob("*") if p.is_file())


@pytest.fixture
def fleet() -> Iterator[EmulatorServer]:
    """An emulator as ``kommo-chat emulator --demo`` serves it: the demo channel and both demo accounts,
    whose tokens its vendor token service hands out (the example's default tokenCommand asks it)."""
    with EmulatorServer({DEMO_CHANNEL_ID: DEMO_CHANNEL_SECRET}, accounts=DEMO_ACCOUNTS) as server:
        yield server


@pytest.fixture
def python_example(
    tmp_path: Path, pulumi_cli: Path, sdk_examples: Callable[[str], None]
) -> Iterator[Callable[[], PythonExample]]:
    sdk_examples("python")  # pulumi_kommo in this virtualenv
    made: list[PythonExample] = []

    def make() -> PythonExample:
        made.append(PythonExample(tmp_path / f"py{len(made)}"))
        return made[-1]

    yield make
    for example in made:
        with contextlib.suppress(AssertionError):
            example.run("destroy")


FLEET = 2 + 3 * len(DEMO_ACCOUNTS)
"""The example's resources: the stack, the provider, and per account a connection, source and hook."""


def test_python_example_drift_and_destroy(
    python_example: Callable[[], PythonExample], fleet: EmulatorServer
) -> None:
    """Drift in one account of the fleet shows on refresh and the next up repairs only it."""
    example = python_example()
    preview = example.run("preview", "--base-url", fleet.url, "--config", f"botEventsUrl={BOT_URL}")
    assert preview["changes"] == {"create": FLEET}
    assert seen(fleet) == [("GET", "/api/v4/account?with=amojo_id")] * len(DEMO_ACCOUNTS)

    outputs = example.run("up")["outputs"]["accounts"][ACCOUNT]
    [source] = fleet.rest.sources(ACCOUNT)
    [hook] = fleet.rest.webhooks(ACCOUNT)
    assert (outputs["sourceId"], outputs["sourceExternalId"]) == (source.id, source.external_id)
    assert outputs["webhookId"] == hook.id and hook.destination == BOT_URL
    assert example.run("preview")["changes"] == {"same": FLEET}
    assert example.run("refresh")["changes"] == {"same": FLEET}

    fleet.rest.change_source(source.id, name="Renamed by hand")
    assert example.run("refresh")["changes"] == {"same": FLEET - 1, "update": 1}
    assert example.run("up")["changes"] == {"same": FLEET - 1, "update": 1}
    assert fleet.rest.sources(ACCOUNT)[0].name == SOURCE_NAME

    fleet.rest.remove_source(source.id)
    assert example.run("refresh")["changes"] == {"same": FLEET - 1, "delete": 1}
    remade = example.run("up")
    assert remade["changes"] == {"same": FLEET - 1, "create": 1}
    assert (
        remade["outputs"]["accounts"][ACCOUNT]["sourceId"] == fleet.rest.sources(ACCOUNT)[0].id != source.id
    )

    fleet.rest.change_webhook(hook.id, disabled=True)
    assert example.run("refresh")["changes"] == {"same": FLEET - 1, "update": 1}
    assert example.run("up")["changes"] == {"same": FLEET - 1, "update": 1}
    assert fleet.rest.webhooks(ACCOUNT)[0].disabled is False

    assert example.run("destroy")["changes"] == {"delete": FLEET}
    assert fleet.rest.sources() == [] and fleet.rest.webhooks() == [] and fleet.backend.connections() == []
    assert "ciphertext" in example.stored_text()
    written = example.stored_text() + "".join(example.output)
    assert [a.subdomain for a in DEMO_ACCOUNTS if str(a.token).split(".")[2] in written] == []


def test_python_example_with_a_refused_token_stops_at_preview(
    python_example: Callable[[], PythonExample], fleet: EmulatorServer, tmp_path: Path
) -> None:
    """The vendor's token command hands out a token Kommo refuses: it is asked once more, the new token
    is refused too, and the preview fails naming tokenCommand, with nothing made and no token shown."""
    store, asked = tmp_path / "tokens.json", tmp_path / "asked.log"
    store.write_text(json.dumps({f"{a.subdomain}.kommo.com": WRONG_TOKEN for a in DEMO_ACCOUNTS}))
    command = [sys.executable, str(PROJECT_DIR / "tests" / "token_command.py"), str(store), str(asked)]
    example = python_example()
    example.run(
        "preview", "--base-url", fleet.url, "--config", f"tokenCommand={json.dumps(command)}", ok=False
    )
    output = "".join(example.output)
    assert any(
        f"Kommo refused the access token of {a.subdomain}.kommo.com (401)" in output for a in DEMO_ACCOUNTS
    )
    assert "tokenCommand's token was refused again after it was fetched anew" in output
    assert WRONG_TOKEN.split(".")[2] not in output
    assert changes_to_kommo(fleet) == []
    # The program stops at its first failure, so an account whose calls were still in flight may have been
    # asked only once; an account whose refusal was reported was asked exactly twice, and none more.
    hosts = asked.read_text().split()
    reported = [
        f"{a.subdomain}.kommo.com"
        for a in DEMO_ACCOUNTS
        if f"Kommo refused the access token of {a.subdomain}.kommo.com (401)" in output
    ]
    assert reported and all(hosts.count(host) == 2 for host in reported), "asked again after the 401"
    assert all(hosts.count(host) <= 2 for host in hosts), "asked once more after a 401, never twice more"
