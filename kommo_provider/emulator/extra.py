"""The ``emulator`` extra: what it installs, how its absence is told, and exports that import on first use.

A bare ``pip install kommo-provider`` has no werkzeug, and must still run every ``kommo-chat`` command but
``emulator``. Only the modules that serve HTTP need werkzeug (``http`` and what answers through it); the
demo identities, the fault kinds, the REST objects and tokens do not. So the emulator's packages export
their names lazily (PEP 562): ``import kommo_provider.emulator.demo`` loads no server,
and a name whose module needs werkzeug says, when it is used without it, which extra to install.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

EXTRA_DEPENDENCIES: Final = ("werkzeug",)
"""The top-level modules the extra installs (pyproject.toml, ``[project.optional-dependencies] emulator``)."""

INSTALL_EXTRA: Final = "pip install 'kommo-provider[emulator]'"
"""The one command that installs them."""


def missing_extra(exc: ImportError) -> bool:
    """Whether ``exc`` says that a module of the emulator extra is not installed (and nothing else)."""
    return isinstance(exc, ModuleNotFoundError) and (exc.name or "").partition(".")[0] in EXTRA_DEPENDENCIES


def lazy_exports(package: str, exports: Mapping[str, Sequence[str]]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports each exported name from its module on first use.

    ``exports`` maps a module relative to ``package`` (``.demo``) to the names it exports. A name whose
    module needs the extra raises ``ModuleNotFoundError`` naming the install command when it is missing.
    """
    where = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        try:
            value = getattr(importlib.import_module(module, package), name)
        except ImportError as exc:
            if not missing_extra(exc):
                raise
            missing = (exc.name or "").partition(".")[0]
            raise ModuleNotFoundError(
                f"{package}.{name} needs {missing}, which the emulator extra installs: {INSTALL_EXTRA}",
                name=missing,
            ) from exc
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
