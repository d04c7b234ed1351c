"""The synthetic generator and the embedded sample city: sizes, spatial patterns, seeds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo import InputError, load_area, synthesize_area
from geo.area import StudyArea


@pytest.fixture(scope="module")
def city() -> StudyArea:
    return load_area("builtin:sample-city")


def shares(area: StudyArea) -> pd.DataFrame:
    c = area.communities
    adults = area.adults
    return pd.DataFrame({
        "young": c["pop_18_35"] / adults, "senior": c["pop_56_plus"] / adults,
        "sme_per_1000": 1000 * c["sme_count"] / adults, "digital": c["digital_adoption"],
        "income": c["median_income"], "zone": c["name"].str.rsplit(" ", n=1).str[0],
    })


def test_sample_city_sizes(city: StudyArea) -> None:
    s = city.summary()
    assert s["communities"] == 150
    assert s["adults"] == 350_000
    assert 15_000 <= s["network"]["nodes"] <= 30_000
    own = {k: v for k, v in s["outlets"].items() if k.startswith("own")}
    assert sum(own.values()) == 10
    assert set(own) == {"own branch", "own micro_branch", "own smart_atm"}
    competitors = city.outlets[city.outlets["owner"] == "competitor"]
    assert len(competitors) == 30 and competitors["brand"].nunique() == 3
    assert s["candidates"] == 80 and s["venues"] == 60
    minx, miny, maxx, maxy = city.communities.total_bounds
    assert (maxx - minx, maxy - miny) == pytest.approx((12_000, 10_000), rel=0.01)
    # the communities tile the district: no gaps, no overlaps
    assert city.communities.area.sum() == pytest.approx(12_000 * 10_000, rel=1e-6)
    assert s["communities_off_network"] == 0


def test_sample_city_spatial_pattern(city: StudyArea) -> None:
    t = shares(city)
    by_zone = t.groupby("zone").mean(numeric_only=True)
    overall = t.mean(numeric_only=True)
    assert by_zone.loc["Old Town", "senior"] > overall["senior"] + 0.05
    assert by_zone.loc["Old Town", "digital"] < overall["digital"] - 0.03
    assert by_zone.loc["New Town", "young"] > overall["young"] + 0.05
    assert by_zone["sme_per_1000"].idxmax() == "Business District"
    # income falls from the south-west to the north-east
    cent = city.communities.geometry.centroid
    gradient = np.corrcoef(cent.x + cent.y, t["income"])[0, 1]
    assert gradient < -0.5


def test_same_seed_same_pack_other_seed_differs(tmp_path: Path) -> None:
    a = synthesize_area(tmp_path / "a", communities=12, adults=6_000, seed=5)
    b = synthesize_area(tmp_path / "b", communities=12, adults=6_000, seed=5)
    c = synthesize_area(tmp_path / "c", communities=12, adults=6_000, seed=6)
    for layer in ("communities", "outlets", "candidates", "venues"):
        assert (a / f"{layer}.parquet").read_bytes() == (b / f"{layer}.parquet").read_bytes()
    assert (a / "network.graphml").read_bytes() == (b / "network.graphml").read_bytes()
    assert (a / "communities.parquet").read_bytes() != (c / "communities.parquet").read_bytes()


def test_first_use_by_two_processes_keeps_the_first_pack(tmp_path: Path) -> None:
    """With replace=False (the built-in area on first use) a pack another process finished
    meanwhile stays as it is, inode and all, and nothing temporary is left."""
    from concurrent.futures import ProcessPoolExecutor

    out = tmp_path / "city"
    with ProcessPoolExecutor(2) as pool:
        done = [pool.submit(synthesize_area, out, communities=12, adults=6_000, seed=5,
                            replace=False) for _ in range(2)]
        assert [f.result() for f in done] == [out, out]
    kept = (out / "communities.parquet").stat().st_ino
    synthesize_area(out, communities=12, adults=6_000, seed=5, replace=False)
    assert (out / "communities.parquet").stat().st_ino == kept
    assert [p.name for p in tmp_path.iterdir()] == ["city"]
    synthesize_area(out, communities=12, adults=6_000, seed=5)  # replace: a new pack
    assert (out / "communities.parquet").stat().st_ino != kept


def test_any_size_keeps_totals(tmp_path: Path) -> None:
    area = load_area(synthesize_area(tmp_path / "s", communities=40, adults=123_457, seed=1))
    assert len(area.communities) == 40
    assert int(area.adults.sum()) == 123_457
    assert (area.communities[["pop_18_35", "pop_36_55", "pop_56_plus"]] >= 0).all().all()


def test_bad_sizes() -> None:
    with pytest.raises(InputError, match="communities = 2: expected at least 4"):
        synthesize_area("unused", communities=2)
    with pytest.raises(InputError, match="adults = 100: expected at least 10 per community"):
        synthesize_area("unused", communities=50, adults=100)
