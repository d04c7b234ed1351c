"""A pilot's design: treated communities, matched controls that are not their neighbours,
the balance, and the power from the simulation's own variance (``sitesim pilot design``;
docs/calibration.md, "Pilots").

- **Treated**: those given, or N of the scenario's 3 x N best-scored communities, chosen
  with their controls by the matching.
- **Controls**: none that shares a border with a treated community (the tie law of the
  model puts a community's nearest others first, so word of mouth from a neighbour would
  lift a control and hide the pilot's effect), matched by :func:`optimizer.match_controls`
  on size, age, income, access, competitors and today's customer share, and on the
  pre-period's level and trend where observations are given.
- **Forecast and power**: the scenario's model over the pre-period and the pilot, with
  and without the pilot's campaign in the treated communities (the same random numbers),
  gives the uplift the pilot should show and the spread of the readout's estimate without
  it. The smallest detectable uplift at 80% power and 5% significance (two-sided) is
  (t_0.975 + t_0.80) x se, with se from each community's own variance of its before/after
  change, as :mod:`scenarios.pilot_estimate` reads the pilot out (the figures:
  :mod:`scenarios.pilot_power`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tomli_w

from geo.errors import InputError
from optimizer import (
    Matching,
    OptimizerInputError,
    match_controls,
    standardized_mean_differences,
)
from scenarios import plans
from scenarios._models import Scenario
from scenarios.bank_data import read_observed
from scenarios.pilot_estimate import PER_ADULTS, weekly_counts
from scenarios.pilot_power import forecast_pilot, pilot_power
from simulation import (
    Campaign,
    CommunityMarketModel,
    full_scale,
    release_freed_memory,
    replication_params,
    replication_seeds,
)

__all__ = ["SMD_LIMIT", "PilotDesign", "design_pilot", "write_design"]

#: A matching variable is balanced below this standardized mean difference (Austin 2009).
SMD_LIMIT = 0.1
#: Matching variables from the scores: size, age, income, access, competitors, customers.
MATCH_ON = ("adults", "youth_share", "income", "access_gap", "competition", "own_share")
#: Given a number N, the treated are the N of the TREATED_POOL x N best-scored that the
#: matching balances best (the very best-scored are the area's extremes, which no set of
#: controls matches; an assumption of the design, docs/calibration.md).
TREATED_POOL = 3
#: Solves of the matching in the pooled sd's units (see _match).
MATCH_ROUNDS = 3


@dataclass(frozen=True)
class PilotDesign:
    scenario: str
    assignment: pd.DataFrame  # community_id -> arm, matched_to, adults, score
    balance: pd.DataFrame  # variable -> treated_mean, control_mean, smd, balanced
    pre_weeks: tuple[int, int]
    pilot_weeks: tuple[int, int]
    channel: str
    spend: float
    forecast: dict[str, float]
    power: dict[str, float]
    needs: dict[str, Any]
    excluded_neighbours: list[str]
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        arms = self.assignment["arm"]
        return {"kind": "sitesim pilot design", "scenario": self.scenario,
                "pre_weeks": list(self.pre_weeks), "pilot_weeks": list(self.pilot_weeks),
                "channel": self.channel, "spend": round(self.spend, 2),
                "treated": sorted(arms[arms == "treated"].index),
                "control": sorted(arms[arms == "control"].index),
                "excluded_neighbours": self.excluded_neighbours,
                "unbalanced": sorted(self.balance.index[~self.balance["balanced"]]),
                "unit": f"new customers per {PER_ADULTS:,} adults and week",
                "forecast": self.forecast, "power": self.power, "needs": self.needs,
                "notes": self.notes}


def _features(prep: plans.Prepared, observed: pd.DataFrame | None,
              pre_weeks: tuple[int, int]) -> pd.DataFrame:
    """The matching variables of the communities that can take part (adults > 0 and not
    too few to score); a variable without a value anywhere, or the same everywhere, is
    left out (nothing to balance)."""
    scores = prep.scores
    scores = scores[(scores["adults"] > 0) & ~scores["too_few_adults"].astype(bool)]
    out = pd.DataFrame({c: scores[c].astype(float) for c in MATCH_ON}, index=scores.index)
    out.index = out.index.map(str)
    out = out.replace([np.inf, -np.inf], np.nan)
    out = out.loc[:, out.notna().any() & (out.nunique() > 1) | (out.columns == "adults")]
    out = out.fillna(out.max())
    if observed is not None:
        rates = _rates(observed, out["adults"], pre_weeks)
        weeks = rates.index.to_numpy(float)
        out["pre_rate"] = rates.mean()
        centred = weeks - weeks.mean()
        out["pre_trend"] = (centred[:, None] * (rates - rates.mean()).to_numpy()).sum(
            axis=0) / (centred ** 2).sum()
    return out


def _rates(rows: pd.DataFrame, adults: pd.Series, weeks: tuple[int, int]) -> pd.DataFrame:
    """Weekly new customers per 1,000 adults (weeks x communities) from weekly rows."""
    return weekly_counts(rows, adults.index, weeks) / adults * PER_ADULTS


def _neighbours(prep: plans.Prepared, communities: list[str]) -> dict[str, set[str]]:
    """Each community's neighbours: those that share a border (or a corner) with it."""
    geometry = prep.area.communities.geometry
    near = geometry.buffer(1.0)  # metres: a shared edge drawn twice may leave a sliver
    out = {}
    for community in communities:
        hits = near.index[near.intersects(near.loc[community])]
        out[community] = set(map(str, hits)) - {community}
    return out


