"""Where the project's scripts cache their builds, and the lock that keeps two builds of one tool apart."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from filelock import FileLock

LOCK_TIMEOUT: Final = 1800
"""Seconds to wait for another process's build (a first Go build with empty caches takes minutes)."""


def cache_dir() -> Path:
    """The project's tool cache as the scripts name it: ``${XDG_CACHE_HOME:-~/.cache}/kommo-provider``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kommo-provider"


def locked(lock_file: Path) -> FileLock:
    """An exclusive lock on ``lock_file`` (made with its folder), held across processes: the workers of
    ``pytest -n``, and other checkouts on this machine when the file sits in the shared cache."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(lock_file, timeout=LOCK_TIMEOUT)
