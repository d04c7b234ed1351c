"""Scoring: hand-computed scores and hypothesis properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames, range_indexes

from geo import InputError, load_area, rank_stability, score_communities, score_indicators
from geo.scoring import normalize

INDICATORS = ["youth_share", "income", "access_gap", "competition"]


def test_score_by_hand() -> None:
    ind = pd.DataFrame({"income": [20_000.0, 30_000.0, 40_000.0],
                        "competition": [0.0, 5.0, 10.0]}, index=["a", "b", "c"])
    s = score_indicators(ind, {"income": 0.75, "competition": -0.25})
    # min-max: income u = 0, .5, 1; competition is a cost: u = 1, .5, 0
    assert s["score"].tolist() == pytest.approx([0.25, 0.5, 0.75])
    assert s["contrib_income"].tolist() == pytest.approx([0.0, 0.375, 0.75])
    assert s["contrib_competition"].tolist() == pytest.approx([0.25, 0.125, 0.0])
    assert s["rank"].tolist() == [3, 2, 1]
    ideal = score_indicators(ind, {"income": 1.0}, ideals={"income": 30_000})
    assert ideal["score"].tolist() == pytest.approx([0.0, 1.0, 0.0])


def test_normalizations() -> None:
    x = pd.Series([1.0, 2.0, 4.0, np.nan])
    assert normalize(x, "minmax").tolist()[:3] == pytest.approx([0, 1 / 3, 1])
    assert normalize(x, "rank").tolist()[:3] == pytest.approx([0, 0.5, 1])
    z = normalize(x, "z")
    assert z.iloc[0] < 0.5 < z.iloc[2] and np.isnan(z.iloc[3])
    assert normalize(pd.Series([3.0, 3.0]), "minmax").tolist() == [0.5, 0.5]
    with pytest.raises(InputError, match="normalization"):
        normalize(x, "log")  # type: ignore[arg-type]


def test_errors_name_the_indicator() -> None:
    ind = pd.DataFrame({"income": [1.0, 2.0], "sme_density": [np.nan, np.nan]})
    with pytest.raises(InputError, match="unknown indicator"):
        score_indicators(ind, {"wealth": 1})
    with pytest.raises(InputError, match="every weight is 0"):
        score_indicators(ind, {"income": 0})
    with pytest.raises(InputError, match="sme_density"):
        score_indicators(ind, {"sme_density": 1})


frames = data_frames(
    [column(name, elements=st.floats(0, 1e5, allow_nan=False)) for name in INDICATORS],
    index=range_indexes(min_size=2, max_size=30))
weights = st.fixed_dictionaries({name: st.floats(-5, 5).filter(lambda w: abs(w) > 1e-3)
                                 for name in INDICATORS})


@settings(max_examples=60, deadline=None)
@given(frame=frames, w=weights, scale=st.floats(0.01, 100),
       method=st.sampled_from(["minmax", "rank", "z"]))
def test_properties(frame: pd.DataFrame, w: dict[str, float], scale: float, method) -> None:
    frame.index = [f"id{i}" for i in range(len(frame))]
    s = score_indicators(frame, w, normalization=method)
    assert s.index.equals(frame.index)
    assert ((s["score"] >= 0) & (s["score"] <= 1)).all()
    contrib = s[[c for c in s.columns if c.startswith("contrib_")]].sum(axis=1)
    assert np.allclose(contrib.clip(0, 1), s["score"])
    scaled = score_indicators(frame, {k: v * scale for k, v in w.items()},
                              normalization=method)
    assert np.allclose(scaled["score"], s["score"])
    assert (scaled["rank"] == s["rank"]).all()


def test_rank_stability_reports_each_weight() -> None:
    rng = np.random.default_rng(1)
    ind = pd.DataFrame(rng.random((40, 4)), columns=INDICATORS)
    w = {"youth_share": 0.3, "income": 0.2, "access_gap": 0.3, "competition": -0.2}
    by_weight, by_comm = rank_stability(ind, w)
    assert len(by_weight) == 8 and set(by_weight["change"]) == {-0.2, 0.2}
    assert (by_weight["top10_kept"] <= 10).all()
    assert by_comm.max() == by_weight["max_rank_shift"].max()
    _, none = rank_stability(ind, {"income": 1.0})  # one weight: scaling it moves nothing
    assert (none == 0).all()


def test_sample_city_scores() -> None:
    area = load_area("builtin:sample-city")
    w = {"youth_share": 0.3, "income": 0.2, "access_gap": 0.3, "competition": -0.2}
    s = score_communities(area, w)
    assert set(s.index) == set(area.communities.index) and s.index.is_unique
    assert s["rank"].is_monotonic_increasing and s["score"].is_monotonic_decreasing  # best first
    assert (s["adults"] == area.adults.reindex(s.index)).all()
    assert s.crs == area.crs
    assert s["score"].between(0, 1).all()
    assert sorted(s["tier"].unique()) == [1, 2, 3, 4, 5]
    # the best tier holds the best scores
    assert s.loc[s["tier"] == 5, "score"].min() > s.loc[s["tier"] == 4, "score"].max()
    assert s["rank"].min() == 1 and (s["rank_shift_max"] >= 0).all()
    assert s["own_share"].between(0, 1).all() and (s["access_gap"] > 0).all()


def test_a_place_almost_nobody_lives_in_does_not_top_the_ranking(make_pack) -> None:
    """An island fort of 12 adults with the highest income and the least access tops a
    plain ranking on the indicators of a dozen people; with min_adults (default 100) it is
    not scored, ranks last, and does not stretch the normalization of the others."""
    import warnings

    from conftest import grid_layers

    comm = grid_layers()["communities"]
    comm.loc[3, ["pop_18_35", "pop_36_55", "pop_56_plus"]] = [10, 2, 0]  # D: 12 adults
    comm.loc[3, "median_income"] = 90_000.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no street network in the grid pack
        area = load_area(make_pack(communities=comm))
    w = {"youth_share": 0.3, "income": 0.4, "access_gap": 0.3}
    plain = score_communities(area, w, min_adults=0)
    assert plain.index[0] == "D"  # what it did before
    s = score_communities(area, w)
    assert s.index[-1] == "D" and bool(s.loc["D", "too_few_adults"])
    assert s.loc["D", "score"] == 0 and s.loc["D", "rank"] == 4 and s.loc["D", "tier"] == 1
    others = score_communities(area.__class__(**{**area.__dict__, "communities":
                                                 area.communities.drop(index="D")}), w)
    assert s.drop(index="D")["score"].to_dict() == pytest.approx(others["score"].to_dict())
