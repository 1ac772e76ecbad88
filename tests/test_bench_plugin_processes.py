"""bench/plugin_processes.py counts the plugin processes under this one and their memory, and no other."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.plugin_processes import PluginWatch, plugin_named

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")

NAME = "pulumi-resource-benchfake"
HELD_MIB = 40
# A stand-in plugin: holds HELD_MIB of touched memory, starts one short child (as a tokenCommand), exits.
PLUGIN = f"""
import subprocess, sys, time
held = bytearray({HELD_MIB} * 1024 * 1024)
for i in range(0, len(held), 4096):
    held[i] = 1
subprocess.run([sys.executable, "-c", "import time; time.sleep(0.5)"], check=True)
time.sleep(0.3)
"""


def _plugin(tmp_path: Path) -> Path:
    script = tmp_path / NAME
    script.write_text(PLUGIN, encoding="utf-8")
    return script


def test_counts_a_plugin_under_this_process_its_child_and_its_peak_memory(tmp_path: Path) -> None:
    script = _plugin(tmp_path)
    with PluginWatch(plugin_named(NAME), interval=0.05) as watch:
        subprocess.run([sys.executable, str(script)], check=True, timeout=30)
        subprocess.run([sys.executable, "-c", "pass"], check=True)  # under this one, but no plugin
    usage = watch.usage()
    assert (usage.plugins, usage.children) == (1, 1)
    assert usage.peak_one_kib >= HELD_MIB * 1024
    assert usage.peak_sum_kib >= usage.peak_one_kib
    assert usage.samples >= 10


def test_a_plugin_process_not_under_this_one_is_not_counted(tmp_path: Path) -> None:
    script = _plugin(tmp_path)
    pid_file = tmp_path / "pid"
    # Started through a shell that exits at once: the plugin is re-parented away from this process.
    subprocess.run(
        ["sh", "-c", f'"{sys.executable}" "{script}" & echo $! > "{pid_file}"'], check=True, timeout=10
    )
    time.sleep(0.2)
    with PluginWatch(plugin_named(NAME), interval=0.05) as watch:
        time.sleep(0.4)
    usage = watch.usage()
    assert (usage.plugins, usage.children, usage.peak_sum_kib) == (0, 0, 0)
    assert usage.samples >= 4
    assert pid_file.read_text().strip().isdigit()  # it did start, outside the watched tree


def test_a_no_op_plugin_is_known_by_its_module() -> None:
    is_plugin = plugin_named(NAME, module="bench.noop_account_plugin")
    assert is_plugin(["/usr/bin/python3", "-m", "bench.noop_account_plugin", "127.0.0.1:1"])
    assert is_plugin(["/bin/sh", f"/tmp/bin/{NAME}", "127.0.0.1:1"])  # the launcher, before its exec
    assert is_plugin([f"/opt/plugins/{NAME}", "127.0.0.1:1"])  # a standalone executable
    assert not is_plugin(["/usr/bin/python3", "-m", "kommo_provider", "emulator"])
    assert not is_plugin([])
