"""A pilot's uplift read from what was observed: difference in differences on community
means (``sitesim pilot readout``; docs/calibration.md, "Pilots").

Each community's weekly new customers per 1,000 adults are averaged over the weeks before
the pilot and over the pilot's weeks; the uplift is the treated communities' mean change
less the controls' mean change, and its interval a Welch t interval over communities.
Collapsing each community's weeks into a before and an after mean is what Bertrand,
Duflo and Mullainathan (2004, QJE 119:249) found keeps a difference-in-differences test
at its size when weeks are correlated; Welch's interval allows the treated communities'
changes to scatter more than the controls' (their uplift varies with the community). A
synthetic control was not chosen: it needs a long pre-period and has no interval of its
own on a handful of treated communities.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tomli_w
from scipy import stats

from geo.errors import InputError, Problem
from scenarios.bank_data import read_observed, read_table

__all__ = ["ARMS", "Lift", "Readout", "Uplift", "difference_in_differences", "read_assignment",
           "read_design", "read_lift", "readout", "weekly_counts", "write_readout"]

ARMS = ("treated", "control")
#: Per how many adults the rates are given.
PER_ADULTS = 1_000


@dataclass(frozen=True)
class Uplift:
    """The treated communities' change less the controls', in new customers per 1,000
    adults and week (per community and week where adults are unknown), with a 95% Welch
    interval; ``relative``: as a share of the treated communities' rate without the
    pilot (their rate less the uplift; its interval treats that rate as known)."""

    estimate: float
    se: float
    dof: float
    low: float
    high: float
    p_value: float
    relative: float
    relative_low: float
    relative_high: float
    treated: int
    control: int

    @property
    def significant(self) -> bool:
        return self.p_value < 0.05


def difference_in_differences(rates: pd.DataFrame, arm: pd.Series, start: int,
                              end: int | None = None, first: int | None = None) -> Uplift:
    """The uplift from weekly ``rates`` (rows: weeks; columns: communities) for the
    communities of ``arm`` (community id -> treated / control); weeks ``first``
    (default: the first) to ``start`` - 1 are the pre-period, ``start`` to ``end``
    (default: the last) the pilot's."""
    end = int(rates.index.max()) if end is None else end
    first = int(rates.index.min()) if first is None else first
    if min((arm == "treated").sum(), (arm == "control").sum()) < 2:
        raise InputError("a difference in differences needs at least 2 treated and 2 "
                         "control communities")
    before = rates.loc[(rates.index >= first) & (rates.index < start)].mean()
    after = rates.loc[(rates.index >= start) & (rates.index <= end)].mean()
    change = after - before
    treated = change[arm[arm == "treated"].index].to_numpy(float)
    control = change[arm[arm == "control"].index].to_numpy(float)
    n_t, n_c = treated.size, control.size
    v_t, v_c = treated.var(ddof=1) / n_t, control.var(ddof=1) / n_c
    se = float(np.sqrt(v_t + v_c))
    dof = float((v_t + v_c) ** 2 / (v_t ** 2 / (n_t - 1) + v_c ** 2 / (n_c - 1))) if se else (
        float(n_t + n_c - 2))
    estimate = float(treated.mean() - control.mean())
    half = float(stats.t.ppf(0.975, dof) * se)
    p_value = float(2 * stats.t.sf(abs(estimate) / se, dof)) if se else float(estimate == 0)
    without = float(after[arm[arm == "treated"].index].mean()) - estimate
    scale = 1 / without if without > 0 else float("nan")
    return Uplift(estimate, se, dof, estimate - half, estimate + half, p_value,
                  estimate * scale, (estimate - half) * scale, (estimate + half) * scale,
                  n_t, n_c)


def weekly_counts(rows: pd.DataFrame, communities: pd.Index, weeks: tuple[int, int]
                  ) -> pd.DataFrame:
    """Weekly new customers (weeks ``weeks`` x ``communities``) from weekly rows (week,
    community_id, new_customers); a week or community without a row counts 0."""
    counts = rows.pivot_table(index="week", columns="community_id", values="new_customers",
                              aggfunc="sum")
    counts.columns = counts.columns.map(str)
    return counts.reindex(index=range(weeks[0], weeks[1] + 1), columns=communities,
                          fill_value=0.0).fillna(0.0)


