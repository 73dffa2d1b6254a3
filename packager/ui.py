"""Terminal output shared by all commands: progress bars, summary tables, JSON."""

from __future__ import annotations

import json
import re
import sys
from typing import Any, Iterable, Sequence

from tqdm import tqdm

_NUMERIC = re.compile(r"^-?[0-9][0-9.,]*( ?(B|KiB|MiB|GiB|s|%))?$")


def progress(total: int | None, desc: str, unit: str = "B", enabled: bool = True) -> tqdm:
    """A tqdm bar on stderr that disappears when output is not a terminal."""
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        unit_scale=unit == "B",
        unit_divisor=1024 if unit == "B" else 1000,
        disable=not enabled or not sys.stderr.isatty(),
        file=sys.stderr,
        leave=False,
    )


def human_size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain aligned table; numbers right-aligned, text left-aligned."""
    rows = [[str(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]

    def fmt(cells: Sequence[str]) -> str:
        out = []
        for cell, width in zip(cells, widths):
            numeric = bool(_NUMERIC.match(cell))
            out.append(cell.rjust(width) if numeric else cell.ljust(width))
        return "  ".join(out).rstrip()

    lines = [fmt(headers), "  ".join("-" * w for w in widths)]
    lines.extend(fmt(r) for r in rows)
    return "\n".join(lines)


def emit_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
