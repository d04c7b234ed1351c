"""The one place mesa is imported.

``import mesa`` runs ``multiprocessing.set_start_method("spawn", force=True)`` (in
mesa/batchrunner.py), a process-wide change. sitesim restores whatever the process had,
so that importing the simulation changes nothing for the caller.
"""

from __future__ import annotations

import multiprocessing

_before = multiprocessing.get_start_method(allow_none=True)
import mesa  # noqa: E402

multiprocessing.set_start_method(_before, force=True)

__all__ = ["mesa"]