def _candidates(prep: plans.Prepared, treated: int | Sequence[str], pool: int | None,
                eligible: pd.Index) -> tuple[list[str], int]:
    """The communities the treated are chosen among, and how many to choose: the
    ``pool`` (default ``TREATED_POOL`` x N) best-scored for a number N, or the ones
    given."""
    ids = list(eligible)
    if isinstance(treated, int):
        if not 2 <= treated <= len(ids) // 3:
            raise InputError(f"--treated {treated}: expected 2 to {len(ids) // 3} (at least 2 "
                             "for a readout's interval; at most a third "
                             f"of the area's {len(ids)} communities, so that controls "
                             "remain that are not their neighbours)")
        size = min(TREATED_POOL * treated if pool is None else pool, len(ids))
        if size < treated:
            raise InputError(f"--pool {pool}: fewer than the {treated} treated; give at "
                             f"least {treated}")
        ranked = [c for c in prep.scores.sort_values("rank").index.map(str) if c in eligible]
        return ranked[:size], treated
    unknown = sorted(set(treated) - set(ids))
    if unknown:
        raise InputError(f"--treated: {', '.join(unknown)} not a community of the area "
                         "that can take part (with adults); give ids of its communities "
                         "layer, comma-separated")
    given = list(dict.fromkeys(treated))
    if len(given) < 2:
        raise InputError(f"--treated {given[0]}: one community; a readout needs at least 2 "
                         "treated communities for its interval")
    if pool is not None:
        raise InputError("--pool: the treated are given; leave --pool out")
    return given, len(given)


def _match(features: pd.DataFrame, candidates: list[str], n_treated: int, per: int,
           neighbours: dict[str, set[str]]) -> tuple[Matching, pd.DataFrame]:
    """The matching and its balance table. The model balances means in units of a fixed
    sd; the balance is judged in the two groups' pooled sd, so the model is solved again
    in those units while a variable stays unbalanced (at most ``MATCH_ROUNDS`` times)."""
    eligible = list(map(str, features.index))
    scale = None
    best: tuple[Matching, pd.DataFrame] | None = None
    for _ in range(MATCH_ROUNDS):
        try:
            matching = match_controls(features, candidates, eligible, per_treated=per,
                                      choose=n_treated, neighbours=neighbours, scale=scale)
        except OptimizerInputError as exc:
            raise InputError(f"pilot design: {exc}; choose fewer treated communities, "
                             "fewer controls each, or treated farther apart") from None
        balance = standardized_mean_differences(features, matching.treated,
                                                list(matching.matched_to.index))
        balance["balanced"] = balance["smd"].abs() < SMD_LIMIT
        if best is None or balance["smd"].abs().max() < best[1]["smd"].abs().max():
            best = (matching, balance)
        if balance["balanced"].all():
            break
        t, c = features.loc[matching.treated], features.loc[matching.matched_to.index]
        scale = np.sqrt((t.var(ddof=1) + c.var(ddof=1)) / 2)
    assert best is not None
    return best


