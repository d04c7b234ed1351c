"""The vectorized mechanisms every resident shares, one function per mechanism.

The week is split into ``substeps`` (daily by default): a hazard h per week becomes the
probability 1 - exp(-h / substeps) per substep, and word of mouth sees adoptions of the
same week as they happen. With weekly steps a Bass process runs ahead of the
continuous-time curve by up to 10 percentage points (p = 0.01, q = 0.3); with daily
substeps the gap is under 2 (docs/simulation.md).

Random numbers: each week every resident, whatever its state, draws one standard
exponential "clock" E; each substep takes h / substeps off it, and the resident adopts in
the substep where the clock runs out. For a hazard that is constant within each substep
this is exactly the event time of the process (the cumulative hazard of an event time is
Exp(1)), so it has the same law as drawing every substep, with one draw a week instead of
one a substep. Two runs with the same seed (a campaign and its counterfactual) give the
same resident the same clock every week: common random numbers.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix

__all__ = ["TieShares", "adopted_share_of_ties", "adoption_substep", "bass_curve"]


def adopted_share_of_ties(adopted: np.ndarray, ties: csr_matrix | None) -> np.ndarray:
    """Each resident's share of ties who have adopted (``ties`` None: everyone else)."""
    x = adopted.astype(np.float64)
    if ties is None:
        n = x.size
        return (x.sum() - x) / max(n - 1, 1)
    return np.asarray(ties @ x).ravel()


class TieShares:
    """Each resident's adopted share of ties, kept up to date as residents adopt or leave.

    Only the ties of residents who change alter anyone's share, so an update costs their
    ties (a column of the row-normalized matrix each), not a pass over all residents.
    With ``ties`` None (a complete network) the share is recomputed from the total.
    """

    def __init__(self, ties: csr_matrix | None, adopted: np.ndarray) -> None:
        self._n = adopted.size
        self._csc = ties.tocsc() if ties is not None else None
        self._total = float(adopted.sum())
        self._values = adopted_share_of_ties(adopted, ties).astype(np.float32)
        self._self = adopted.astype(np.float64) if ties is None else None

    @property
    def values(self) -> np.ndarray:
        """The current shares (do not modify)."""
        if self._csc is None:
            assert self._self is not None
            return (self._total - self._self) / max(self._n - 1, 1)
        return self._values

    def change(self, residents: np.ndarray, sign: float) -> None:
        """Residents (indices) who adopted (sign +1) or stopped being adopters (-1)."""
        if residents.size == 0:
            return
        if self._csc is None:
            assert self._self is not None
            self._total += sign * residents.size
            self._self[residents] += sign
            return
        m = self._csc
        starts, ends = m.indptr[residents], m.indptr[residents + 1]
        counts = ends - starts
        take = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts) + (
            np.arange(int(counts.sum())))
        np.add.at(self._values, m.indices[take], (sign * m.data[take]).astype(np.float32))


def adoption_substep(adopted: np.ndarray, media_hazard: np.ndarray | float,
                     q: np.ndarray | float,
                     ties: csr_matrix | TieShares | None, clock: np.ndarray,
                     substeps: int) -> np.ndarray:
    """Who adopts in one substep: hazard per week = media + q x adopted share of ties.

    Parameters
    ----------
    adopted
        Boolean state before the substep.
    media_hazard
        Per-resident (or common) hazard per week from campaigns and mass media.
    q
        Word-of-mouth strength per week (common, or per resident).
    ties
        The ties (row-normalized), or a :class:`TieShares` kept up to date by the caller.
    clock
        Each resident's remaining exponential clock for the week (drawn as standard
        exponential variates at the start of the week); reduced in place. The clock of
        a resident who has adopted is set to infinity, so it never runs out again.

    Returns
    -------
    numpy.ndarray
        Boolean: residents who adopt in this substep.
    """
    share = ties.values if isinstance(ties, TieShares) else adopted_share_of_ties(adopted,
                                                                                  ties)
    clock[adopted] = np.inf
    rate = np.multiply(q, share, dtype=np.float32)  # in place from here: this runs a lot
    rate += media_hazard
    rate *= np.float32(1.0 / substeps)
    clock -= rate
    new = clock <= 0
    clock[new] = np.inf
    return new


def bass_curve(weeks: np.ndarray | int, *, p: float, q: float) -> np.ndarray:
    """The closed-form Bass (1969) cumulative adoption share F(t) at the given weeks:
    F(t) = (1 - exp(-(p + q) t)) / (1 + (q / p) exp(-(p + q) t))."""
    if isinstance(weeks, int | np.integer):
        t = np.arange(int(weeks) + 1, dtype=np.float64)
    else:
        t = np.asarray(weeks, dtype=np.float64)
    decay = np.exp(-(p + q) * t)
    return (1 - decay) / (1 + (q / p) * decay)
