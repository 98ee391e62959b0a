"""``python -m harness.analysis``: the command line of harness.analysis.cli."""

import sys

from harness.analysis.cli import main

sys.exit(main())
