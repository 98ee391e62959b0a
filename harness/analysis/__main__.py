import sys

from harness.analysis.tables import main

sys.exit(main())
