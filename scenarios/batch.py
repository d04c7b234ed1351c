"""Batches of scenarios: sweeps expanded, runs spread over local worker processes or a Dask
cluster, complete runs skipped by hash, a failing scenario reported without stopping the
others.

Each run's random numbers come from its own scenario's seed, so results do not depend on
the number of workers or on the backend.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from geo.errors import InputError, Problem
from scenarios._sweep_size import SWEEP_AGENTS
from scenarios.schema import (
    LHS,
    Scenario,
    ScenarioError,
    load_scenario,
    number_type,
    set_dotted,
)

__all__ = ["BatchItem", "expand_sweep", "latin_hypercube", "run_batch"]


@dataclass(frozen=True)
class BatchItem:
    """One scenario of a batch: ``status`` is complete, skipped or failed."""

    name: str
    status: str
    run_id: str | None
    path: str | None
    seconds: float
    error: str | None = None


def expand_sweep(scenario: Scenario) -> list[Scenario]:
    """The scenario itself, or one scenario per point of its ``[sweep]`` design.

    Grid keys (lists of values) give every combination, named ``<name>--<key>_<value>...``;
    a ``[sweep.latin_hypercube]`` table gives ``samples`` draws of its ``[low, high]``
    ranges (:func:`latin_hypercube`), named ``...--lhs_<i>``, crossed with the grid if both
    are given. Every point keeps the scenario's seed, so points differ only by their design
    values (common random numbers).
    """
    if not scenario.sweep:
        return [scenario]
    base = scenario.model_dump(mode="json")
    base.pop("sweep", None)
    grid = {k: v for k, v in scenario.sweep.items() if k != LHS}
    points: list[list[tuple[str, Any, str]]] = [
        [(k, v, f"{k.split('.')[-1]}_{v}") for k, v in zip(sorted(grid), values, strict=True)]
        for values in itertools.product(*(grid[k] for k in sorted(grid)))]
    design = scenario.sweep.get(LHS)
    if design is not None:
        settings = {k: design[k] for k in ("samples", "seed") if k in design}
        ranges = {k: tuple(v) for k, v in design.items() if k not in settings}
        integer = {k for k in ranges if number_type(k) is int}
        draws = latin_hypercube(ranges, samples=settings["samples"],
                                seed=settings.get("seed", scenario.seed), integer=integer)
        width = len(str(len(draws)))
        points = [point + [(k, v, "") for k, v in draw.items()] + [("", None, f"lhs_{i:0{width}d}")]
                  for point in points for i, draw in enumerate(draws, start=1)]
    out = []
    for point in points:
        raw = dict(base)
        for key, value, _ in point:
            if key:
                raw = set_dotted(raw, key, value)
        label = "--".join(lab for _, _, lab in point if lab)
        raw["name"] = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{scenario.name}--{label}")
        out.append(Scenario.model_validate(raw))
    return out


def latin_hypercube(ranges: dict[str, tuple[float, float]], *, samples: int, seed: int,
                    integer: Iterable[str] = ()) -> list[dict[str, Any]]:
    """``samples`` points of a Latin hypercube over ``ranges`` (each ``(low, high)``).

    Each key's range is cut into ``samples`` equal strata and every stratum holds exactly
    one point (scipy's scrambled :class:`~scipy.stats.qmc.LatinHypercube`, drawn from
    ``seed``). Keys in ``integer`` take whole numbers: ``low + floor(u (high - low + 1))``,
    so each whole number is equally likely and the strata stay one point each whenever
    ``samples`` divides the count of whole numbers.
    """
    from scipy.stats import qmc

    keys = sorted(ranges)
    whole = set(integer)
    if not keys:
        return [{} for _ in range(samples)]
    unit = qmc.LatinHypercube(d=len(keys), rng=np.random.default_rng(seed)).random(samples)
    out = []
    for row in unit:
        draw: dict[str, Any] = {}
        for key, u in zip(keys, row, strict=True):
            low, high = ranges[key]
            if key in whole:
                draw[key] = int(min(high, low + int(np.floor(u * (high - low + 1)))))
            else:
                draw[key] = float(low + u * (high - low))
        out.append(draw)
    return out


def _run_one(raw: dict[str, Any], runs_dir: str, resume: bool) -> dict[str, Any]:
    """Run one scenario in a worker; errors come back as data, not exceptions."""
    import time
    import warnings

    from scenarios.run import run_scenario

    start = time.perf_counter()
    scenario = Scenario.model_validate(raw)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = run_scenario(scenario, runs_dir=runs_dir, resume=resume)
    except Exception as exc:  # noqa: BLE001 - reported per scenario, the batch goes on
        kind = "infeasible" if type(exc).__name__ == "PlanInfeasibleError" else (
            "bad input" if isinstance(exc, InputError) else "internal error")
        return {"name": scenario.name, "status": "failed", "run_id": None, "path": None,
                "seconds": time.perf_counter() - start,
                "error": f"{kind}: {type(exc).__name__}: {exc}"}
    return {"name": scenario.name, "status": result.status, "run_id": result.run_id,
            "path": str(result.path), "seconds": result.seconds, "error": None}


def load_batch(paths: Iterable[str | Path]) -> list[Scenario]:
    """Every scenario of the files, sweeps expanded; all files' problems at once."""
    scenarios: list[Scenario] = []
    problems: list[Problem] = []
    for p in paths:
        try:
            scenarios.extend(expand_sweep(load_scenario(p)))
        except ScenarioError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ScenarioError(f"{len(problems)} problem(s) in the batch", problems)
    names = [s.name for s in scenarios]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"scenario name(s) {dup} appear more than once in the batch; "
                         "give each scenario its own name")
    return scenarios