def read_assignment(path: str | Path) -> pd.DataFrame:
    """A pilot's assignment (``community_id, arm`` and, where given, ``adults``), checked:
    arms are treated or control, each community once, at least 2 of each."""
    where = f"{path} (assignment)"
    frame = read_table(path, where, ("community_id", "arm"), text=("community_id", "arm"))
    problems = []
    for i in np.flatnonzero(~frame["arm"].isin(ARMS).to_numpy()):
        problems.append(Problem("error", f"{where}: row {i + 2}: arm",
                                f"got {frame['arm'].iloc[i]!r}", "write treated or control"))
    for i in np.flatnonzero(frame["community_id"].duplicated().to_numpy()):
        problems.append(Problem("error", f"{where}: row {i + 2}: community_id",
                                f"{frame['community_id'].iloc[i]!r} again",
                                "give each community one arm"))
    if "adults" in frame:
        adults = pd.to_numeric(frame["adults"], errors="coerce")
        for i in np.flatnonzero(~(adults > 0).to_numpy()):
            problems.append(Problem("error", f"{where}: row {i + 2}: adults",
                                    f"got {frame['adults'].iloc[i]!r}",
                                    "give the community's adults, a number > 0"))
        frame["adults"] = adults
    for arm in ARMS:
        if not problems and (frame["arm"] == arm).sum() < 2:
            problems.append(Problem("error", f"{where}: arm",
                                    f"{(frame['arm'] == arm).sum()} {arm} communities",
                                    "a readout needs at least 2 treated and 2 control "
                                    "communities"))
    if problems:
        raise InputError(f"{where}: {len(problems)} problem(s)", problems)
    return frame.set_index("community_id")


def read_design(assignment: str | Path) -> dict[str, Any] | None:
    """The design written beside an assignment by ``sitesim pilot design`` (``X.toml``
    beside ``X.csv``), checked, or None where there is none."""
    path = Path(assignment).with_suffix(".toml")
    if not path.is_file() or path == Path(assignment):
        return None
    try:
        body = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path}: the pilot design beside the assignment cannot be read "
                         f"({exc}); write it again with sitesim pilot design, or move it "
                         "away and give --start") from None
    if body.get("kind") != "sitesim pilot design":
        return None
    for key in ("pre_weeks", "pilot_weeks"):
        weeks = body.get(key)
        if not (isinstance(weeks, list) and len(weeks) == 2
                and all(isinstance(w, int) and w >= 1 for w in weeks)
                and weeks[0] <= weeks[1]):
            raise InputError(f"{path}: {key} = {weeks!r}: expected [first, last] weeks; "
                             "write the design again with sitesim pilot design")
    forecast = body.get("forecast", {})
    if not isinstance(forecast, dict) or not all(
            isinstance(v, int | float) for v in forecast.values()):
        raise InputError(f"{path}: forecast = {forecast!r}: expected numbers; write the "
                         "design again with sitesim pilot design")
    return body


@dataclass(frozen=True)
class Readout:
    """A pilot read out: its weeks, the uplift, the extra new customers it implies in the
    treated communities over the pilot's weeks, and what the design forecast."""

    assignment: str
    observed: str
    pre_weeks: tuple[int, int]
    pilot_weeks: tuple[int, int]
    unit: str
    uplift: Uplift
    extra_customers: tuple[float, float, float]
    forecast: dict[str, float] | None
    treated: tuple[str, ...] = ()
    control: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": "sitesim pilot readout", "assignment": self.assignment,
            "treated": list(self.treated), "control": list(self.control),
            "observed": self.observed, "pre_weeks": list(self.pre_weeks),
            "pilot_weeks": list(self.pilot_weeks), "unit": self.unit,
            "uplift": {k: v for k, v in asdict(self.uplift).items() if np.isfinite(v)},
            "significant": self.uplift.significant,
            "extra_customers": dict(zip(("estimate", "low", "high"), self.extra_customers,
                                        strict=True))}
        if self.forecast is not None:
            out["forecast"] = self.forecast
        return out


