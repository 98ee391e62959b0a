"""How variants and strategies are named and ordered in every table and figure (no pandas).

Variants come from the registry (harness.variants), by role; a variant name of a version not in
the registry (an older result file) is read by its shape. Strategies are ordered sequential first,
the known ones as below, any new one after them.
"""

from __future__ import annotations

from harness import variants as reg

# Strategies in reading order; one the data brings that is not listed goes after these.
STRATEGY_ORDER = ("sequential", "threads", "asyncio", "asyncio_threads", "processes",
                  "interpreters")


def role(variant: str) -> str | None:
    """baseline, free-threaded or control (harness.variants), by the variant's name shape."""
    known = reg.registry()
    return known[variant].role if variant in known else reg.role_of(variant)


def baseline_variant(variant: str, names) -> str | None:
    """The baseline of ``variant`` among ``names``: the default build of the same version."""
    minor = reg.order_key(variant)[0]
    return next((n for n in names if role(n) == "baseline" and reg.order_key(n)[0] == minor),
                None)


def variant_order(names) -> list[str]:
    """Distinct variant names in registry order (baseline, free-threaded, control; versions ascending)."""
    return sorted(dict.fromkeys(names), key=reg.order_key)


def strategies(names) -> list[str]:
    """The strategies present, sequential first, the known ones in STRATEGY_ORDER, others after."""
    names = list(dict.fromkeys(names))
    return sorted(names, key=lambda s: (STRATEGY_ORDER.index(s) if s in STRATEGY_ORDER
                                        else len(STRATEGY_ORDER), s))


def sort_rows(df, by=("host", "workload", "variant", "strategy", "workers")):
    """``df`` sorted for reading: variants in registry order, strategies as :func:`strategies`.

    Columns of ``by`` that ``df`` lacks are skipped; the sort is stable and the index is reset.
    """
    present = list(df["strategy"].dropna()) if "strategy" in df.columns else []
    sorder = {s: i for i, s in enumerate(strategies(present))}
    keys = {
        "variant": lambda s: s.map(reg.order_key),
        "strategy": lambda s: s.map(lambda v: sorder.get(v, len(sorder))),
    }
    by = [b for b in by if b in df.columns]
    return df.sort_values(by, key=lambda s: keys[s.name](s) if s.name in keys else s,
                          kind="stable").reset_index(drop=True)
