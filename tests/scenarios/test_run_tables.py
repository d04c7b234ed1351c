"""The run's weekly table written arm by arm in slices: the same rows as both arms
joined in memory and merged with the week's spend (the way it was written before)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scenarios import run_tables
from simulation.replications import _joined


def arm(seed: int, communities: list[str], weeks: int, reps: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [(w, c, s, r) for r in range(reps) for w in range(1, weeks + 1)
            for c in communities for s in ("18-35/low", "56+/high")]
    frame = pd.DataFrame(rows, columns=["week", "community_id", "segment", "replication"])
    frame["new_customers"] = rng.random(len(frame))
    frame["deposits"] = rng.random(len(frame)) * 1e4
    return frame[["week", "community_id", "segment", "new_customers", "deposits",
                  "replication"]]


@pytest.mark.parametrize("slice_rows", [1_000_000, 7])
def test_written_table_equals_the_joined_and_merged_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slice_rows: int) -> None:
    monkeypatch.setattr(run_tables, "SLICE_ROWS", slice_rows)
    communities = ["A", "B", "C"]
    campaign, counterfactual = arm(1, communities, 4, 2), arm(2, communities, 4, 2)
    spend = pd.DataFrame(np.arange(12, dtype=float).reshape(4, 3) * 100.0,
                         index=pd.RangeIndex(1, 5, name="week"), columns=communities)
    spend = spend.drop(columns="C")  # a community without spend gets none
    path = tmp_path / "timeseries.parquet"
    run_tables.write_timeseries(campaign, counterfactual, spend, path)
    # the independent reading: join, merge the long spend table, zero the counterfactual
    long = spend.reset_index().melt(id_vars="week", var_name="community_id",
                                    value_name="spend")
    expected = pd.concat([campaign.assign(arm="campaign"),
                          counterfactual.assign(arm="counterfactual")], ignore_index=True)
    expected = expected.merge(long, on=["week", "community_id"], how="left")
    expected.loc[expected["arm"] == "counterfactual", "spend"] = 0.0
    expected["spend"] = expected["spend"].fillna(0.0) / 9
    got = pd.read_parquet(path)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert got.loc[(got["arm"] == "campaign") & (got["community_id"] == "B")
                   & (got["week"] == 2), "spend"].iloc[0] == pytest.approx(400.0 / 9)


def test_empty_arms_write_an_empty_table(tmp_path: Path) -> None:
    empty = pd.DataFrame({"week": pd.Series(dtype=int),
                          "community_id": pd.Series(dtype=str)})
    path = tmp_path / "timeseries.parquet"
    run_tables.write_timeseries(empty, empty, pd.DataFrame(), path)
    assert list(pd.read_parquet(path).columns) == ["week", "community_id", "arm", "spend"]


def test_replications_joined_a_column_at_a_time_equal_a_concat() -> None:
    rng = np.random.default_rng(3)
    frames = [pd.DataFrame({"week": np.arange(5), "community_id": list("abcde"),
                            "x": rng.random(5), "replication": i}) for i in range(4)]
    parts = [{name: frame[name].to_numpy() for name in frame} for frame in frames]
    pd.testing.assert_frame_equal(_joined(parts), pd.concat(frames, ignore_index=True),
                                  check_dtype=False)
    assert all(part == {} for part in parts)  # each part let go as it was joined