def readout(assignment: str | Path, observed: str | Path, *, start: int | None = None,
            end: int | None = None) -> Readout:
    """Read a pilot out (see the module); ``start`` and ``end``: the pilot's first and
    last weeks (default: the design's; without one, ``start`` is needed and ``end`` is
    the last observed week); the pre-period is the design's, or weeks 1 to start - 1."""
    arms = read_assignment(assignment)
    design = read_design(assignment)
    where = f"{observed} (observed)"
    if start is None and design is None:
        raise InputError(f"{assignment}: no design beside it gives the pilot's first "
                         "week; give --start W")
    rows = read_observed(observed, arms.index, others="drop")
    seen = int(rows["week"].max())
    first = 1
    if design is not None:
        first = int(design["pre_weeks"][0]) if start is None else 1
        start = int(design["pilot_weeks"][0]) if start is None else start
        if end is None:
            end = min(int(design["pilot_weeks"][1]), seen)
    assert start is not None
    last = seen if end is None else end
    if last > seen:
        raise InputError(f"{where}: --end {last} is after the last observed week, {seen}; "
                         f"give --end {seen} or observations to week {last}")
    if not first < start <= last:
        raise InputError(f"{where}: the pilot's weeks {start} to {last} leave no week "
                         f"before it (from week {first}) or none in it; give --start "
                         f"between {first + 1} and --end")
    counts = weekly_counts(rows, arms.index, (1, last))
    per_adults = "adults" in arms
    rates = counts / arms["adults"] * PER_ADULTS if per_adults else counts
    uplift = difference_in_differences(rates, arms["arm"], start, last, first)
    weeks = last - start + 1
    scale = (float(arms.loc[arms["arm"] == "treated", "adults"].sum()) / PER_ADULTS
             if per_adults else float((arms["arm"] == "treated").sum())) * weeks
    forecast = None
    if design is not None and "forecast" in design and per_adults:  # the design's unit
        forecast = {k: float(v) for k, v in design["forecast"].items()}
    return Readout(str(assignment), str(observed), (first, start - 1), (start, last),
                   f"new customers per {PER_ADULTS:,} adults and week" if per_adults
                   else "new customers per community and week", uplift,
                   (uplift.estimate * scale, uplift.low * scale, uplift.high * scale),
                   forecast, tuple(arms.index[arms["arm"] == "treated"]),
                   tuple(arms.index[arms["arm"] == "control"]))


@dataclass(frozen=True)
class Lift:
    """A pilot's readout as a measurement for the calibration: its communities, weeks,
    unit (per 1,000 adults or per community) and the uplift with its standard error."""

    path: str
    treated: tuple[str, ...]
    control: tuple[str, ...]
    pre_weeks: tuple[int, int]
    pilot_weeks: tuple[int, int]
    per_adults: bool
    estimate: float
    se: float

    def of(self, rows: pd.DataFrame, adults: pd.Series) -> float:
        """The same difference in differences of weekly rows (week, community_id,
        new_customers), as the readout computed it."""
        ids = list(self.treated + self.control)
        first, last = self.pre_weeks[0], self.pilot_weeks[1]
        rates = weekly_counts(rows, pd.Index(ids), (first, last))
        if self.per_adults:
            rates = rates / adults.reindex(ids).clip(lower=1.0) * PER_ADULTS
        arm = pd.Series(["treated"] * len(self.treated) + ["control"] * len(self.control),
                        index=ids)
        return difference_in_differences(rates, arm, self.pilot_weeks[0],
                                         last, first).estimate


def read_lift(path: str | Path) -> Lift:
    """A readout written by ``sitesim pilot readout``, checked."""
    where = f"{path} (lift)"
    try:
        body = tomllib.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{where}: cannot be read ({exc}); give a readout written by "
                         "sitesim pilot readout") from None
    try:
        if body.get("kind") != "sitesim pilot readout":
            raise ValueError("not a readout")
        lift = Lift(str(path), tuple(map(str, body["treated"])),
                    tuple(map(str, body["control"])),
                    (int(body["pre_weeks"][0]), int(body["pre_weeks"][1])),
                    (int(body["pilot_weeks"][0]), int(body["pilot_weeks"][1])),
                    str(body["unit"]).startswith("new customers per 1,000"),
                    float(body["uplift"]["estimate"]), float(body["uplift"]["se"]))
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise InputError(f"{where}: not a readout sitesim can use ({exc}); write it again "
                         "with sitesim pilot readout") from None
    if min(len(lift.treated), len(lift.control)) < 2 or not lift.se > 0:
        raise InputError(f"{where}: {len(lift.treated)} treated, {len(lift.control)} "
                         f"control, se {lift.se}: a lift needs 2 of each and an se > 0")
    return lift


def write_readout(result: Readout, out: str | Path) -> Path:
    """The readout as TOML, written under a temporary name and renamed when complete."""
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        part = out.with_name(out.name + ".tmp")
        part.write_text(tomli_w.dumps(result.to_dict()))
        part.replace(out)
    except OSError as exc:
        raise InputError(f"{out}: cannot be written ({exc.strerror}); give --out a file "
                         "in a folder you can write") from None
    return out
