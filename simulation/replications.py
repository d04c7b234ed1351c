"""Replications with a counterfactual: KPIs per replication, means and 95% intervals."""

from __future__ import annotations

import ctypes
import gc
import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special  # stdtrit: the t quantile (scipy.stats takes 0.6 s to import)

from simulation.errors import SimulationError
from simulation.params import CHANNELS, CUSTOMER_STAGES, SimulationParams, replication_params
from simulation.population import Venues

__all__ = ["KPI_NAMES", "ReplicationResult", "channel_totals", "community_uplift", "kpis",
           "new_customers_by_replication", "release_freed_memory", "replication_seeds",
           "run_replications",
           "summarize", "t_interval"]

KPI_NAMES: tuple[str, ...] = (
    "new_customers", "counterfactual_new_customers", "uplift_new_customers", "spend",
    "cost_per_acquisition", "customers_start", "churned", "churn_rate", "retention",
    "yearly_attrition", "penetration",
    "deposits", "uplift_deposits", "roi", "event_attendance", "uplift_18_35", "uplift_36_55",
    "uplift_56_plus", "uplift_income_low", "uplift_income_middle", "uplift_income_high",
    *(f"uplift_{band}_{tier}" for band in ("18_35", "36_55", "56_plus")
      for tier in ("low", "middle", "high")),
)
#: Age bands of the per-band uplift KPIs.
_BAND_KPIS = (("18-35", "uplift_18_35"), ("36-55", "uplift_36_55"), ("56+", "uplift_56_plus"))
_TIERS = ("low", "middle", "high")


def kpis(model: object, counterfactual: object, adults: float,
         tables: tuple[pd.DataFrame, pd.DataFrame] | None = None) -> dict[str, float]:
    """KPIs of one replication from a campaign run and its counterfactual.

    ``cost_per_acquisition`` = spend / uplift in new customers (NaN without uplift);
    ``customers_start`` = customers at the start; ``churned`` = churn events over the
    run (new customers who leave again included); ``retention`` = the share of the
    customers at the start who never churned during the run, ``churn_rate`` = 1 -
    retention (the share of them who churned at least once), ``yearly_attrition`` =
    1 - retention ** (52 / weeks); ``roi`` = a year's net interest margin
    on the uplift in deposits, over the spend; ``event_attendance`` = visits to events
    (community_event campaigns and planned events) over the horizon; ``uplift_18_35``,
    ``uplift_36_55``, ``uplift_56_plus`` = the uplift in new customers per age band;
    ``uplift_income_low``, ``_middle``, ``_high`` per income tier; ``uplift_18_35_low``
    and so on per segment, their crossing. ``tables``: the two runs' timeseries where
    the caller has them already.
    """
    ts, cf = tables if tables is not None else (
        model.timeseries(), counterfactual.timeseries())  # type: ignore[attr-defined]
    weekly = model.channel_series()  # type: ignore[attr-defined]
    spend = float(weekly["spend"].sum())
    new, new_cf = float(ts["new_customers"].sum()), float(cf["new_customers"].sum())
    last = ts[ts["week"] == ts["week"].max()]
    last_cf = cf[cf["week"] == cf["week"].max()]
    deposits, deposits_cf = float(last["deposits"].sum()), float(last_cf["deposits"].sum())
    r = model.residents  # type: ignore[attr-defined]
    start = float(r.customer.sum() * r.scale)
    retention = (float(model.stayed.sum() * r.scale) / start  # type: ignore[attr-defined]
                 if start else float("nan"))
    weeks = int(ts["week"].max())
    customers_end = float(last[list(CUSTOMER_STAGES)].sum().sum())
    uplift = new - new_cf
    margin = model.params.net_interest_margin  # type: ignore[attr-defined]
    return {
        "new_customers": new, "counterfactual_new_customers": new_cf,
        "uplift_new_customers": uplift, "spend": spend,
        "cost_per_acquisition": spend / uplift if uplift > 0 else float("nan"),
        "customers_start": start,
        "churned": float(ts["churned"].sum()),
        "churn_rate": 1 - retention, "retention": retention,
        "yearly_attrition": 1 - retention ** (52 / weeks),
        "penetration": customers_end / adults if adults else float("nan"),
        "deposits": deposits, "uplift_deposits": deposits - deposits_cf,
        "roi": (deposits - deposits_cf) * margin / spend if spend else float("nan"),
        "event_attendance": float(weekly["event_attendance"].sum()),
        **_uplift_by_band(ts, cf),
    }


