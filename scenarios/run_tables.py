"""A run's weekly table (``timeseries.parquet``), written arm by arm in slices.

The table is the campaign arm's weekly counts then the counterfactual arm's, each row
with its ``arm`` and the week's ``spend`` in its community (a ninth per segment row; none
in the counterfactual arm). On a city of 500 communities with 20 replications it holds
9.4 million rows: it is written a slice at a time, never joined in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from scenarios import plans
from simulation import ScheduledEvent

__all__ = ["weekly_spend", "write_timeseries"]

#: rows converted and written at a time (a parquet row group each)
SLICE_ROWS = 1_000_000


def weekly_spend(campaigns: Sequence[object], events: Sequence[ScheduledEvent], weeks: int,
                 prep: plans.Prepared) -> pd.DataFrame:
    """Spend per week (rows, 1..weeks) and community (columns): campaigns split by adults
    within a campaign; an event's cost to the community nearest its venue."""
    adults = prep.area.adults.astype(float)
    every = adults.index
    total = np.zeros((weeks, len(every)))
    for c in campaigns:
        members = every if not c.communities else pd.Index(c.communities)  # type: ignore[attr-defined]
        w = adults.reindex(members).fillna(0.0)
        if w.sum() <= 0:
            continue
        cols = every.get_indexer(members)
        first, last = c.weeks  # type: ignore[attr-defined]
        per_week = c.spend / (last - first + 1)  # type: ignore[attr-defined]
        total[first - 1:last, cols] += per_week * (w / w.sum()).to_numpy()[None, :]
    if events:
        home = prep.venue_minutes.reindex(index=every).idxmin(axis=0)
        for e in events:
            total[e.week - 1, every.get_loc(home[e.venue_id])] += e.cost
    return pd.DataFrame(total, index=pd.RangeIndex(1, weeks + 1, name="week"),
                        columns=every)


def write_timeseries(campaign: pd.DataFrame, counterfactual: pd.DataFrame,
                     spend: pd.DataFrame, path: Path) -> None:
    """Both arms' weekly tables with ``arm`` and ``spend`` columns, to Parquet at ``path``."""
    grid = spend.to_numpy()
    writer: pq.ParquetWriter | None = None
    try:
        for arm, table in (("campaign", campaign), ("counterfactual", counterfactual)):
            for start in range(0, len(table), SLICE_ROWS):
                part = table.iloc[start:start + SLICE_ROWS]
                if arm == "campaign":
                    week = spend.index.get_indexer(pd.Index(part["week"]))
                    col = spend.columns.get_indexer(pd.Index(part["community_id"]))
                    known = (week >= 0) & (col >= 0)
                    values = np.where(known, grid[np.maximum(week, 0), np.maximum(col, 0)],
                                      0.0) / 9  # per segment row: a ninth each
                else:
                    values = np.zeros(len(part))
                frame = part.assign(arm=arm, spend=values)
                arrow = pa.Table.from_pandas(frame, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(path, arrow.schema)
                writer.write_table(arrow.cast(writer.schema))
    finally:
        if writer is not None:
            writer.close()
    if writer is None:  # no weeks simulated: the empty table, with its columns
        campaign.assign(arm=pd.Series(dtype=str), spend=pd.Series(dtype=float)).to_parquet(
            path, index=False)
