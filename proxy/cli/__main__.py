"""``python -m proxy.cli ...``: the same as the ``bedside`` console script."""

import sys

from proxy.cli import main

sys.exit(main())
