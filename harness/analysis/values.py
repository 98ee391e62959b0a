"""Reading and formatting the values of the tables, where None, NaN and pd.NA all mean missing.

pandas turns a missing number into NaN, a missing boolean or integer into pd.NA and an all-None text
column into NaN, so every reader of a table cell goes through these instead of testing ``is None``.
"""

from __future__ import annotations

import math

import pandas as pd


def first_present(values):
    """The first value that is not missing (None, NaN, pd.NA), or None."""
    return next((v for v in values if v is not None and v is not pd.NA and v == v), None)


def text_or_none(v) -> str | None:
    """A text cell, or None for an empty one (pandas turns an all-None column into NaN)."""
    return v if isinstance(v, str) and v else None


def number_or_nan(row, col):
    """``row[col]``, NaN when the row lacks it or it is missing, so callers test one way (is_nan)."""
    v = row.get(col) if hasattr(row, "get") else None
    return math.nan if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else v


def is_nan(v) -> bool:
    """True for a float NaN only (not for None or pd.NA, whose truth value is another question)."""
    return isinstance(v, float) and math.isnan(v)


def fmt_ratio(value, low, high) -> str:
    """'2.31x [2.20-2.43]'; '[CI n/a]' without an interval; '-' without a value."""
    if value is None or pd.isna(value):
        return "-"
    ci = " [CI n/a]" if pd.isna(low) or pd.isna(high) else f" [{low:.2f}-{high:.2f}]"
    return f"{value:.2f}x{ci}"


def fmt_pct(x: float) -> str:
    """A share as '83%'; 'n/a' when there is none."""
    return "n/a" if x != x else f"{100 * x:.0f}%"


def fmt_ratio_column(row, col: str) -> str:
    """:func:`fmt_ratio` of a wide table's ``col`` with its ``col_ci_low`` and ``col_ci_high``."""
    return fmt_ratio(number_or_nan(row, col), number_or_nan(row, f"{col}_ci_low"),
                     number_or_nan(row, f"{col}_ci_high"))
