"""``python -m bot`` → the CLI (same as the ``capacity-copilot`` script)."""

from bot.cli import main

raise SystemExit(main())
