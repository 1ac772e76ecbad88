"""The one rule for loading a secret: from an environment variable or a file, never from an argument.

Process arguments are visible to every user of the machine (``ps``, ``/proc/<pid>/cmdline``) and end
up in shell history, so no command takes a secret as an argument value. A secret comes from its
environment variable or from a file (``-`` = stdin); one trailing newline, as editors and ``echo``
leave it, is dropped; any other surrounding whitespace is refused, because it would be signed with
and the signature would not match. Messages name where the secret came from, never its value.

Each kind of secret is a :class:`SecretSource` (what it is, its variable, how to give a file): the
channel secret, a Kommo access token (``KOMMO_ACCESS_TOKEN``), the token service's key, all loaded the
same way.
Every loaded secret is remembered, so :func:`redact` can scrub it from logs and error messages.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Final

from ..exceptions import SecretError
from .inputs import read_input_bytes

REDACTED: Final = "<redacted>"

log = logging.getLogger(__name__)

_loaded: set[str] = set()
"""Every secret loaded in this process: module-wide, so all output paths can scrub them."""


@dataclass(frozen=True)
class SecretSource:
    """One kind of secret and where a user may put it; the names appear in messages, the value never."""

    what: str
    """What the secret is, for messages: ``channel secret``."""
    env_var: str
    """The environment variable that holds it: ``KOMMO_CHANNEL_SECRET``."""
    file_hint: str
    """How to give it in a file instead, for messages: ``--secret-file PATH ('-' reads stdin)``."""


CHANNEL_SECRET: Final = SecretSource(
    "channel secret", "KOMMO_CHANNEL_SECRET", "--secret-file PATH ('-' reads stdin)"
)
TOKEN_SERVICE_KEY: Final = SecretSource("token service key", "KOMMO_TOKEN_SERVICE_KEY", "--key-file PATH")
"""The key ``kommo-chat token`` shows the vendor's token service, if it wants one."""


def load_secret(source: SecretSource, path: str | None = None) -> str:
    """The secret from the file at ``path`` (``-`` = stdin) if given, else from ``source.env_var``."""
    if path is not None:
        raw = read_input_bytes(path, "secret file")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SecretError(f"the secret file {path!r} is not UTF-8 text") from exc
        secret = text.removesuffix("\n").removesuffix("\r")
        origin = "stdin" if path == "-" else f"secret file {path!r}"
        said_empty = True
    else:
        secret = os.environ.get(source.env_var, "")
        origin = f"${source.env_var}"
        said_empty = source.env_var in os.environ
    if not secret:
        where = f" ({origin} is empty)" if said_empty else ""
        raise SecretError(
            f"no {source.what}{where}: set the {source.env_var} environment variable or pass "
            f"{source.file_hint}; it is never accepted as a command-line argument"
        )
    if secret != secret.strip():
        # Never echo the value: it is the secret.
        raise SecretError(f"the {source.what} from {origin} has leading or trailing whitespace")
    register(secret)
    log.debug("%s read from %s", source.what, origin)
    return secret


def load_referenced_secret(source: SecretSource, reference: str | None) -> str:
    """The secret an option value points at after ``ID:``, as in ``--channel ID:@FILE``.

    ``None`` (no ``:`` given) reads ``source.env_var``; ``@FILE`` reads FILE (``@-`` stdin); anything
    else is refused, unechoed, because it is most likely the secret itself typed on the command line.
    """
    if reference is None:
        return load_secret(source)
    if reference.startswith("@") and len(reference) > 1:
        return load_secret(source, reference[1:])
    raise SecretError(
        f"a {source.what} cannot be given on the command line (process arguments are visible to "
        f"other users); set ${source.env_var} or use {source.file_hint}"
    )


def register(secret: str) -> None:
    """Remember ``secret`` (loaded some other way, e.g. from a JSON file) so :func:`redact` hides it."""
    if secret:
        _loaded.add(secret)


def redact(text: str) -> str:
    """``text`` with every loaded secret replaced by ``<redacted>``."""
    for secret in _loaded:
        text = text.replace(secret, REDACTED)
    return text