def _uplift_by_band(ts: pd.DataFrame, cf: pd.DataFrame) -> dict[str, float]:
    """Uplift in new customers per age band, per income tier, and per segment (their
    crossing, ``<band>/<tier>``: ``uplift_56_plus_low``)."""
    run = ts.groupby("segment")["new_customers"].sum()
    base = cf.groupby("segment")["new_customers"].sum()
    diff = run.sub(base, fill_value=0.0)
    band = diff.index.str.split("/").str[0]
    tier = diff.index.str.split("/").str[1]
    out = {key: float(diff[band == name].sum()) for name, key in _BAND_KPIS}
    out |= {f"uplift_income_{t}": float(diff[tier == t].sum()) for t in _TIERS}
    for name, key in _BAND_KPIS:
        out |= {f"{key}_{t}": float(diff[(band == name) & (tier == t)].sum()) for t in _TIERS}
    return out


def community_uplift(timeseries: pd.DataFrame, counterfactual: pd.DataFrame,
                     level: float = 0.95) -> pd.DataFrame:
    """Uplift in new customers by community over replications (the campaign arm's new
    customers less its counterfactual's, replication by replication): ``mean``, ``low``,
    ``high`` (Student-t), ``p10``, ``p90`` (order statistics), indexed by community."""
    keys = ["replication", "community_id"]
    diff = (timeseries.groupby(keys)["new_customers"].sum()
            .sub(counterfactual.groupby(keys)["new_customers"].sum(), fill_value=0.0)
            .unstack("community_id").fillna(0.0))
    rows = {}
    for community, x in diff.items():
        mean, _, low, high, _ = t_interval(x.to_numpy(float), level)
        p10, p90 = np.quantile(x.to_numpy(float), [0.1, 0.9], method="inverted_cdf")
        rows[community] = {"mean": mean, "low": low, "high": high, "p10": float(p10),
                           "p90": float(p90)}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("community_id")


def t_interval(x: np.ndarray, level: float = 0.95) -> tuple[float, float, float, float, int]:
    """(mean, sd, low, high, n) of the finite values of ``x``: a Student-t interval."""
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = x.size
    mean = float(x.mean()) if n else float("nan")
    sd = float(x.std(ddof=1)) if n > 1 else float("nan")
    half = float(special.stdtrit(n - 1, 0.5 + level / 2) * sd / np.sqrt(n)) if n > 1 else (
        float("nan"))
    return mean, sd, mean - half, mean + half, n


def summarize(per_replication: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """Mean, standard deviation and a Student-t interval of each KPI over replications."""
    rows = {}
    for name in per_replication.columns:
        mean, sd, low, high, n = t_interval(
            per_replication[name].dropna().to_numpy(dtype=np.float64), level)
        rows[name] = {"mean": mean, "sd": sd, "low": low, "high": high, "replications": n}
    return pd.DataFrame(rows).T


def channel_totals(model: object) -> pd.DataFrame:
    """Spend, residents reached and new customers credited per channel over a run
    (``organic`` last, with its credit only)."""
    weekly = model.channel_series()  # type: ignore[attr-defined]
    rows = [{"channel": ch, "spend": float(weekly[f"spend_{ch}"].sum()),
             "exposed": float(weekly[f"exposed_{ch}"].sum()),
             "won": float(weekly[f"won_{ch}"].sum())} for ch in CHANNELS]
    rows.append({"channel": "organic", "spend": 0.0, "exposed": 0.0,
                 "won": float(weekly["won_organic"].sum())})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class ReplicationResult:
    """KPIs per replication (a row each), their summary, the weekly series, and the
    campaign runs' totals per channel (``replication``, ``channel``, ``spend``,
    ``exposed``, ``won``)."""

    per_replication: pd.DataFrame
    summary: pd.DataFrame
    timeseries: pd.DataFrame
    counterfactual: pd.DataFrame
    channels: pd.DataFrame


def replication_seeds(seed: int, replications: int) -> list[int]:
    """The model seed of each replication, spawned from ``seed`` (numpy SeedSequence): the
    first ``n`` are the same whatever the number asked for, so a shorter run pairs with
    the first replications of a longer one."""
    if replications < 1:
        raise SimulationError(f"replications = {replications}: expected at least 1")
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(
        replications)]


