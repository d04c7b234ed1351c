"""Outlets that open during a run: the per-community inputs of later weeks.

A rollout opens outlets quarter by quarter. The model's inputs table carries, besides the
outlets of the first week, the outlet columns in force from each later week: the column
``outlet_min@14`` holds each community's minutes to its nearest own outlet from week 14
on (and so on for every column of :data:`OUTLET_COLUMNS`). From that week the model uses
them for access, churn and congestion; everything else about the residents (who they
are, their ties, their random numbers) is the same, so the weeks before an opening are
those of a run without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulation.errors import SimulationError

__all__ = ["OUTLET_COLUMNS", "VAN_COLUMNS", "OutletPhase", "outlet_capacity", "outlet_phases",
           "van_reach", "with_openings"]

#: The per-community inputs an opening changes.
OUTLET_COLUMNS: tuple[str, ...] = ("outlet_min", "outlet", "outlet_capacity",
                                   "competitor_share")


#: A mobile van's reach per community: the minutes to its nearest stop and the share of
#: the week (days / 7) the van is there; on that share of the week a resident's access
#: and the distance part of churn use the stop's minutes when nearer than the outlet's.
VAN_COLUMNS: tuple[str, ...] = ("van_min", "van_share")


@dataclass(frozen=True)
class OutletPhase:
    """The own outlets from ``week`` on (1 is the first simulated week), per community."""

    week: int
    outlet_min: np.ndarray  # float32 minutes to the nearest own outlet
    outlet: pd.Index  # its id
    outlet_capacity: np.ndarray  # its visits a week
    competitor_share: np.ndarray  # the competitors' Huff share


def with_openings(inputs: pd.DataFrame, later: Sequence[tuple[int, pd.DataFrame]]
                  ) -> pd.DataFrame:
    """``inputs`` (the first week's) with the outlet columns of each ``(week, inputs)``
    in ``later``: the inputs with the outlets open from that week (same communities)."""
    out = inputs.copy()
    for week, frame in later:
        if int(week) < 1:
            raise SimulationError(f"an opening at week {week}: weeks start at 1")
        extra = frame.index.difference(inputs.index)
        lacking = inputs.index.difference(frame.index)
        if len(extra) or len(lacking):
            raise SimulationError(f"the inputs from week {week} have other communities than "
                                  f"the first week's: {list(extra[:3])} more, "
                                  f"{list(lacking[:3])} fewer")
        for column in OUTLET_COLUMNS:
            out[f"{column}@{int(week)}"] = frame[column].reindex(inputs.index).to_numpy()
    return out


def outlet_phases(inputs: pd.DataFrame) -> list[OutletPhase]:
    """Every set of outlets of a run in week order: the first week's from the plain
    columns, then one per later week named in the columns (``outlet@14``...)."""
    named = [c for c in inputs.columns if "@" in str(c)
             and str(c).split("@", 1)[0] in OUTLET_COLUMNS]
    bad = [c for c in named if not str(c).split("@", 1)[1].isdigit()]
    if bad:
        raise SimulationError(f"inputs column {bad[0]!r}: a later week's outlet column is "
                              "named column@week, such as outlet_min@14")
    weeks = sorted({int(str(c).split("@", 1)[1]) for c in named})
    phases = [_phase(inputs, 1, "")]
    for week in weeks:
        missing = [c for c in OUTLET_COLUMNS if f"{c}@{week}" not in inputs.columns]
        if missing:
            raise SimulationError(f"the inputs name outlets from week {week} but lack "
                                  f"{[f'{c}@{week}' for c in missing]}; build them with "
                                  "simulation.with_openings")
        phases.append(_phase(inputs, week, f"@{week}"))
    return phases


def _phase(inputs: pd.DataFrame, week: int, suffix: str) -> OutletPhase:
    return OutletPhase(
        week=week,
        outlet_min=inputs[f"outlet_min{suffix}"].to_numpy(dtype=np.float32),
        outlet=pd.Index(inputs[f"outlet{suffix}"]),
        outlet_capacity=inputs[f"outlet_capacity{suffix}"].to_numpy(dtype=np.float64),
        competitor_share=inputs[f"competitor_share{suffix}"].to_numpy(dtype=np.float64))


def outlet_capacity(phases: list[OutletPhase], ids: pd.Index,
                     capacity: pd.Series | None) -> np.ndarray:
    """Visits a week each outlet (of ``ids``, every phase's) takes."""
    if capacity is not None:
        cap = capacity.reindex(ids)
        where = "capacity"
    else:
        given = pd.Series(np.concatenate([ph.outlet_capacity for ph in phases]),
                          index=np.concatenate([ph.outlet.to_numpy() for ph in phases]))
        cap = given.groupby(level=0, sort=False).first().reindex(ids)
        where = "inputs['outlet_capacity']"
    bad = cap.index[~(cap.to_numpy(dtype=np.float64) > 0)]
    if len(bad):
        raise SimulationError(f"{where}: outlet(s) {list(bad[:5])} have no capacity > 0; "
                              "give visits a week for every own outlet")
    return cap.to_numpy(dtype=np.float64)


def van_reach(inputs: pd.DataFrame, community: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray] | None:
    """Each resident's minutes to the van's nearest stop (float32) and the share of the
    week the van is there, from the inputs' ``van_min`` and ``van_share`` (None without
    them)."""
    present = [c for c in VAN_COLUMNS if c in inputs.columns]
    if not present:
        return None
    if len(present) < len(VAN_COLUMNS):
        raise SimulationError(f"the inputs have {present[0]!r} but not "
                              f"{[c for c in VAN_COLUMNS if c not in present]}; give both")
    share = inputs["van_share"].to_numpy(dtype=np.float64)
    minutes = inputs["van_min"].to_numpy(dtype=np.float64)
    if not ((share >= 0) & (share <= 1)).all() or np.isnan(minutes).any() \
            or (minutes < 0).any():
        raise SimulationError("inputs van_share must be shares in [0, 1] and van_min minutes "
                              ">= 0 (inf where no stop is in reach)")
    share = np.where(np.isfinite(minutes), share, 0.0)  # no stop in reach: no van days
    return minutes.astype(np.float32)[community], share[community]
