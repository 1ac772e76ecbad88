"""``python -m kommo_provider``: the ``kommo-chat`` command line."""

from .cli import main

raise SystemExit(main())
