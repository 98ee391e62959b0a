"""Analysing: runs in the analysis venv (pandas, matplotlib). The notebook needs only this package.

The implementation lives in private-by-convention modules (tables, stats, claims, report, plots);
their public names are re-exported here.
"""

from harness.analysis.tables import *  # noqa: F403
from harness.analysis.tables import __all__  # noqa: F401
