"""``python -m coverage.cli``: the ``parcours`` command."""

import sys

from coverage.cli import main

sys.exit(main())
