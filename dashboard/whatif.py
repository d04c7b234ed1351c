"""What-if runs from the dashboard: a run's scenario with some keys changed, checked by the
scenario schema, run in the background with its progress kept for the page to show.

The form's fields name scenario keys; nothing the user types is evaluated: values are
numbers, booleans or a name, validated by pydantic before anything runs.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from geo._pydantic import validation_problems
from geo.errors import InputError, SitesimError
from scenarios.schema import Scenario, set_dotted

__all__ = ["CAMPAIGN_FIELDS", "FIELDS", "GROUPS", "Jobs", "build_scenario", "form_values"]

#: The form: field id -> (scenario key, label).
FIELDS: dict[str, tuple[str, str]] = {
    "budget-total": ("budget.total", "budget a year (budget.total)"),
    "w-youth": ("scoring.weights.youth_share", "weight: youth share"),
    "w-income": ("scoring.weights.income", "weight: income"),
    "w-access": ("scoring.weights.access_gap", "weight: access gap"),
    "w-competition": ("scoring.weights.competition", "weight: competition (cost)"),
    "outlets-enabled": ("outlets.enabled", "plan new outlets"),
    "capex": ("outlets.capex_budget", "outlet capex budget"),
    "max-atm": ("outlets.max_new.smart_atm", "new smart ATMs at most"),
    "max-micro": ("outlets.max_new.micro_branch", "new micro-branches at most"),
    "max-van": ("outlets.max_new.mobile_van", "new mobile vans at most"),
    "ev-literacy": ("events.count.financial_literacy", "financial-literacy events"),
    "ev-fraud": ("events.count.anti_fraud", "anti-fraud events"),
    "ev-parent": ("events.count.parent_child", "parent-child events"),
    "b-maintenance": ("budget.policy.maintenance", "split: maintenance share"),
    "b-growth": ("budget.policy.growth", "split: growth share"),
    "b-brand": ("budget.policy.brand", "split: brand share"),
    "b-reserve": ("budget.policy.reserve", "split: reserve share"),
    "online-min": ("budget.online_share.min", "online share: at least"),
    "online-max": ("budget.online_share.max", "online share: at most"),
    "online-exact": ("budget.online_share.exact", "online share: exactly"),
    "t-roi": ("targets.min_roi", "ROI at least"),
    "t-cac": ("targets.max_cac", "cost per acquisition at most"),
    "t-retention": ("targets.min_retention", "retention a year at least"),
    "t-online": ("targets.online_share", "online share of the spend"),
    "replications": ("simulation.replications", "replications"),
    "agents": ("simulation.max_agents", "agents"),
}
#: The form's groups: a scenario table -> its heading.
GROUPS = {"budget": "Budget", "scoring": "Scoring weights", "outlets": "Outlets",
          "events": "Events", "targets": "Targets (marked in every comparison)",
          "simulation": "Simulation"}
#: The online share's fields together make the budget's rule (blank all: the run's rule).
_ONLINE = ("online-min", "online-max", "online-exact")


#: The form's campaign to add: field id -> label. Text fields are lists separated by commas.
CAMPAIGN_FIELDS: dict[str, str] = {
    "c-channel": "add a campaign: channel",
    "c-segments": "segments (such as 18-35, 56+/low; blank: everyone)",
    "c-first": "from week",
    "c-last": "to week",
    "c-spend": "spend",
    "c-communities": "community ids (blank: all)",
}


def _campaign(values: dict[str, Any], weeks: int) -> dict[str, Any] | None:
    """The campaign the form adds (None when no channel is chosen)."""
    channel = values.get("c-channel")
    if not channel:
        return None

    def items(fid: str) -> list[str]:
        text = values.get(fid) or ""
        return [t.strip() for t in str(text).split(",") if t.strip()]

    first, last = values.get("c-first"), values.get("c-last")
    out: dict[str, Any] = {"channel": channel, "segments": items("c-segments"),
                           "weeks": [1 if first in (None, "") else first,
                                     weeks if last in (None, "") else last],
                           "communities": items("c-communities")}
    if values.get("c-spend") not in (None, ""):
        out["spend"] = values["c-spend"]
    return out


def _get(raw: dict[str, Any], dotted: str) -> Any:
    node: Any = raw
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def form_values(scenario: dict[str, Any]) -> dict[str, Any]:
    """The form's fields filled from a resolved scenario (a run manifest's ``scenario``)."""
    return {fid: _get(scenario, key) for fid, (key, _) in FIELDS.items()}


def build_scenario(base: dict[str, Any], values: dict[str, Any], name: str
                   ) -> tuple[Scenario | None, list[str]]:
    """The base scenario with the form's values set (a blank field keeps the base's
    value) and the form's campaign added after the base's, and every problem, one line each
    with its key path."""
    raw = {k: v for k, v in base.items() if k != "sweep"}
    problems: list[str] = []
    name = (name or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        problems.append(f"name: {name!r} is not a scenario name; use letters, digits, _ . - "
                        "(starting with a letter or digit)")
        name = "what-if"  # reported once, here
    raw["name"] = name
    raw["description"] = f"what-if from {base.get('name', '?')} in the dashboard"
    for fid, (key, _) in FIELDS.items():
        value = values.get(fid)
        if value is None or value == "" or fid in _ONLINE:
            continue
        raw = set_dotted(raw, key, value)
    online = {FIELDS[f][0].rsplit(".", 1)[1]: values[f] for f in _ONLINE
              if values.get(f) not in (None, "")}
    if online:  # the fields filled make the rule; a bound left blank is no bound
        raw = set_dotted(raw, "budget.online_share", online)
    weeks = _get(raw, "simulation.weeks") or 52
    added = _campaign(values, int(weeks) if isinstance(weeks, int) else 52)
    if added is not None:
        raw["campaigns"] = [*(raw.get("campaigns") or []), added]
    scenario: Scenario | None = None
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        problems.extend(p.line().removeprefix("error: what-if: ")
                        for p in validation_problems(exc, "what-if", "", Scenario))
    problems += _area_problems(scenario, raw, added)
    return (None, problems) if problems else (scenario, [])


def _area_problems(scenario: Scenario | None, raw: dict[str, Any],
                   added: dict[str, Any] | None) -> list[str]:
    """What ``sitesim validate`` checks on the area (scenarios.preflight: community ids,
    staffing, events); with a scenario the schema refused, the added campaign's community
    ids still, so that every problem shows at once."""
    from geo import read_area_index
    from scenarios.preflight import preflight, unknown_communities

    try:
        index = read_area_index(str(raw.get("area") or "builtin:sample-city"))
    except InputError as exc:
        return [f"area: {line.removeprefix('error: ')}" for line in exc.lines()]
    if scenario is not None:
        checked = preflight(scenario, index)
        return [*(p.line().removeprefix("error: ").removeprefix(f"{scenario.name}: ")
                  for p in checked.problems),
                *(f"infeasible: {reason}" for reason in checked.infeasible)]
    at = len(raw.get("campaigns") or []) - 1
    problem = unknown_communities(f"campaigns[{at}].communities",
                                  (added or {}).get("communities") or [], index)
    return [] if problem is None else [problem.line().removeprefix("error: ")]


@dataclass
class Job:
    """A what-if run: ``state`` is queued, running, complete, skipped or failed."""

    name: str
    base: str | None = None  # the run it started from
    state: str = "queued"
    message: str = "waiting for the worker"
    run_id: str | None = None
    started: float = field(default_factory=time.time)


class Jobs:
    """Runs scenarios one at a time on a background thread; progress per job."""

    def __init__(self, runs_dir: str | Path) -> None:
        self.runs_dir = Path(runs_dir)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sitesim-whatif")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def submit(self, scenario: Scenario, base: str | None = None) -> str:
        """Queue a run (started from the run ``base``); returns the job id."""
        job_id = uuid.uuid4().hex[:12]
        with self._lock:
            self._jobs[job_id] = Job(scenario.name, base)
        self._pool.submit(self._run, job_id, scenario)
        return job_id

    def _set(self, job_id: str, **changes: Any) -> None:
        with self._lock:
            job = self._jobs[job_id]
            for k, v in changes.items():
                setattr(job, k, v)

    def _run(self, job_id: str, scenario: Scenario) -> None:
        from scenarios.run import run_scenario

        self._set(job_id, state="running", message="starting")
        try:
            result = run_scenario(scenario, runs_dir=self.runs_dir,
                                  progress=lambda m: self._set(job_id, message=m))
        except InputError as exc:
            self._set(job_id, state="failed", message="bad input: " + "; ".join(exc.lines()))
            return
        except SitesimError as exc:
            self._set(job_id, state="failed", message=f"no feasible plan: {exc}")
            return
        except Exception as exc:  # noqa: BLE001 - shown on the page, the server goes on
            self._set(job_id, state="failed", message=f"internal error: {exc!r}")
            return
        self._set(job_id, state=result.status, run_id=result.run_id,
                  message=f"{result.status} in {result.seconds:.0f} s: {result.run_id}")

    def status(self, job_id: str | None) -> Job | None:
        """A copy of a job's state (None for an unknown id)."""
        with self._lock:
            job = self._jobs.get(job_id or "")
            return None if job is None else Job(**vars(job))

    def wait(self, job_id: str, timeout: float = 600.0) -> Job:
        """Block until a job ends (for scripts and tests)."""
        end = time.time() + timeout
        while time.time() < end:
            job = self.status(job_id)
            if job is not None and job.state not in ("queued", "running"):
                return job
            time.sleep(0.1)
        raise TimeoutError(f"what-if job {job_id} still running after {timeout:.0f} s")
