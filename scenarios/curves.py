"""Response curves from simulation sweeps: the budget optimizer's inputs.

For each channel the simulation runs a city-wide campaign at a few spend levels (all weeks,
all residents) beside one counterfactual with the same random numbers; the uplift in new
customers per segment is fitted with a concave curve (optimizer.fit_response_curve), and
each community gets its share of that curve by its share of the uplift (shrunk towards its
share of the segment's adults, so a small community's noise does not decide its curve):
``rmax_c = share_c x rmax`` and ``k_c = share_c x k``, so the community curves add up to the
city curve when spend follows the shares.

Sweeps are cached under ``cache_dir`` by the hash of everything they depend on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer import OptimizerInputError, fit_response_curve
from scenarios._fingerprint import code_fingerprint
from scenarios._sweep_size import LEVELS
from simulation import CHANNELS, SEGMENTS, Campaign, SimulationParams, Venues

__all__ = ["LEVELS", "POOR_FIT_R2", "curve_notes", "simulate_curves", "sweep_key"]

SHRINK = 0.25  # weight of the adults prior in a community's share


def _quiet(message: str) -> None:
    del message


def sweep_key(inputs: pd.DataFrame, params: SimulationParams, reference: float,
              levels: Sequence[float], replications: int, seed: int,
              venues: Venues | None = None) -> str:
    """The hash of a sweep's inputs: community inputs, venues, parameters, levels, seeds."""
    h = hashlib.sha256()
    frames = [inputs] if venues is None else [inputs, venues.table, venues.minutes]
    for frame in frames:
        h.update(pd.util.hash_pandas_object(frame.sort_index(axis=1), index=True).to_numpy()
                 .tobytes())
    h.update(repr(params).encode())
    h.update(json.dumps([reference, list(levels), replications, seed, "v3",
                         code_fingerprint()]).encode())
    return h.hexdigest()[:16]


def _segment_adults(inputs: pd.DataFrame) -> pd.DataFrame:
    """Adults per community and segment (age band x income tier) from the shares."""
    low = inputs["income_low_share"].to_numpy(float)
    high = inputs["income_high_share"].to_numpy(float)
    tiers = np.column_stack([low, np.clip(1 - low - high, 0, 1), high])
    bands = inputs[["pop_18_35", "pop_36_55", "pop_56_plus"]].to_numpy(float)
    data = {SEGMENTS[a * 3 + t]: bands[:, a] * tiers[:, t] for a in range(3) for t in range(3)}
    return pd.DataFrame(data, index=inputs.index)


def simulate_curves(inputs: pd.DataFrame, params: SimulationParams, *, reference: float,
                    levels: Sequence[float] = LEVELS, replications: int = 1, seed: int = 0,
                    channels: Sequence[str] = CHANNELS, cache_dir: Path | None = None,
                    venues: Venues | None = None,
                    progress: Callable[[str], None] = _quiet) -> pd.DataFrame:
    """Curves per community x channel x segment for :func:`optimizer.allocate_budget`.

    ``reference``: the spend a year per channel around which the levels are taken (for
    example the budget over the number of channels). ``params`` sets the horizon and the
    agents; its campaigns are replaced by the sweep's. ``venues``: community_event spend
    holds events at these venues, as in the scenario's own runs.
    """
    key = sweep_key(inputs, params, reference, levels, replications, seed, venues)
    cached = cache_dir / f"curves-{key}.parquet" if cache_dir is not None else None
    if cached is not None and cached.exists():
        progress(f"response curves from the cache ({cached.name})")
        return pd.read_parquet(cached)
    from simulation.model import CommunityMarketModel

    seeds = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(
        replications)]
    base = dataclasses.replace(params, campaigns=(), events=())
    weeks = base.weeks

    def totals(model: CommunityMarketModel) -> pd.DataFrame:
        ts = model.timeseries()
        new = ts.groupby(["community_id", "segment"])["new_customers"].sum()
        last = ts[ts["week"] == ts["week"].max()]
        dep = last.groupby(["community_id", "segment"])["deposits"].sum()
        return pd.DataFrame({"new": new, "deposits": dep})

    counterfactual = []
    for s in seeds:
        counterfactual.append(totals(CommunityMarketModel(
            inputs, base, seed=s, counterfactual=True, venues=venues).run()))
    rows = []
    runs = len(channels) * len(levels) * len(seeds)
    done = 0
    for channel in channels:
        for level in levels:
            spend = reference * level
            p = dataclasses.replace(base, campaigns=(Campaign(channel, spend, (1, weeks)),))
            for s, cf in zip(seeds, counterfactual, strict=True):
                t = totals(CommunityMarketModel(inputs, p, seed=s, venues=venues).run())
                uplift = (t - cf).reset_index()
                uplift["channel"], uplift["spend"] = channel, spend
                rows.append(uplift)
                done += 1
            progress(f"response sweep: {channel} at {spend:,.0f} ({done}/{runs} runs)")
    sweep = pd.concat(rows, ignore_index=True)
    curves = _fit_curves(sweep, inputs, replications, base.net_interest_margin,
                         base.balance_base, reference)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
        curves.to_parquet(tmp, index=False)
        tmp.replace(cached)
        return pd.read_parquet(cached)  # the same types as a later cache hit
    return curves


