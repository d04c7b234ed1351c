"""The budget-review report as an Excel workbook (openpyxl): a sheet per table, the
``KPIs`` sheet holding exactly the rows and columns of ``sitesim compare --format json``
(a NaN as an empty cell; a payback that never comes, infinite, as the text ``never``)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from dashboard.report_data import Report

__all__ = ["write_xlsx"]


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "never" if value > 0 else "-inf"
    if hasattr(value, "item"):  # numpy scalars
        return _cell(value.item())
    return value


def _sheet(book: Workbook, title: str, frame: pd.DataFrame) -> None:
    sheet = book.create_sheet(title[:31])
    sheet.append([str(c) for c in frame.columns])
    for row in frame.itertuples(index=False):
        sheet.append([_cell(v) for v in row])
    sheet.freeze_panes = "A2"
    for i, column in enumerate(frame.columns, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = min(
            60, max(10, len(str(column)) + 2))


def _per_run(report: Report, part: str) -> pd.DataFrame:
    frames = [getattr(r, part).assign(run_id=r.run_id) for r in report.runs
              if not getattr(r, part).empty]
    if not frames:
        return pd.DataFrame(columns=["run_id"])
    frame = pd.concat(frames, ignore_index=True)
    return frame[["run_id", *[c for c in frame.columns if c != "run_id"]]]


def write_xlsx(report: Report, path: Path) -> None:
    """Write the workbook to ``path``."""
    book = Workbook()
    about = book.active
    about.title = "Runs"
    about.append(["run_id", "scenario", "question", "currency", "baseline"])
    for r in report.runs:
        about.append([r.run_id, r.name, r.question, r.currency, report.baseline])
    about.append([])
    about.append(["uncertainty", report.uncertainty])
    _sheet(book, "KPIs", report.kpis)
    _sheet(book, "Targets", report.targets)
    money = pd.DataFrame([{"run_id": r.run_id, **r.money} for r in report.runs])
    _sheet(book, "Money", money)
    _sheet(book, "Plan checks", report.checks)
    for title, part in (("Outlets", "outlets"), ("Events", "events"), ("Staff", "staff"),
                        ("Budget", "budget"), ("Channels", "channels"),
                        ("Uplift by segment", "segments"),
                        ("Uplift by community", "communities"),
                        ("Assumptions", "assumptions")):
        _sheet(book, title, _per_run(report, part))
    warnings = pd.DataFrame([{"run_id": r.run_id, "warning": w} for r in report.runs
                             for w in r.warnings], columns=["run_id", "warning"])
    _sheet(book, "Warnings", warnings)
    book.save(path)