def new_customers_by_replication(inputs: pd.DataFrame, params: SimulationParams, *,
                                 replications: int, seed: int,
                                 capacity: pd.Series | None = None,
                                 venues: Venues | None = None) -> np.ndarray:
    """New customers of each replication of a campaign run, without its counterfactual:
    with the seeds of :func:`run_replications`, the difference between two plans run
    this way is their paired difference in uplift (the counterfactual is the same)."""
    from simulation.model import CommunityMarketModel

    out = []
    for i, s in enumerate(replication_seeds(seed, replications)):
        model = CommunityMarketModel(inputs, replication_params(params, i), capacity=capacity,
                                     seed=s, venues=venues).run()
        out.append(model.new_customers_total())
        agents = model.residents.customer.size
        del model
        release_freed_memory(agents)
    return np.asarray(out)


def run_replications(inputs: pd.DataFrame, params: SimulationParams, *, replications: int,
                     seed: int, capacity: pd.Series | None = None,
                     venues: Venues | None = None,
                     on_replication: Callable[[int, int], None] | None = None
                     ) -> ReplicationResult:
    """Run ``replications`` campaign runs, each beside a counterfactual with the same
    random numbers; replication seeds are spawned from ``seed`` (numpy SeedSequence), so
    results do not depend on how replications are spread over workers. ``venues``: event
    venues (community_event campaigns and ``params.events`` are held there);
    ``on_replication(done, replications)`` is called after each replication."""
    from simulation.model import CommunityMarketModel

    seeds = replication_seeds(seed, replications)
    adults = float(inputs[["pop_18_35", "pop_36_55", "pop_56_plus"]].to_numpy().sum())
    rows: list[dict[str, float]] = []
    series: list[dict[str, np.ndarray]] = []
    series_cf: list[dict[str, np.ndarray]] = []
    channels = []
    for i, s in enumerate(seeds):
        drawn = replication_params(params, i)  # a calibration's draw: both arms alike
        model = CommunityMarketModel(inputs, drawn, capacity=capacity, seed=s,
                                     venues=venues).run()
        cf = CommunityMarketModel(inputs, drawn, capacity=capacity, seed=s,
                                  counterfactual=True, venues=venues).run()
        columns, columns_cf = model.timeseries_columns(), cf.timeseries_columns()
        tables = (pd.DataFrame(columns, copy=False), pd.DataFrame(columns_cf, copy=False))
        rows.append({"replication": i, **kpis(model, cf, adults, tables)})
        for kept, cols in ((series, columns), (series_cf, columns_cf)):
            if cols:
                cols["replication"] = np.full(len(cols["week"]), i)
                kept.append(cols)
        channels.append(channel_totals(model).assign(replication=i))
        agents = model.residents.customer.size
        del model, cf, tables
        release_freed_memory(agents)
        if on_replication is not None:
            on_replication(i + 1, replications)
    per = pd.DataFrame(rows).set_index("replication")
    return ReplicationResult(per_replication=per, summary=summarize(per),
                             timeseries=_joined(series), counterfactual=_joined(series_cf),
                             channels=pd.concat(channels, ignore_index=True))


def _joined(parts: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    """The replications' tables one under another, a column at a time: each part's column
    is let go once joined (so at most one column is held twice)."""
    if not parts:
        return pd.DataFrame()
    names = list(parts[0])
    columns = {name: np.concatenate([part.pop(name) for part in parts]) for name in names}
    return pd.DataFrame(columns, copy=False)


#: Models at least this large (agents) are collected as soon as they are done with
#: (each holds about 40 MB at 50,000 agents; smaller ones are left to Python's collector,
#: since a forced collection costs about as much as a small model's run).
COLLECT_FROM_AGENTS = 50_000


def release_freed_memory(agents: int = COLLECT_FROM_AGENTS) -> None:
    """Free what the last model (of ``agents`` agents) left and hand it back to the
    system; nothing for small models.

    A model and its agents refer to each other, so they are freed only by Python's cycle
    collector, which runs when it sees fit: over a city's 20 replications (200,000
    agents) the resident size grew by 0.23 GB a replication, to 4.7 GB for 1 GB of
    tables. The collection is forced here, and glibc's ``malloc_trim`` returns the freed
    pages (nothing elsewhere)."""
    if agents < COLLECT_FROM_AGENTS:
        return
    gc.collect()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018 - musl has none
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _libc()
