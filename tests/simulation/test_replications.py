"""Replications: KPIs by definition, intervals, and the same numbers for the same seed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from simulation import Campaign, SimulationParams
from simulation.replications import (
    new_customers_by_replication,
    run_replications,
    summarize,
)

PARAMS = SimulationParams(weeks=26, campaigns=(Campaign("social_media", 40_000, (1, 10),
                                                         ("18-35",)),))


def test_kpis_follow_their_definitions(small_inputs: pd.DataFrame) -> None:
    result = run_replications(small_inputs, PARAMS, replications=4, seed=7)
    per = result.per_replication
    assert len(per) == 4 and (per["spend"] == 40_000).all()
    assert np.allclose(per["uplift_new_customers"],
                       per["new_customers"] - per["counterfactual_new_customers"])
    assert (per["uplift_new_customers"] > 0).all()
    assert np.allclose(per["cost_per_acquisition"], per["spend"] / per["uplift_new_customers"])
    margin = PARAMS.net_interest_margin
    assert np.allclose(per["roi"], per["uplift_deposits"] * margin / per["spend"])
    assert per["retention"].between(0, 1).all() and per["penetration"].between(0, 1).all()
    # churn rate and retention: of the customers at the start, churned once or never
    assert np.allclose(per["churn_rate"], 1 - per["retention"])
    assert np.allclose(per["yearly_attrition"], 1 - per["retention"] ** (52 / 26))
    assert set(result.timeseries["replication"]) == {0, 1, 2, 3}
    # the age bands' uplifts add up to the uplift, and each is the bands' own difference
    bands = per[["uplift_18_35", "uplift_36_55", "uplift_56_plus"]].sum(axis=1)
    assert np.allclose(bands, per["uplift_new_customers"])
    ts, cf = result.timeseries, result.counterfactual
    older = (ts[ts["segment"].str.startswith("56+")].groupby("replication")["new_customers"]
             .sum() - cf[cf["segment"].str.startswith("56+")].groupby("replication")
             ["new_customers"].sum())
    assert np.allclose(per["uplift_56_plus"], older)
    # income tiers and the segments (band x tier) add up too; a segment is its own rows
    tiers = per[["uplift_income_low", "uplift_income_middle", "uplift_income_high"]]
    assert np.allclose(tiers.sum(axis=1), per["uplift_new_customers"])
    crossed = [f"uplift_{b}_{t}" for b in ("18_35", "36_55", "56_plus")
               for t in ("low", "middle", "high")]
    assert np.allclose(per[crossed].sum(axis=1), per["uplift_new_customers"])
    assert np.allclose(per[[c for c in crossed if c.endswith("_low")]].sum(axis=1),
                       per["uplift_income_low"])
    poor_old = (ts[ts["segment"] == "56+/low"].groupby("replication")["new_customers"].sum()
                - cf[cf["segment"] == "56+/low"].groupby("replication")["new_customers"]
                .sum())
    assert np.allclose(per["uplift_56_plus_low"], poor_old)
    # by community: the means add up to the mean uplift, and one community is its rows
    from simulation import community_uplift

    by = community_uplift(ts, cf)
    assert by["mean"].sum() == pytest.approx(per["uplift_new_customers"].mean())
    first = by.index[0]
    own = (ts[ts["community_id"] == first].groupby("replication")["new_customers"].sum()
           - cf[cf["community_id"] == first].groupby("replication")["new_customers"].sum())
    assert by.loc[first, "mean"] == pytest.approx(own.mean())
    assert by.loc[first, "p10"] == own.min() and by.loc[first, "p90"] == own.max()
    assert (by["low"] <= by["mean"]).all() and (by["mean"] <= by["high"]).all()


def test_same_seed_same_replications(small_inputs: pd.DataFrame) -> None:
    a = run_replications(small_inputs, PARAMS, replications=3, seed=11)
    b = run_replications(small_inputs, PARAMS, replications=3, seed=11)
    pd.testing.assert_frame_equal(a.per_replication, b.per_replication)
    c = run_replications(small_inputs, PARAMS, replications=3, seed=12)
    assert not a.per_replication.equals(c.per_replication)
    # the new customers alone, without the tables, are the campaign runs' own
    alone = new_customers_by_replication(small_inputs, PARAMS, replications=3, seed=11)
    assert alone.tolist() == a.per_replication["new_customers"].tolist()
    assert alone.tolist() == a.timeseries.groupby("replication")["new_customers"].sum().tolist()


def test_summary_is_a_student_t_interval() -> None:
    per = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
    row = summarize(per).loc["x"]
    half = stats.t.ppf(0.975, 3) * np.std([1, 2, 3, 4], ddof=1) / 2
    assert row["mean"] == 2.5
    assert row["low"] == pytest.approx(2.5 - half) and row["high"] == pytest.approx(2.5 + half)
