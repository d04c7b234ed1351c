"""Response curves from simulation sweeps: the budget optimizer's inputs.

For each channel the simulation runs a city-wide campaign at a few spend levels (all weeks,
all residents) beside one counterfactual with the same random numbers, in replications
until each channel's uplift is known to :data:`TARGET_SE` (at most :data:`MAX_REPLICATIONS`);
:mod:`scenarios._curve_fit` turns the uplift into one curve per community x channel x
segment (segment curves from the city, community multipliers from the communities).

A calibrated scenario's sweep runs at the calibration's estimates (and the defaults of
channels it did not fit), not one parameter draw per replication: with the two or three
replications a sweep makes, the draws' spread swamped the curves of channels the bank's
history never spent on (on the sample city's synthetic bank, merchant alliances' uplift
had a standard error of 59% of itself), and the optimizer chased that noise. The plan's
own simulation draws the parameters, and corrects the curves at the plan where the
forecast misses it (scenarios.plan_check).

Sweeps are cached under ``cache_dir`` by the hash of everything they depend on; a second
process that needs the same sweep waits for the first instead of running it again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from scenarios._curve_fit import fit_curves
from scenarios._fingerprint import code_fingerprint
from scenarios._sweep_size import LEVELS, MAX_REPLICATIONS, MIN_REPLICATIONS
from scenarios.lifetime import customers_held
from simulation import CHANNELS, Campaign, SimulationParams, Venues, release_freed_memory

__all__ = ["LEVELS", "MAX_REPLICATIONS", "POOR_FIT_R2", "TARGET_SE", "curve_notes",
           "curve_summary", "simulate_curves", "sweep_key"]

#: The sweep stops when every channel's uplift has a standard error within this share
#: of it: the plan's forecast must agree with its simulation within 5% of the mean beside
#: the simulation's own interval (docs/scenarios.md), so each curve is known to half that.
TARGET_SE = 0.025
#: Channels that bring less than this share of the sweep's uplift do not set its size.
SMALL_CHANNEL = 0.05


def _quiet(message: str) -> None:
    del message


def sweep_key(inputs: pd.DataFrame, params: SimulationParams, reference: float,
              levels: Sequence[float], replications: int, seed: int,
              venues: Venues | None = None, span: tuple[int, int] | None = None,
              background: Sequence[Campaign] = ()) -> str:
    """The hash of a sweep's inputs: community inputs, venues, parameters, levels, seeds,
    and the weeks and background campaigns when given."""
    h = hashlib.sha256()
    frames = [inputs] if venues is None else [inputs, venues.table, venues.minutes]
    for frame in frames:
        h.update(pd.util.hash_pandas_object(frame.sort_index(axis=1), index=True).to_numpy()
                 .tobytes())
    h.update(repr(params).encode())
    h.update(json.dumps([reference, list(levels), replications, seed, "v5", TARGET_SE,
                         code_fingerprint()]).encode())
    if span is not None or background:  # (absent otherwise: earlier caches stay valid)
        h.update(repr((span, tuple(background))).encode())
    return h.hexdigest()[:16]


def simulate_curves(inputs: pd.DataFrame, params: SimulationParams, *, reference: float,
                    levels: Sequence[float] = LEVELS,
                    replications: int = MAX_REPLICATIONS, seed: int = 0,
                    channels: Sequence[str] = CHANNELS, cache_dir: Path | None = None,
                    venues: Venues | None = None, span: tuple[int, int] | None = None,
                    background: Sequence[Campaign] = (),
                    progress: Callable[[str], None] = _quiet) -> pd.DataFrame:
    """Curves per community x channel x segment for :func:`optimizer.allocate_budget`.

    ``reference``: the spend a year per channel around which the levels are taken (for
    example the budget over the number of channels). ``params`` sets the horizon and the
    agents; its campaigns are replaced by the sweep's. ``replications``: the most the sweep
    runs (it stops at :data:`MIN_REPLICATIONS` or later, as soon as every channel's uplift
    has a standard error within :data:`TARGET_SE`). ``venues``: community_event spend holds
    events at these venues, as in the scenario's own runs. ``span``: the weeks the swept
    campaigns run (default: all); ``background``: campaigns run in both arms (the curves
    are then the uplift on top of them: a re-plan's spend so far).
    """
    key = sweep_key(inputs, params, reference, levels, replications, seed, venues, span,
                    background)
    cached = cache_dir / f"curves-{key}.parquet" if cache_dir is not None else None
    sweep = _Sweep(span or (1, params.weeks), tuple(background))
    if cached is None:
        return _sweep_and_fit(inputs, params, reference, levels, replications, seed,
                              channels, venues, progress, sweep)
    cached.parent.mkdir(parents=True, exist_ok=True)
    with _locked(cached.with_suffix(".lock")):
        if cached.exists():
            progress(f"response curves from the cache ({cached.name})")
            return pd.read_parquet(cached)
        curves = _sweep_and_fit(inputs, params, reference, levels, replications, seed,
                                channels, venues, progress, sweep)
        tmp = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
        curves.to_parquet(tmp, index=False)
        tmp.replace(cached)
    return pd.read_parquet(cached)  # the same types as a later cache hit


@dataclasses.dataclass(frozen=True)
class _Sweep:
    """The swept campaigns' weeks and the campaigns run in both arms."""

    span: tuple[int, int]
    background: tuple[Campaign, ...]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` (POSIX advisory lock; a no-op where there is none)."""
    with open(path, "a+b") as handle:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _sweep_and_fit(inputs: pd.DataFrame, params: SimulationParams, reference: float,
                   levels: Sequence[float], replications: int, seed: int,
                   channels: Sequence[str], venues: Venues | None,
                   progress: Callable[[str], None], sweep: _Sweep) -> pd.DataFrame:
    from simulation.model import CommunityMarketModel

    seeds = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(
        max(replications, 1))]
    # at a calibration's estimates, not its draws (module docstring)
    base = dataclasses.replace(params, campaigns=sweep.background, events=(), draws=())
    weeks = base.weeks

    def totals(model: CommunityMarketModel) -> pd.DataFrame:
        ts = model.timeseries()
        by = ts.groupby(["community_id", "segment"])
        last = ts[ts["week"] == ts["week"].max()]
        held = customers_held(ts, ["community_id", "segment"])
        return pd.DataFrame({"new": by["new_customers"].sum(),
                             "deposits": last.groupby(["community_id", "segment"])[
                                 "deposits"].sum(),
                             "churned": by["churned"].sum(), "held": held})

    rows: list[pd.DataFrame] = []
    for rep, s in enumerate(seeds):
        # the reference arm: no campaign at all, or the background's campaigns alone
        reference_run = CommunityMarketModel(inputs, base, seed=s,
                                             counterfactual=not sweep.background,
                                             venues=venues).run()
        agents = reference_run.residents.customer.size
        cf = totals(reference_run)
        del reference_run
        release_freed_memory(agents)
        for channel in channels:
            for level in levels:
                spend = reference * level
                p = dataclasses.replace(base, campaigns=(
                    *sweep.background, Campaign(channel, spend, sweep.span)))
                t = totals(CommunityMarketModel(inputs, p, seed=s, venues=venues).run())
                release_freed_memory(agents)  # the model just run, at once
                # the uplift in new customers and deposits; the campaign arm's churn and
                # customers held (its customers' retention: scenarios.lifetime)
                uplift = (t[["new", "deposits"]] - cf[["new", "deposits"]]).assign(
                    churned=t["churned"], held=t["held"]).reset_index()
                uplift["channel"], uplift["spend"], uplift["replication"] = (
                    channel, spend, rep)
                rows.append(uplift)
        worst, which = _worst_error(pd.concat(rows, ignore_index=True))
        progress(f"response sweep: replication {rep + 1} ({len(channels) * len(levels)} "
                 "runs)" + (f", largest standard error {worst:.1%} of a channel's uplift "
                            f"({which})" if which else ""))
        if rep + 1 >= MIN_REPLICATIONS and worst <= TARGET_SE:
            break
    swept = pd.concat(rows, ignore_index=True)
    adults = float(inputs[["pop_18_35", "pop_36_55", "pop_56_plus"]].to_numpy().sum())
    curves = fit_curves(swept, inputs, margin=base.net_interest_margin,
                        balance_base=base.balance_base, reference=reference, weeks=weeks,
                        agent_scale=adults / min(base.max_agents, round(adults)))
    return curves.assign(sweep_se=worst, sweep_se_channel=which)


def _worst_error(sweep: pd.DataFrame) -> tuple[float, str]:
    """The largest standard error, over channels, of the channel's city uplift summed over
    the levels, as a share of it, and the channel; channels that bring under
    :data:`SMALL_CHANNEL` of the total are left out (their error is small beside the
    plan's)."""
    per = sweep.groupby(["channel", "replication"])["new"].sum().unstack("replication")
    if per.shape[1] < 2:
        return float("inf"), ""
    mean = per.mean(axis=1)
    relative = (per.std(axis=1, ddof=1) / np.sqrt(per.shape[1]) / mean)[
        mean > SMALL_CHANNEL * mean.clip(lower=0).sum()]
    if relative.empty:
        return 0.0, ""
    return float(relative.max()), str(relative.idxmax())


#: A fitted curve explaining less than this share of the sweep's variance is reported.
POOR_FIT_R2 = 0.8


def curve_notes(curves: pd.DataFrame) -> list[str]:
    """One line per channel whose curves are not plain good fits: segments where the
    sweep saw no response (a zero curve), fits that did not converge (a grid fit kept),
    and fits with R² below 0.8. Curves read from a file without ``fit`` say nothing."""
    if "fit" not in curves or "r2" not in curves:
        return []
    per = curves.drop_duplicates(["channel", "segment"])
    out = []
    if "sweep_se" in curves and float(curves["sweep_se"].iloc[0]) > TARGET_SE:
        out.append(f"the sweep stopped at {int(curves['sweep_replications'].iloc[0])} "
                   f"replications with a standard error of {curves['sweep_se'].iloc[0]:.1%} "
                   f"of {curves['sweep_se_channel'].iloc[0]}'s uplift, above the "
                   f"{TARGET_SE:.1%} aimed at: its curves are less certain (the plan's "
                   "check by simulation says by how much)")
    for channel, g in per.groupby("channel", sort=True):
        parts = []
        none = g.loc[g["fit"] == "no response", "segment"].tolist()
        if none:
            parts.append(f"{len(none)} of {len(g)} segments showed no response in the sweep "
                         f"and get a zero curve ({', '.join(none)})")
        grid = g.loc[g["fit"] == "grid", "segment"].tolist()
        if grid:
            parts.append(f"the fit did not converge for {', '.join(grid)} (a grid fit is "
                         "used)")
        poor = g[(g["fit"] != "no response") & (g["r2"] < POOR_FIT_R2)]
        if len(poor):
            parts.append("poor fits: " + ", ".join(f"{r.segment} R² {r.r2:.2f}"
                                                   for r in poor.itertuples()))
        if parts:
            out.append(f"{channel}: " + "; ".join(parts))
    return out


def curve_summary(curves: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per channel, how the curves were fitted: the worst segment curve's R², the share of
    the community uplift's variance the multipliers explain (``community_r2``), the
    multipliers' 10th, 50th and 90th percentiles, and the sweep's replications. Empty for
    curves read from a file without those columns."""
    need = {"r2", "multiplier", "community_r2", "sweep_replications"}
    if not need <= set(curves.columns):
        return {}
    out = {}
    for channel, g in curves.groupby("channel", sort=True):
        m = g.drop_duplicates("community_id")["multiplier"]
        out[str(channel)] = {
            "segment_r2_min": float(g["r2"].min()),
            "community_r2": float(g["community_r2"].iloc[0]),
            "multiplier_p10": float(m.quantile(0.1)), "multiplier_p50": float(m.median()),
            "multiplier_p90": float(m.quantile(0.9)),
            "sweep_replications": int(g["sweep_replications"].iloc[0])}
    return out
