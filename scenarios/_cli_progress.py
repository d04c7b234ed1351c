"""The progress lines the commands print while they work (dim, on stderr)."""

from __future__ import annotations

from scenarios._console import err


def _progress(message: str) -> None:
    err.print(f"[dim]... {message}[/dim]")
