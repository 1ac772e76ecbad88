"""State written by an earlier version of this project, under the current code and the real CLI.

``BotSettingsFile`` (the example stack's downstream resource) used to ship inside the package as
``kommo_provider.bot_settings``; it now lives beside the example as ``bot_settings.py``. Dynamic
resources keep their provider pickled by reference in state, so state written before the move names a
module that no longer exists, and the provider process cannot delete or read those resources until
``LocalStack.repoint_moved_provider`` (which scripts/demo.py runs) updates the reference.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from pulumi import automation as auto

import bot_settings
import kommo_provider
from stack_runner import PROJECT_DIR, LocalStack

pytestmark = pytest.mark.e2e

PASSPHRASE = "upgrade-e2e-passphrase"


@pytest.fixture
def former_module(tmp_path: Path) -> Iterator[tuple[ModuleType, Path]]:
    """``bot_settings.py`` as ``kommo_provider.bot_settings`` again: loaded in this process, and in a copy
    of the package (a folder for the provider process's PYTHONPATH), as the earlier version shipped it."""
    old = tmp_path / "old-package"
    shutil.copytree(PROJECT_DIR / "kommo_provider", old / "kommo_provider",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    shutil.copy2(PROJECT_DIR / "bot_settings.py", old / "kommo_provider" / "bot_settings.py")
    spec = importlib.util.spec_from_file_location(bot_settings.FORMER_MODULE, PROJECT_DIR / "bot_settings.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[bot_settings.FORMER_MODULE] = module
    kommo_provider.bot_settings = module  # as importing a submodule does
    try:
        spec.loader.exec_module(module)
        yield module, old
    finally:
        del sys.modules[bot_settings.FORMER_MODULE]
        del kommo_provider.bot_settings


@pytest.mark.usefixtures("pulumi_cli")
def test_state_naming_the_former_module_is_repointed_and_destroys(
    tmp_path: Path, former_module: tuple[ModuleType, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    module, old_package = former_module
    settings_file = tmp_path / "bot.json"

    def program(resource: type[bot_settings.BotSettingsFile]) -> Callable[[], None]:
        def run() -> None:
            resource("bot-settings", path=str(settings_file), settings={"accounts": {}})

        return run

    def stack(resource: type[bot_settings.BotSettingsFile], env: dict[str, str] | None = None) -> LocalStack:
        return LocalStack("upgrade", program(resource), state_dir=tmp_path / "state", passphrase=PASSPHRASE,
                          work_dir=tmp_path / "work", env=env)  # fmt: skip

    (tmp_path / "work").mkdir()
    with monkeypatch.context() as patch:
        # The provider process starts in this process's folder (the checkout, whose kommo_provider would
        # shadow the copy), with the copy of the package first on its path.
        patch.chdir(tmp_path)
        stack(module.BotSettingsFile, {"PYTHONPATH": str(old_package)}).stack.up()
    assert settings_file.exists()

    current = stack(bot_settings.BotSettingsFile)
    with pytest.raises(auto.CommandError) as info:
        current.stack.destroy()
    assert f"No module named '{bot_settings.FORMER_MODULE}'" in str(info.value)

    moved = (bot_settings.RESOURCE_TYPE, bot_settings.BotSettingsFileProvider(), bot_settings.FORMER_MODULE)
    assert current.repoint_moved_provider(*moved) == 1
    assert current.repoint_moved_provider(*moved) == 0, "nothing left to repoint"
    current.stack.preview(expect_no_changes=True)
    current.stack.destroy()
    assert not settings_file.exists(), "the provider from bot_settings.py deleted the file"
