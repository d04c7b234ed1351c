"""What a run or a cached sweep depends on besides the scenario: sitesim's own code and
the files a scenario names."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

__all__ = ["code_fingerprint", "file_digest"]

#: The packages whose code decides a run's numbers (the dashboard only shows them).
PACKAGES = ("geo", "simulation", "optimizer", "scenarios")


@functools.cache
def code_fingerprint() -> str:
    """A hash of the sources of sitesim's computing packages (every ``.py`` file, by path
    and contents): any change to the code that makes the numbers changes it, so no run
    or cached sweep made by other code is taken for one of this code."""
    import importlib

    h = hashlib.sha256()
    for name in PACKAGES:
        root = Path(importlib.import_module(name).__file__ or "").parent
        for path in sorted(root.rglob("*.py")):
            h.update(f"{name}/{path.relative_to(root).as_posix()}\0".encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def file_digest(path: str | Path) -> str:
    """The sha256 of a file's contents."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