def _fit_curves(sweep: pd.DataFrame, inputs: pd.DataFrame, replications: int, margin: float,
                balance_base: float, reference: float) -> pd.DataFrame:
    adults = _segment_adults(inputs)
    # value of a new customer per segment: a year's margin on the deposits the uplift
    # brought, pooled over channels and levels
    pooled = sweep.groupby("segment")[["new", "deposits"]].sum()
    value = (pooled["deposits"] / pooled["new"].where(pooled["new"] > 0) * margin).clip(lower=0)
    value = value.fillna(balance_base * margin)
    out = []
    for (channel, segment), g in sweep.groupby(["channel", "segment"]):
        city = g.groupby("spend")["new"].sum() / replications
        spend = np.concatenate([[0.0], city.index.to_numpy(float)])
        resp = np.concatenate([[0.0], city.clip(lower=0).to_numpy(float)])
        try:
            fit = fit_response_curve(spend, resp)
            form, rmax, k, h, r2, how = fit.form, fit.rmax, fit.k, fit.h, fit.r2, "fitted"
        except OptimizerInputError:  # the sweep saw no response grow with spend
            form, rmax, k, h, r2, how = "exponential", 0.0, reference, 1.0, float("nan"), (
                "no response")
        except RuntimeError:  # the least-squares search did not converge
            rmax, k, r2 = _exponential_on_a_grid(spend, resp)
            form, h, how = "exponential", 1.0, "grid"
        # nobody is won twice: a curve that would pass the segment's adults is scaled
        # down along both axes (same first slope, earlier saturation)
        ceiling = float(adults[segment].sum())
        if rmax > ceiling > 0:
            k, rmax = k * ceiling / rmax, ceiling
        by_c = g.groupby("community_id")["new"].sum().clip(lower=0)
        prior = adults[segment] / max(float(adults[segment].sum()), 1e-12)
        uplift_share = by_c.reindex(inputs.index, fill_value=0.0)
        total = float(uplift_share.sum())
        uplift_share = uplift_share / total if total > 0 else prior
        share = (1 - SHRINK) * uplift_share + SHRINK * prior
        keep = share > 1e-9
        out.append(pd.DataFrame({
            "community_id": inputs.index[keep], "channel": channel, "segment": segment,
            "form": form, "rmax": rmax * share[keep].to_numpy(),
            "k": k * share[keep].to_numpy(), "h": h,
            "value_per_customer": float(value.get(segment, balance_base * margin)),
            "r2": r2, "fit": how}))
    return pd.concat(out, ignore_index=True)


def _exponential_on_a_grid(spend: np.ndarray, resp: np.ndarray) -> tuple[float, float, float]:
    """rmax (1 - exp(-s / k)) by least squares: rmax in closed form for each k of a
    geometric grid, the best k kept; always an answer. Returns (rmax, k, R²)."""
    best = (0.0, float(spend.max()), -np.inf, np.inf)
    for k in np.geomspace(spend[spend > 0].min() / 10, spend.max() * 100, 400):
        basis = -np.expm1(-spend / k)
        rmax = max(float(basis @ resp / max(basis @ basis, 1e-300)), 0.0)
        sse = float(((resp - rmax * basis) ** 2).sum())
        if sse < best[3]:
            ss_tot = float(((resp - resp.mean()) ** 2).sum())
            best = (rmax, float(k), 1 - sse / ss_tot if ss_tot > 0 else 1.0, sse)
    return best[0], best[1], best[2]


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
