"""``python -m harness.profile``: see :mod:`harness.profile.cli`."""

import sys

from harness.profile.cli import main

sys.exit(main())
