"""The provider as the Pulumi engine runs it: a ``python -m pulumi.dynamic`` process over gRPC.

Inputs are exactly what the SDK registers (captured under ``set_mocks``), including the pickled
``__provider``; the process starts in the project directory as the CLI starts it.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from constants import ACCOUNT_ID, CHANNEL_ID, CHANNEL_SECRET, OTHER_ACCOUNT_ID
from emulator_helpers import stored
from engine_harness import PROJECT_DIR, ProviderProcess, registered_inputs

from kommo_provider import KommoChatChannelConnection
from kommo_provider.emulator import EmulatorServer

FAST = {"kommo:maxRequestsPerSecond": "0", "kommo:readTimeout": "2", "kommo:maxRetries": "1"}


def sdk_inputs(emulator: EmulatorServer, **overrides: Any) -> tuple[str, dict[str, Any]]:
    args: dict[str, Any] = {
        "channel_id": CHANNEL_ID,
        "channel_secret": CHANNEL_SECRET,
        "account_id": ACCOUNT_ID,
        "title": "Support bot",
        "base_url": emulator.url,
    }
    args.update(overrides)
    return registered_inputs(lambda: KommoChatChannelConnection("conn", **args))


@pytest.fixture(scope="module")
def process() -> Iterator[ProviderProcess]:
    with ProviderProcess(cwd=PROJECT_DIR) as proc:
        proc.configure(FAST)
        yield proc


def test_sdk_registers_a_small_secret_free_provider_blob(emulator: EmulatorServer) -> None:
    typ, inputs = sdk_inputs(emulator)
    assert typ == "pulumi-python:dynamic/kommo:ChatChannelConnection"
    blob = inputs["__provider"]
    assert len(blob) <= 2048
    raw = base64.b64decode(blob)
    assert b"kommo_provider.provider" in raw
    assert CHANNEL_SECRET.encode() not in raw


def test_full_lifecycle_over_grpc(process: ProviderProcess, emulator: EmulatorServer) -> None:
    typ, news = sdk_inputs(emulator)
    process.for_resource(typ, "conn")

    checked, failures = process.check({}, news)
    assert failures == []
    assert emulator.backend.requests() == []

    id_, outs = process.create(checked)
    connection = emulator.backend.get_connection(CHANNEL_ID, ACCOUNT_ID)
    assert connection is not None and connection.connected
    assert id_ == connection.scope_id == outs["scope_id"]
    assert outs["title"] == "Support bot" and outs["__provider"] == news["__provider"]

    same = process.diff(id_, outs, checked)
    assert same.changes == same.DIFF_NONE

    read_id, read_outs = process.read(id_, outs)
    assert (read_id, read_outs) == (id_, outs)
    assert len(emulator.backend.requests()) == 1

    _, renamed = sdk_inputs(emulator, title="Renamed")
    renamed, _ = process.check(checked, renamed)
    plan = process.diff(id_, outs, renamed)
    assert plan.changes == plan.DIFF_SOME and list(plan.replaces) == []
    updated = process.update(id_, outs, renamed)
    assert updated["title"] == "Renamed" and updated["scope_id"] == id_
    assert set(updated) == set(outs)

    _, moved = sdk_inputs(emulator, account_id=OTHER_ACCOUNT_ID)
    moved, _ = process.check(renamed, moved)
    plan = process.diff(id_, updated, moved)
    assert list(plan.replaces) == ["account_id"] and not plan.deleteBeforeReplace

    process.delete(id_, updated)
    assert not stored(emulator, CHANNEL_ID, ACCOUNT_ID).connected
    assert CHANNEL_SECRET not in process.stderr()


def test_check_failures_name_fields(process: ProviderProcess, emulator: EmulatorServer) -> None:
    typ, news = sdk_inputs(emulator, account_id="nope", hook_api_version="v9")
    process.for_resource(typ, "conn")
    _, failures = process.check({}, news)
    assert sorted(f for f, _ in failures) == ["account_id", "hook_api_version"]


def test_failed_create_reports_the_reason_without_the_secret(
    process: ProviderProcess, emulator: EmulatorServer
) -> None:
    wrong = "0123456789abcdef0123456789abcdef01234567"
    typ, news = sdk_inputs(emulator, channel_secret=wrong)
    process.for_resource(typ, "conn")
    checked, _ = process.check({}, news)
    with pytest.raises(grpc.RpcError) as info:
        process.create(checked)
    details = info.value.details() or ""
    assert "KommoProviderError" in details and "signature" in details
    assert wrong not in details and CHANNEL_SECRET not in details
    assert emulator.backend.connections() == []


def test_provider_works_from_any_directory_when_installed(tmp_path: Path, emulator: EmulatorServer) -> None:
    """The installed package is found by reference even when the project directory is not the cwd."""
    typ, news = sdk_inputs(emulator)
    with ProviderProcess(cwd=tmp_path) as proc:
        proc.configure(FAST)
        proc.for_resource(typ, "conn")
        checked, _ = proc.check({}, news)
        id_, _ = proc.create(checked)
    assert id_ == f"{CHANNEL_ID}_{ACCOUNT_ID}"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("maxRequestsPerSecond", "fast"),
        ("maxRetries", "nan"),
        ("readTimeout", "-1"),
        ("connectTimeout", "inf"),
    ],
)
def test_bad_stack_config_is_one_check_failure_naming_the_key(
    emulator: EmulatorServer, key: str, value: str
) -> None:
    """Not a traceback from configure: check reports it in one line, and nothing is sent."""
    typ, news = sdk_inputs(emulator)
    with ProviderProcess() as proc:
        proc.configure({f"kommo:{key}": value})
        proc.for_resource(typ, "conn")
        _, failures = proc.check({}, news)
        with pytest.raises(grpc.RpcError) as info:  # create without check (as destroy runs delete)
            proc.create(news)
    assert len(failures) == 1
    prop, reason = failures[0]
    assert prop == "" and reason.startswith(f"stack config kommo:{key} must be ")
    assert "\n" not in reason and "Traceback" not in reason
    assert f"kommo:{key}" in (info.value.details() or "")
    assert emulator.backend.requests() == []
