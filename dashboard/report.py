"""``sitesim report``: the budget-review report of runs as a self-contained HTML page or
an Excel workbook, written whole or not at all (a temporary file renamed into place)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from dashboard.report_data import collect
from geo.errors import InputError
from scenarios.store import DEFAULT_KPIS

__all__ = ["FORMATS", "write_report"]

FORMATS = {"html": ".html", "xlsx": ".xlsx"}


def write_report(runs: Sequence[str], out: str | Path, *, runs_dir: str | Path = "runs",
                 baseline: str | None = None, fmt: str | None = None,
                 kpis: Sequence[str] = DEFAULT_KPIS, colour_by: str = "score") -> Path:
    """Write the report of ``runs`` (ids, folders or scenario names) to ``out`` as
    ``fmt`` (html or xlsx; default: from the file's suffix, else html)."""
    from dashboard.map_layers import COLOUR_BY

    target = Path(out)
    chosen = fmt or {".xlsx": "xlsx"}.get(target.suffix.lower(), "html")
    if chosen not in FORMATS:
        raise InputError(f"--format {chosen}: expected html or xlsx")
    if target.suffix.lower() in FORMATS.values() and target.suffix.lower() != FORMATS[chosen]:
        raise InputError(f"--out {target}: a {target.suffix} file for --format {chosen}; "
                         f"name it {target.with_suffix(FORMATS[chosen]).name}")
    if colour_by not in COLOUR_BY:
        raise InputError(f"--colour-by {colour_by!r}: expected one of "
                         f"{', '.join(COLOUR_BY)}")
    if not target.parent.is_dir():
        raise InputError(f"--out {target}: no folder {target.parent}; create it first")
    report = collect(runs, runs_dir=runs_dir, baseline=baseline, kpis=kpis)
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    try:
        if chosen == "html":
            from dashboard.report_html import render_html

            Path(temp).write_text(render_html(report, runs_dir, colour_by), encoding="utf-8")
        else:
            from dashboard.report_xlsx import write_xlsx

            write_xlsx(report, Path(temp))
        os.replace(temp, target)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    return target
