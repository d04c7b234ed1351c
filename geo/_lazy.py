"""Names of a package loaded on first use (PEP 562), for geo, optimizer and simulation:
importing one light part (the errors, the assumptions, the parameters) does not import
every heavy library the package uses."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(package: str, where: Mapping[str, str], namespace: dict[str, Any]
               ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` of ``package``: ``where`` maps each
    public name to the module it lives in; a name is imported once, then kept in
    ``namespace`` (the package's ``globals()``) so later lookups do not come back here."""

    def getattr_(name: str) -> Any:
        if name in where:
            value = getattr(importlib.import_module(where[name]), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def dir_() -> list[str]:
        return sorted(namespace["__all__"])

    return getattr_, dir_
