"""Community scoring: indicators, normalization, weighted criteria, explanation, tiers,
and how stable the ranking is when the weights move."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.special import ndtr  # the standard normal CDF (scipy.stats takes 0.6 s)

from geo.access import TravelTimes, coverage, nearest_outlet_min, travel_times
from geo.area import StudyArea
from geo.contract import INDICATORS
from geo.errors import InputError
from geo.market import DEFAULT_ATTRACTIVENESS, huff_shares

#: By default, communities with fewer adults than this share of the median community's
#: are not scored (assumption: a community a tenth the size of a typical one cannot carry
#: an outlet or an event of its own; in Helsinki it leaves out the island fort of
#: Suomenlinna, the garrison island of Santahamina and two near-empty port areas).
MIN_ADULTS_SHARE = 0.1

__all__ = [
    "INDICATORS",
    "MIN_ADULTS_SHARE",
    "community_indicators",
    "normalize",
    "rank_stability",
    "score_communities",
    "score_indicators",
]

Normalization = Literal["minmax", "rank", "z"]



def community_indicators(area: StudyArea, travel: TravelTimes | None = None, *,
                         coverage_minutes: float = 15.0, beta: float = 2.0,
                         attractiveness: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Every indicator of :data:`INDICATORS` per community, in its own units.

    ``travel`` holds travel times from the communities to the area's outlets (computed on
    the walking network when not given). Indicators whose source column is absent are NaN.
    """
    c = area.communities
    adults = area.adults.astype(np.float64)
    safe = adults.where(adults > 0)
    travel = travel if travel is not None else travel_times(area, area.outlets)
    outlets = area.outlets
    own_ids = outlets.index[outlets["owner"] == "own"]
    comp = outlets[outlets["owner"] == "competitor"]
    out = pd.DataFrame(index=c.index)
    out["adults"] = adults
    out["youth_share"] = c["pop_18_35"] / safe
    out["middle_age_share"] = c["pop_36_55"] / safe
    out["senior_share"] = c["pop_56_plus"] / safe
    out["income"] = c["median_income"].astype(np.float64)
    for name, col in (("low_income_share", "income_low_share"),
                      ("high_income_share", "income_high_share"),
                      ("digital_adoption", "digital_adoption")):
        out[name] = c[col].astype(np.float64) if col in c else np.nan
    out["sme_density"] = 1000 * c["sme_count"] / safe if "sme_count" in c else np.nan
    out["access_gap"] = nearest_outlet_min(travel, sites=own_ids)
    out["coverage_share"] = coverage(travel, minutes=coverage_minutes, sites=own_ids)
    if len(outlets):
        shares = huff_shares(travel, outlets, by="owner", beta=beta,
                             attractiveness=attractiveness)
        out["own_share"] = shares.get("own", 0.0)
    else:
        out["own_share"] = 0.0
    table = {**DEFAULT_ATTRACTIVENESS, **(attractiveness or {})}
    if len(comp):
        cols = travel.sites.get_indexer(comp.index)
        pull = comp["kind"].map(table).to_numpy(dtype=np.float64)
        near = (travel.minutes[:, cols] <= coverage_minutes).astype(np.float64) @ pull
        out["competition"] = travel.aggregate(near, "competition")
    else:
        out["competition"] = 0.0
    if "customers" in c:
        out["headroom"] = (adults - c["customers"]).clip(lower=0)
    else:
        out["headroom"] = adults * (1 - out["own_share"])
    return out


def normalize(values: pd.Series, method: Normalization = "minmax") -> pd.Series:
    """Map an indicator to [0, 1]: min-max, percentile rank, or the normal CDF of z.

    A constant indicator maps to 0.5; NaN stays NaN.
    """
    x = values.astype(np.float64)
    finite = x[np.isfinite(x)]
    if finite.empty or finite.max() == finite.min():
        return pd.Series(np.where(x.notna(), 0.5, np.nan), index=x.index, name=x.name)
    if method == "minmax":
        out = (x.clip(finite.min(), finite.max()) - finite.min()) / (finite.max() - finite.min())
    elif method == "rank":
        out = (x.rank(method="average") - 1) / (x.notna().sum() - 1)
    elif method == "z":
        out = pd.Series(ndtr((x.clip(finite.min(), finite.max()) - finite.mean())
                                 / finite.std(ddof=0)), index=x.index)
        out[x.isna()] = np.nan
    else:
        raise InputError(f"normalization = {method!r}: expected 'minmax', 'rank' or 'z'")
    out.name = x.name
    return out


