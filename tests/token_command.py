"""A vendor's token command, as the tests run it: prints the token of the account in ``KOMMO_ACCOUNT``.

``python tests/token_command.py STORE [LOG]``: ``STORE`` is a JSON file mapping an account's host to
what to do for it, standing for the vendor's backend (which keeps each account's current token):

- a string: print it (the token alone);
- ``{"accessToken": ..., "expiresAt": ...}``: print that JSON;
- ``{"exit": N}``: print a token-like text to stdout and to stderr, then exit with status N;
- ``{"sleep": S}``: sleep S seconds first, then do what ``"then"`` says;
- ``{"print": TEXT}``: print TEXT as it is (nothing, a megabyte, a token with a space in it);
- a list: the first run for the account does what its first item says, the next its second, and so on
  (the last item from then on): a token that rotates between two asks.

Every run appends the account to ``LOG``, so a test counts how often the plugin asked.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

LEAKED = "leaked-output-of-the-command"
"""What a failing command prints: no message may show it."""


def act(entry: Any) -> int:
    if isinstance(entry, str):
        print(entry)
        return 0
    if not isinstance(entry, dict):
        return 9
    if "sleep" in entry:
        time.sleep(float(entry["sleep"]))
        return act(entry.get("then", ""))
    if "exit" in entry:
        print(LEAKED)
        print(LEAKED, file=sys.stderr)
        return int(entry["exit"])
    if "print" in entry:
        sys.stdout.write(str(entry["print"]))
        return 0
    print(json.dumps(entry))
    return 0


def main(argv: list[str]) -> int:
    account = os.environ.get("KOMMO_ACCOUNT", "")
    runs = 0
    if len(argv) > 1:
        log = Path(argv[1])
        runs = log.read_text(encoding="utf-8").split().count(account) if log.exists() else 0
        with log.open("a", encoding="utf-8") as out:
            out.write(account + "\n")
    store = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    if account not in store:
        print(f"no token for {account}", file=sys.stderr)
        return 4
    entry = store[account]
    if isinstance(entry, list):
        entry = entry[min(runs, len(entry) - 1)]
    return act(entry)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