def _arm_rates(prep: plans.Prepared, sc: Scenario, campaigns: tuple[Campaign, ...],
               weeks: int, replications: int, adults: pd.Series
               ) -> tuple[list[pd.DataFrame], float]:
    """Each replication's weekly rates (per 1,000 adults) with ``campaigns``, and the
    residents an agent stands for."""
    # one agent per adult up to FULL_SCALE_AGENTS; beyond, the model's variance is divided
    # by the residents an agent stands for (its Poisson part)
    params = full_scale(plans.simulation_params(sc, weeks=weeks, campaigns=campaigns,
                                                events=()), float(adults.sum()))
    inputs = plans.simulation_inputs(prep, plans.open_outlets(prep, None))
    venues = plans.event_venues(prep)
    out, scale = [], 1.0
    for i, seed in enumerate(replication_seeds(sc.seed, replications)):
        model = CommunityMarketModel(inputs, replication_params(params, i), seed=seed,
                                     venues=venues)
        scale = float(model.residents.scale)
        agents = model.residents.customer.size
        out.append(_rates(model.run().timeseries(), adults, (1, weeks)))
        del model
        release_freed_memory(agents)
    return out, scale


def design_pilot(sc: Scenario, *, treated: int | str | Sequence[str], weeks: int,
                 pre_weeks: int | None = None, controls_per: int = 2,
                 channel: str = "social_media", spend: float | None = None,
                 effect: float | None = None, observed: str | Path | None = None,
                 pool: int | None = None,
                 replications: int | None = None,
                 progress: Callable[[str], None] = lambda _: None) -> PilotDesign:
    """Design a pilot of ``weeks`` weeks after ``pre_weeks`` (default: as many) weeks
    before it (see the module); ``spend``: the pilot campaign's whole spend (default:
    the scenario's budget per adult and week in the treated communities); ``effect``:
    a wanted relative uplift to size the pilot for (default: the forecast's); ``pool``:
    how many of the best-scored the treated are chosen among."""
    pre = max(weeks, 4) if pre_weeks is None else pre_weeks
    if weeks < 1 or pre < 2:
        raise InputError(f"--weeks {weeks}, --pre-weeks {pre}: the pilot needs at least 1 "
                         "week and 2 weeks before it")
    if controls_per < 1:
        raise InputError(f"--controls-per {controls_per}: expected at least 1")
    prep = plans.prepare(sc, progress=progress)
    rows, offset = None, 0
    if observed is not None:
        rows = read_observed(observed, prep.scores.index)
        last = int(rows["week"].max())
        if last < pre:
            raise InputError(f"{observed} (observed): weeks 1 to {last}, fewer than the "
                             f"pre-period's {pre}; give --pre-weeks {max(last, 2)} or more "
                             "observed weeks")
        offset = last - pre  # the pre-period: the last observed weeks; the pilot: next
    features = _features(prep, rows, (offset + 1, offset + pre))
    adults = features["adults"]
    parsed = _parse_treated(treated, features.index)
    candidates, n_treated = _candidates(prep, parsed, pool, features.index)
    neighbours = _neighbours(prep, candidates)
    notes = []
    progress(f"pilot: choosing {n_treated} treated among {len(candidates)} and "
             f"{controls_per} control(s) each, none a neighbour of a treated community")
    matching, balance = _match(features, candidates, n_treated, controls_per, neighbours)
    if not matching.outcome.proven_optimal:
        notes.append("the matching stopped at its time limit: the balance is the best "
                     "found, not proven the best")
    chosen = matching.treated
    excluded = sorted(set().union(*(neighbours[c] for c in chosen)) - set(chosen))
    controls = list(matching.matched_to.index)
    if not balance["balanced"].all():
        notes.append("not balanced: " + ", ".join(balance.index[~balance["balanced"]])
                     + (" (the treated are the best-scored, the area's extremes: a wider "
                        "--pool of candidates lets the matching balance them)"
                        if pool is None and isinstance(parsed, int) else ""))
    if rows is None:
        notes.append("the pre-period's level and trend are not matched on: give "
                     "--observed with the weeks before the pilot to match on them (the "
                     "difference in differences assumes the groups' rates would have "
                     "moved alike)")
    treated_adults = float(adults[chosen].sum())
    if spend is None:
        if not sc.budget.enabled or sc.budget.total <= 0:
            raise InputError(f"{sc.name}: the scenario has no budget to size the pilot's "
                             "spend from; give --spend (the pilot campaign's whole spend)")
        spend = sc.budget.total / 52 / float(adults.sum()) * treated_adults * weeks
    pilot = Campaign(channel, float(spend), (pre + 1, pre + weeks), communities=tuple(chosen))
    runs = replications or max(sc.simulation.replications, 8)
    progress(f"pilot: simulating {pre + weeks} weeks with and without the pilot, "
             f"{runs} replications each")
    without, scale = _arm_rates(prep, sc, (), pre + weeks, runs, adults)
    with_pilot, _ = _arm_rates(prep, sc, (pilot,), pre + weeks, runs, adults)
    assignment = pd.DataFrame({
        "arm": ["treated"] * len(chosen) + ["control"] * len(controls),
        "matched_to": [""] * len(chosen) + list(matching.matched_to[controls]),
    }, index=pd.Index(chosen + controls, name="community_id"))
    assignment["adults"] = adults[assignment.index].round().astype(int)
    assignment["score"] = prep.scores["score"].reindex(assignment.index).round(4)
    forecast = forecast_pilot(with_pilot, without, assignment["arm"], pre + 1)
    power, needs = pilot_power(without, assignment["arm"], pre, weeks, scale, forecast, effect,
                          controls_per)
    needs["communities_available"] = len(features)
    notes.append("the forecast and the power are against no other marketing: the pilot's "
                 "campaign alone on the organic background")
    return PilotDesign(sc.name, assignment, balance, (offset + 1, offset + pre),
                       (offset + pre + 1, offset + pre + weeks), channel, float(spend),
                       forecast, power, needs, excluded, notes)