def _sweep_signature(sc: Scenario) -> str:
    """What a scenario's response sweep depends on, from the scenario alone: two
    scenarios with the same signature share one (cached) sweep."""
    if not sc.budget.enabled or sc.budget.curves is not None:
        return f"none:{sc.name}"
    return json.dumps([sc.area, sc.outlets.model_dump(mode="json"), sc.budget.total, sc.seed,
                       sc.simulation.weeks, min(sc.simulation.max_agents, SWEEP_AGENTS),
                       sc.simulation.customer_share, sc.events.max_walk_minutes],
                      sort_keys=True)


def sweeps_first(todo: Sequence[Scenario]) -> list[int]:
    """The order to start scenarios in: the first scenario of each sweep, then the others
    in their order, so that workers do not wait on one another's sweep (the cache lets
    one process compute a sweep while the others that need it wait)."""
    seen: set[str] = set()
    first: list[int] = []
    rest: list[int] = []
    for i, sc in enumerate(todo):
        key = _sweep_signature(sc)
        (rest if key in seen else first).append(i)
        seen.add(key)
    return first + rest


def run_batch(scenarios: Sequence[Scenario | str | Path], *, runs_dir: str | Path = "runs",
              workers: int | None = None, scheduler: str | None = None, resume: bool = True,
              on_done: Callable[[BatchItem], None] | None = None) -> list[BatchItem]:
    """Run scenarios (files are loaded and their sweeps expanded), on ``workers`` local
    processes (default: the CPUs, at most the number of scenarios) or on the Dask
    cluster at ``scheduler``. Returns one item per scenario in the input order."""
    items = [s for s in scenarios if isinstance(s, Scenario)]
    files = [s for s in scenarios if not isinstance(s, Scenario)]
    todo = [x for s in items for x in expand_sweep(s)] + load_batch(files)
    for area in sorted({s.area for s in todo}):
        from geo.area import resolve_area_path  # geopandas: only when running

        resolve_area_path(area)  # generate built-in areas once, before the workers start
    raws = [s.model_dump(mode="json") for s in todo]
    results: dict[int, BatchItem] = {}
    order = sweeps_first(todo)

    def record(i: int, data: dict[str, Any]) -> None:
        item = BatchItem(**data)
        results[i] = item
        if on_done is not None:
            on_done(item)

    if scheduler is not None:
        from distributed import Client
        from distributed import as_completed as dask_completed

        with Client(scheduler) as client:
            futures = {client.submit(_run_one, raws[i], str(runs_dir), resume, pure=False): i
                       for i in order}
            for fut in dask_completed(futures):
                record(futures[fut], fut.result())
    else:
        import os

        n = max(1, min(workers or os.cpu_count() or 1, len(raws)))
        if n == 1:
            for i in order:
                record(i, _run_one(raws[i], str(runs_dir), resume))
        else:
            with ProcessPoolExecutor(max_workers=n) as pool:
                local: dict[Future[dict[str, Any]], int] = {
                    pool.submit(_run_one, raws[i], str(runs_dir), resume): i
                    for i in order}
                for fut in as_completed(local):
                    record(local[fut], fut.result())
    return [results[i] for i in range(len(raws))]
