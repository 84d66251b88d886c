"""``python -m server.cli``: the ``parley`` command where its script is not installed."""

import sys

from server.cli import main

sys.exit(main())
