"""HiGHS prints a two-line banner on the process's stdout the first time a ``Highs`` object
is made, whatever its options; a command that prints tables or JSON there must not carry
it. :func:`quiet_highs` makes that first object with stdout sent to /dev/null."""

from __future__ import annotations

import ctypes
import os
import sys

__all__ = ["quiet_highs"]

_done = False


def quiet_highs() -> None:
    """Make (and drop) the process's first ``highspy.Highs`` with file descriptor 1 on
    /dev/null, so that its banner never reaches stdout; later ones print nothing."""
    global _done
    if _done:
        return
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        highspy.Highs()
        ctypes.CDLL(None).fflush(None)  # the banner may sit in C's stdout buffer
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
    _done = True
