"""Flame graphs as SVG from folded stacks: one per run, and a differential one (N workers against 1).

A small writer of its own: no maintained package renders folded stacks offline from the Python
package index or Debian (Brendan Gregg's flamegraph.pl is Perl and not packaged there; the
Python ones found render cProfile or their own sampler's data). The layout is the usual one:
the root at the bottom, a frame as wide as its CPU, children left to right by name, a tooltip
(``<title>``) per frame with its CPU. Colours say the category of the frame's own symbol
(:mod:`harness.profile.categories`), with a legend; in the differential graph the widths are the
N-worker run's and the colour says how much CPU the frame itself (not its callees) gained (red) or
lost (blue) against the sequential run. Stdlib only.
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass, field

from harness.profile import categories
from harness.profile.stacks import Frame

WIDTH = 1200  # px
ROW = 16  # px per stack level
PAD = 10
HEADER = 72  # title, subtitle and two rows of legend
MIN_PX = 0.3  # narrower frames are not drawn (their CPU still counts in their parents)
CHAR_PX = 6.6  # average glyph width at 11 px
COLOURS = {  # category -> fill
    "eval": "#f2d07a", "refcount": "#e8613c", "locks": "#a36fd6", "alloc": "#4fb3a9", "gc": "#9c6b3c",
    "objects": "#6c9be0", "ipc": "#e87fb6", "kernel": "#f0a040", "idle": "#d8d8d8", "other": "#c0c0c0",
    "python": "#8fcf6f",
}


@dataclass
class Node:
    """One frame of the merged call tree: its own name, total CPU (ns) and children by name."""

    name: str
    value: int = 0
    children: dict[str, Node] = field(default_factory=dict)

    def child(self, name: str) -> Node:
        """The child named ``name``, made on first use."""
        node = self.children.get(name)
        if node is None:
            node = self.children[name] = Node(name)
        return node

    def depth(self) -> int:
        """Levels below and including this node."""
        return 1 + max((c.depth() for c in self.children.values()), default=0)


def tree(folded: Counter) -> Node:
    """The call tree of folded stacks (``root;...;leaf`` -> ns)."""
    root = Node("all")
    for stack, weight in folded.items():
        root.value += weight
        node = root
        for name in stack.split(";"):
            node = node.child(name)
            node.value += weight
    return root


def frame_category(label: str) -> str:
    """The colour key of a folded frame label: python, or the category its symbol names (else other)."""
    if label.startswith("py::"):
        return "python"
    kernel = label.endswith("_[k]")
    frame = Frame(label[:-4] if kernel else label, "[kernel.kallsyms]" if kernel else "")
    if kernel:
        named, cat = categories.symbol_category(frame)
        return "idle" if cat == "idle" else "kernel"
    named, cat = categories.symbol_category(frame)
    return cat if named and cat else "other"


def _short(label: str) -> str:
    """py::QUALNAME:/long/path/file.py -> py::QUALNAME:file.py (the tooltip keeps the whole label)."""
    if label.startswith("py::") and "/" in label:
        head, _, path = label.partition(":/")
        return f"{head}:{path.rsplit('/', 1)[-1]}"
    return label


def _diff_colour(delta: int, scale: int) -> str:
    if scale <= 0 or delta == 0:
        return "#e0e0e0"
    x = min(1.0, abs(delta) / scale)
    fade = int(224 - 160 * x)
    return f"rgb(230,{fade},{fade})" if delta > 0 else f"rgb({fade},{fade},230)"


def _self_values(node: Node, prefix: tuple = ()) -> dict[tuple, int]:
    """path -> CPU of the frame itself (its value less its children's): where the CPU is spent."""
    out = {prefix: node.value - sum(c.value for c in node.children.values())}
    for child in node.children.values():
        out.update(_self_values(child, (*prefix, child.name)))
    return out


def render(folded: Counter, title: str, subtitle: str = "", baseline: Counter | None = None) -> str:
    """The SVG text of a flame graph; with ``baseline``, the differential one (colour = CPU gained or lost)."""
    root = tree(folded)
    # differential: a frame's colour is the change of its own CPU (not its children's), scaled to the largest
    before = _self_values(tree(baseline)) if baseline is not None else None
    after = _self_values(root) if before is not None else None
    scale = max((abs(after.get(k, 0) - before.get(k, 0)) for k in {*after, *before}), default=0) if after else 0
    levels = root.depth()
    height = HEADER + levels * ROW + 2 * PAD
    unit = (WIDTH - 2 * PAD) / root.value if root.value else 0.0
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
             f'viewBox="0 0 {WIDTH} {height}" font-family="monospace" font-size="11">',
             f'<rect width="{WIDTH}" height="{height}" fill="#fdfdf8"/>',
             f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-size="15">{html.escape(title)}</text>',
             f'<text x="{WIDTH / 2}" y="36" text-anchor="middle">{html.escape(subtitle)}</text>',
             _legend(before is not None)]

    def draw(node: Node, x: float, level: int, path: tuple) -> None:
        width = node.value * unit
        if width < MIN_PX:
            return
        y = height - PAD - (level + 1) * ROW
        share = node.value / root.value if root.value else 0.0
        tip = f"{node.name}: {node.value / 1e6:.1f} ms CPU ({share:.1%})"
        if before is not None:
            delta = after[path] - before.get(path, 0)
            fill = _diff_colour(delta, scale)
            tip += f", its own CPU {delta / 1e6:+.1f} ms against the baseline"
        else:
            fill = COLOURS[frame_category(node.name)] if path else "#e0e0e0"
        parts.append(f'<g><title>{html.escape(tip)}</title><rect x="{x:.2f}" y="{y}" width="{width:.2f}" '
                     f'height="{ROW - 1}" fill="{fill}" rx="2"/>')
        chars = int((width - 4) / CHAR_PX)
        if chars >= 3:
            label = _short(node.name)
            label = label if len(label) <= chars else label[: chars - 2] + ".."
            parts.append(f'<text x="{x + 2:.2f}" y="{y + ROW - 4}">{html.escape(label)}</text>')
        parts.append("</g>")
        for name in sorted(node.children):
            child = node.children[name]
            draw(child, x, level + 1, (*path, name))
            x += child.value * unit

    draw(root, PAD, 0, ())
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _legend(differential: bool) -> str:
    if differential:
        return (f'<text x="{PAD}" y="50">width: CPU of the N-worker run; '
                '<tspan fill="rgb(230,64,64)">red: CPU of the frame itself gained</tspan>, '
                '<tspan fill="rgb(64,64,230)">blue: lost</tspan> against the sequential run</text>')
    items, x, y = [], PAD, 41
    for key in (*categories.CATEGORIES, "python"):
        label = categories.LABELS.get(key, "Python function")
        width = 24 + int(len(label) * (CHAR_PX + 0.6))
        if x + width > WIDTH - PAD:  # next row
            x, y = PAD, y + 15
        items.append(f'<rect x="{x}" y="{y}" width="10" height="10" fill="{COLOURS[key]}"/>'
                     f'<text x="{x + 13}" y="{y + 9}">{html.escape(label)}</text>')
        x += width
    return "".join(items)