def score_indicators(indicators: pd.DataFrame, weights: Mapping[str, float], *,
                     normalization: Normalization = "minmax",
                     ideals: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Composite score in [0, 1] from weighted criteria, with each indicator's contribution.

    A positive weight makes an indicator a benefit (more is better), a negative one a
    cost; an indicator listed in ``ideals`` scores best at that value. The score is
    sum |w_k| u_k / sum |w_k|, with u_k the normalized (and, for costs, reversed) value,
    so that scaling every weight by the same positive constant changes nothing. A missing
    value (NaN) earns nothing.

    Returns
    -------
    DataFrame
        ``contrib_<indicator>`` (summing to ``score``), ``score``, and ``rank`` (1 = best),
        indexed like ``indicators``.
    """
    ideals = dict(ideals or {})
    unknown = sorted(set(weights) - set(indicators.columns))
    if unknown:
        raise InputError(f"weights name unknown indicator(s) {unknown}; expected some of "
                         f"{', '.join(indicators.columns)}")
    active = {k: float(w) for k, w in weights.items() if w != 0}
    total = sum(abs(w) for w in active.values())
    if total == 0:
        raise InputError("every weight is 0; give at least one non-zero weight")
    empty = [k for k in active if indicators[k].isna().all()]
    if empty:
        raise InputError(f"indicator(s) {empty} have no values in this area (their source "
                         "column is missing); drop their weights or add the column")
    out = pd.DataFrame(index=indicators.index)
    for k, w in active.items():
        x = indicators[k].astype(np.float64)
        if k in ideals:
            dev = (x - ideals[k]).abs()
            top = dev.max()
            u = 1 - dev / top if top > 0 else pd.Series(1.0, index=x.index)
        else:
            u = normalize(x, normalization)
            if w < 0:
                u = 1 - u
        out[f"contrib_{k}"] = (abs(w) / total) * u.fillna(0.0)
    out["score"] = out.sum(axis=1).clip(0.0, 1.0)
    # scores equal but for floating-point rounding (the same weights scaled) tie
    out["rank"] = out["score"].round(12).rank(ascending=False, method="min").astype(int)
    return out


def _tiers(score: pd.Series, k: int) -> pd.Series:
    distinct = score.nunique()
    k = max(1, min(k, distinct - 1 if distinct > 2 else 1))
    if k == 1:
        return pd.Series(1, index=score.index, name="tier")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Numba not installed": exact, slower
        import mapclassify  # at first use: it imports scikit-learn (about a second)

        classes = mapclassify.FisherJenks(score.to_numpy(), k=k)
    return pd.Series(classes.yb + 1, index=score.index, name="tier")


def rank_stability(indicators: pd.DataFrame, weights: Mapping[str, float], *,
                   normalization: Normalization = "minmax",
                   ideals: Mapping[str, float] | None = None,
                   change: float = 0.2) -> tuple[pd.DataFrame, pd.Series]:
    """How far ranks move when each weight in turn is changed by -change and +change.

    Returns
    -------
    (by_weight, by_community)
        ``by_weight``: one row per weight and direction with the mean and largest absolute
        rank shift and how many of the top 10 stay in the top 10. ``by_community``: each
        community's largest absolute shift over all perturbations (``rank_shift_max``).
    """
    base = score_indicators(indicators, weights, normalization=normalization,
                            ideals=ideals)["rank"]
    top = set(base.nsmallest(10).index)
    rows = []
    worst = pd.Series(0, index=indicators.index, name="rank_shift_max")
    for k, w in weights.items():
        if w == 0:
            continue
        for sign in (-1, 1):
            moved = dict(weights)
            moved[k] = w * (1 + sign * change)
            rank = score_indicators(indicators, moved, normalization=normalization,
                                    ideals=ideals)["rank"]
            shift = (rank - base).abs()
            worst = worst.combine(shift, max)
            rows.append({"weight": k, "change": sign * change,
                         "mean_rank_shift": float(shift.mean()),
                         "max_rank_shift": int(shift.max()),
                         "top10_kept": len(top & set(rank.nsmallest(10).index))})
    return pd.DataFrame(rows), worst.astype(int).rename("rank_shift_max")


def score_communities(area: StudyArea, weights: Mapping[str, float], *,
                      travel: TravelTimes | None = None,
                      normalization: Normalization = "minmax",
                      ideals: Mapping[str, float] | None = None, tiers: int = 5,
                      coverage_minutes: float = 15.0, beta: float = 2.0,
                      attractiveness: Mapping[str, float] | None = None,
                      min_adults: float | None = None) -> gpd.GeoDataFrame:
    """Score every community for the bank: indicators, score, explanation, tier, stability.

    Parameters
    ----------
    area
        The study area.
    weights
        Weight per indicator of :data:`INDICATORS` (negative: a cost).
    travel
        Travel times to the area's outlets (computed on the walking network if absent).
    normalization
        ``"minmax"``, ``"rank"`` or ``"z"``.
    ideals
        Indicators that score best at a value rather than at an extreme.
    tiers
        Number of tiers by natural breaks (Fisher-Jenks); tier ``tiers`` is the best.
    min_adults
        Communities with fewer adults are not scored (``too_few_adults``): their score is
        0, they rank after every other and take the lowest tier, and their indicators do
        not stretch the normalization. Default: a tenth of the median community's adults
        (:data:`MIN_ADULTS_SHARE`). A place almost nobody lives in (an island fort, a port)
        would otherwise top the ranking on indicators of a handful of people.

    Returns
    -------
    GeoDataFrame
        Indexed by ``community_id`` like the area, sorted by rank (the best first): the
        indicators, ``coverage_share``, ``contrib_*``, ``score`` in [0, 1], ``rank`` (1 =
        best), ``tier``, ``rank_shift_max`` (the largest rank move when any weight changes
        by 20%), ``adults`` and ``too_few_adults``.
    """
    indicators = community_indicators(area, travel, coverage_minutes=coverage_minutes,
                                      beta=beta, attractiveness=attractiveness)
    adults = area.adults.astype(float)
    if min_adults is None:
        min_adults = MIN_ADULTS_SHARE * float(adults.median())
    scored_ok = adults >= min_adults
    if not scored_ok.any():
        raise InputError(f"no community has {min_adults:g} adults or more (the most: "
                         f"{adults.max():,.0f}); lower min_adults")
    ok = indicators.loc[scored_ok]
    scored = score_indicators(ok, weights, normalization=normalization, ideals=ideals)
    _, shift = rank_stability(ok, weights, normalization=normalization, ideals=ideals)
    tier = _tiers(scored["score"], tiers)
    scored = scored.reindex(indicators.index)
    contrib = [c for c in scored.columns if c.startswith("contrib_")]
    scored[[*contrib, "score"]] = scored[[*contrib, "score"]].fillna(0.0)
    scored["rank"] = scored["rank"].fillna(int(scored_ok.sum()) + 1).astype(int)
    parts = [indicators, scored, tier.reindex(indicators.index).fillna(1).astype(int),
             shift.reindex(indicators.index).fillna(0).astype(int)]
    if "adults" not in indicators:
        parts.append(adults.rename("adults"))
    frame = pd.concat([*parts, (~scored_ok).rename("too_few_adults")], axis=1)
    if "name" in area.communities:
        frame.insert(0, "name", area.communities["name"])
    out = gpd.GeoDataFrame(frame, geometry=area.communities.geometry, crs=area.crs)
    return out.sort_values(["rank", "score"], ascending=[True, False], kind="stable")
