"""The provider plugin processes a run starts, and their resident memory, sampled from /proc (Linux).

A thread lists, every ~100 ms, the processes under this one (the ``pulumi`` CLI the Automation API
starts, and what the engine starts in turn) and reads the VmRSS of each plugin process and of what a
plugin process starts (a ``tokenCommand``). Only descendants count, so a plugin some other program on
the machine runs is never mistaken for one of this run. A process that lives less than a sample apart
may be missed: the counts are of processes seen, and the peaks are of the samples taken.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Final

PROC: Final = Path("/proc")
INTERVAL_SECONDS: Final = 0.1

Key = tuple[int, int]
"""A process: its pid and its start time (clock ticks after boot), so a reused pid is another key."""


@dataclass(frozen=True)
class Usage:
    """What the plugin processes of one run were: how many, and their peak resident memory."""

    plugins: int
    """Plugin processes seen."""
    children: int
    """Processes the plugins started (token commands), seen."""
    peak_sum_kib: int
    """The largest sum of every tracked process's VmRSS in one sample."""
    peak_one_kib: int
    """The largest VmRSS of one tracked process."""
    samples: int


def plugin_named(*names: str, module: str | None = None) -> Callable[[list[str]], bool]:
    """A process is a plugin when its program (or the script its interpreter runs) is one of ``names``
    (``pulumi-resource-kommo``), or when it runs ``python -m <module>``."""
    wanted = set(names)

    def matches(argv: list[str]) -> bool:
        if any(Path(arg).name in wanted for arg in argv[:2]):
            return True
        return module is not None and argv[1:3] == ["-m", module]

    return matches


@dataclass
class _Seen:
    kind: str  # "plugin", "child" or "other"
    peak_kib: int = 0


@dataclass
class PluginWatch:
    """Samples the plugin processes under ``root`` while it is entered (a context manager)."""

    is_plugin: Callable[[list[str]], bool]
    root: int = field(default_factory=os.getpid)
    interval: float = INTERVAL_SECONDS
    _seen: dict[Key, _Seen] = field(default_factory=dict)
    _parents: dict[int, tuple[int, int]] = field(default_factory=dict)
    _peak_sum: int = 0
    _samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> PluginWatch:
        self._thread = threading.Thread(target=self._run, name="plugin-watch", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def usage(self) -> Usage:
        kinds = [seen.kind for seen in self._seen.values()]
        tracked = [seen.peak_kib for seen in self._seen.values() if seen.kind != "other"]
        return Usage(
            plugins=kinds.count("plugin"),
            children=kinds.count("child"),
            peak_sum_kib=self._peak_sum,
            peak_one_kib=max(tracked, default=0),
            samples=self._samples,
        )

    def _run(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(self.interval):
                self.sample()  # the last look, after the run
                return

    def sample(self) -> None:
        """One look at every process under ``root``: classify the new ones, add up the plugins' RSS."""
        total = 0
        for key in self._descendants():
            seen = self._seen.setdefault(key, _Seen("other"))
            if seen.kind == "other":  # looked at again: a process is seen between its fork and its exec
                seen.kind = self._classify(key)
            if seen.kind == "other":
                continue
            rss = _rss_kib(key[0])
            seen.peak_kib = max(seen.peak_kib, rss)
            total += rss
        self._peak_sum = max(self._peak_sum, total)
        self._samples += 1

    def _classify(self, key: Key) -> str:
        parent = self._parent_key(key[0])
        if parent is not None and parent in self._seen and self._seen[parent].kind != "other":
            return "child"
        return "plugin" if self.is_plugin(_argv(key[0])) else "other"

    def _parent_key(self, pid: int) -> Key | None:
        ppid = self._parents.get(pid, (0, 0))[0]
        start = self._parents.get(ppid, (0, 0))[1]
        return (ppid, start) if ppid in self._parents else None

    def _descendants(self) -> Iterator[Key]:
        """Every process under ``root``, parents before their children; refreshes ``_parents``."""
        listed: dict[int, tuple[int, int]] = {}
        for entry in os.scandir(PROC):
            if entry.name.isdigit():
                pid = int(entry.name)
                stat = self._parents.get(pid) or _stat(pid)
                if stat is not None:
                    listed[pid] = stat
        self._parents = listed
        children: dict[int, list[int]] = {}
        for pid, (ppid, _) in listed.items():
            children.setdefault(ppid, []).append(pid)
        queue = list(children.get(self.root, []))
        while queue:
            pid = queue.pop(0)
            yield pid, listed[pid][1]
            queue.extend(children.get(pid, []))


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, start time) from /proc/<pid>/stat; None when the process has gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the name, in parentheses, may hold spaces
    return int(fields[1]), int(fields[19])


def _argv(pid: int) -> list[str]:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _rss_kib(pid: int) -> int:
    """VmRSS of a process in KiB; 0 when it has gone (or is a zombie, which has none)."""
    try:
        with open(PROC / str(pid) / "status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0