def _parse_treated(treated: int | str | Sequence[str], ids: pd.Index) -> int | list[str]:
    """A number of communities or their ids ("12" is an id where the area has one)."""
    if isinstance(treated, int):
        return treated
    parts = ([p.strip() for p in treated.split(",") if p.strip()]
             if isinstance(treated, str) else [str(p) for p in treated])
    if not parts:
        raise InputError(f"--treated {treated!r}: give a number of communities or their "
                         "ids, comma-separated")
    if len(parts) == 1 and parts[0].isdigit() and parts[0] not in set(ids):
        return int(parts[0])
    return parts


def write_design(design: PilotDesign, out: str | Path) -> dict[str, Path]:
    """The assignment (``out``, CSV: community_id, arm, matched_to, adults, score), its
    balance table (``<out>-balance.csv``) and the design (``<out>.toml``, read by the
    readout), each under a temporary name until all three are written."""
    out = Path(out)
    if out.suffix.lower() != ".csv" or out.is_dir():
        raise InputError(f"--out {out}: expected a .csv file (the design and the balance "
                         "are written beside it, as .toml and -balance.csv)")
    paths = {"assignment": out, "balance": out.with_name(f"{out.stem}-balance.csv"),
             "design": out.with_suffix(".toml")}
    texts = {"assignment": design.assignment.to_csv(),
             "balance": design.balance.rename_axis("variable").round(4).to_csv(),
             "design": tomli_w.dumps(_finite(design.to_dict()))}
    parts = {key: path.with_name(path.name + ".tmp") for key, path in paths.items()}
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        for key, part in parts.items():
            part.write_text(texts[key])
        for key, part in parts.items():
            part.replace(paths[key])
    except OSError as exc:
        for part in parts.values():
            part.unlink(missing_ok=True)
        raise InputError(f"--out {out}: cannot be written ({exc.strerror}); give a file in "
                         "a folder you can write") from None
    return paths


def _finite(body: dict[str, Any]) -> dict[str, Any]:
    """TOML has no null: entries without a value are left out."""
    out = {}
    for key, value in body.items():
        if isinstance(value, dict):
            value = _finite(value)
        elif value is None or (isinstance(value, float) and not np.isfinite(value)):
            continue
        out[key] = value
    return out

