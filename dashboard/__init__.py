"""sitesim dashboard: see DESIGN.md. ``write_report`` writes the budget-review report (HTML
or Excel); the app is ``dashboard.app.create_app``, imported where it is served."""

from __future__ import annotations

from typing import Any

__all__ = ["write_report"]


def __getattr__(name: str) -> Any:  # lazily: matplotlib and openpyxl load with the report
    if name == "write_report":
        from dashboard.report import write_report

        return write_report
    raise AttributeError(name)
