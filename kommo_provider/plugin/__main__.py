"""``pulumi-resource-kommo`` / ``python -m kommo_provider.plugin``: start the plugin for the Pulumi engine.

The engine runs the plugin with its own address as the first argument (plus flags such as
``--logflow`` that this plugin ignores) and reads the port to dial from the first line of stdout.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help"):
        print(
            "usage: pulumi-resource-kommo ENGINE_ADDRESS\n\n"
            "The kommo Pulumi provider plugin; the Pulumi CLI starts it."
        )
        return 0
    if args and args[0] == "--version":
        from .schema import version

        print(version())
        return 0
    from .server import serve  # after argument handling: --help and --version stay instant

    engine = next((a for a in args if not a.startswith("-")), None)
    with contextlib.suppress(KeyboardInterrupt):
        serve(engine)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
