"""``python -m client_demo``: see :mod:`client_demo.cli`."""

from client_demo.cli import main

raise SystemExit(main())
