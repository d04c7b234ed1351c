"""max_share on the sample city, judged by geo.huff_shares (the simulation's market shares):
its figure is what the Huff shares of its outlets give, and it captures at least as much as
max_capture's sites do under the same rule."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from geo import huff_shares
from scenarios import plans
from scenarios.schema import load_scenario

LIBRARY = Path(__file__).resolve().parents[2] / "scenarios" / "library"


def _huff_value(prep: plans.Prepared, plan: object) -> float:
    """Expected demand weight (adults x score) the own outlets capture: each community's
    own Huff share by geo.huff_shares, times its adults and score."""
    outlets = plans.open_outlets(prep, plan)  # type: ignore[arg-type]
    comp = prep.area.outlets[prep.area.outlets["owner"] == "competitor"]
    market = pd.concat([outlets[["kind"]].assign(owner="own"), comp[["kind", "owner"]]])
    own = huff_shares(prep.travel, market, by="owner")["own"]
    weight = prep.area.adults.astype(float) * prep.scores["score"]
    return float((own * weight.reindex(own.index)).sum())


def test_max_share_on_the_sample_city() -> None:
    def prepared(objective: str) -> plans.Prepared:
        return plans.prepare(load_scenario({"extends": str(LIBRARY / "baseline.toml"),
                                            "name": objective,
                                            "outlets": {"objective": objective}}))

    prep = prepared("max_share")
    share = plans.outlet_plan(prep, time_limit_s=15)
    capture = plans.outlet_plan(prepared("max_capture"))
    value = _huff_value(prep, share)
    assert share.objective == pytest.approx(value, rel=1e-9)
    assert value >= _huff_value(prep, capture) - 1e-6
    assert share.proven_optimal or (share.gap is not None and share.gap > 0)
    # the new sites' customers, by source, add up to the Huff share they hold
    src = share.share_sources
    assert src is not None and set(src["source"]) >= {"own", "no outlet"}
    opened = share.decisions[share.decisions["action"] == "open"]
    assert set(src["site_id"]) == set(opened["site_id"])
    outlets = plans.open_outlets(prep, share)
    comp = prep.area.outlets[prep.area.outlets["owner"] == "competitor"]
    market = pd.concat([outlets[["kind"]].assign(owner="own"), comp[["kind", "owner"]]])
    per_outlet = huff_shares(prep.travel, market)
    weight = (prep.area.adults.astype(float) * prep.scores["score"]).reindex(per_outlet.index)
    held = per_outlet[list(opened["site_id"])].mul(weight, axis=0).sum()
    by_site = src.groupby("site_id")["captured"].sum()
    assert by_site.reindex(held.index).to_numpy() == pytest.approx(held.to_numpy(), rel=1e-9)
