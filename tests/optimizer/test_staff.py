"""Staff allocation against hand-solved cases and brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer import (
    OptimizerInputError,
    PlanInfeasibleError,
    allocate_staff,
    event_staff_needs,
)

# one RM serves 40 h x 0.8 x 60 / 6 = 320 visits a week
PER_RM = 320.0


def outlets() -> pd.DataFrame:
    return pd.DataFrame({"kind": ["branch", "micro_branch", "smart_atm"],
                         "visits_per_week": [3000.0, 700.0, 500.0]}, index=["A", "B", "C"])


def test_event_staff_needs() -> None:
    schedule = pd.DataFrame({"week": [1, 1, 2, 3, 3, 3], "staff": [3, 4, 5, 4, 4, 4],
                             "event_type": ["a", "a", "a", "b", "b", "b"]})
    needs = event_staff_needs(schedule, hours_per_week=40, hours_per_event={"a": 6, "b": 20})
    # week 1: largest 4 > 42 h / 40; week 2: 5; week 3: 240 h / 40 = 6 > 4
    assert needs.to_dict() == {1: 4, 2: 5, 3: 6}


def test_hand_solved() -> None:
    # 11 RMs at outlets in week 1 (1 to events): the branch's minimum is 8, the
    # micro-branch's 2; the 11th RM serves 120 more visits at A (3000 - 9 x 320 = 120
    # short) than at B (700 - 640 = 60 short)
    plan = allocate_staff(outlets(), relationship_managers=12, weeks=2, event_staff={1: 1})
    week1 = plan.plan[plan.plan["week"] == 1].set_index("outlet_id")
    assert week1["staff"].to_dict() == {"A": 9, "B": 2}
    assert week1["unserved"].to_dict() == pytest.approx({"A": 120.0, "B": 60.0})
    # week 2: the 12th RM goes to A (serves its last 120) rather than B (60)
    week2 = plan.plan[plan.plan["week"] == 2].set_index("outlet_id")
    assert week2["staff"].to_dict() == {"A": 10, "B": 2}
    assert plan.weeks.set_index("week")["spare"].to_dict() == {1: 0, 2: 0}
    assert plan.unserved_visits == pytest.approx(240.0)
    assert plan.proven_optimal
    assert plan.binding[0].startswith("staff.relationship_managers = 12")
    # the smart ATM is self-service: no row
    assert "C" not in set(plan.plan["outlet_id"])


def test_spare_staff_stay_unassigned() -> None:
    small = pd.DataFrame({"kind": ["micro_branch"], "visits_per_week": [100.0]}, index=["B"])
    plan = allocate_staff(small, relationship_managers=6, weeks=1)
    assert plan.plan["staff"].tolist() == [2]
    assert plan.weeks["spare"].tolist() == [4]
    assert plan.served_share == 1.0 and plan.binding == ()


@pytest.mark.parametrize("solver", ["cbc", "highs"])
def test_a_network_of_smart_atms_only_needs_no_staff(solver: str) -> None:
    """Every outlet self-service: the plan has no outlet rows, the RMs go to events (it
    ended in PulpSolverError with CBC and KeyError 'week' with HiGHS)."""
    atms = pd.DataFrame({"kind": ["smart_atm", "smart_atm"], "visits_per_week": [300.0, 90.0]},
                        index=["T1", "T2"])
    plan = allocate_staff(atms, relationship_managers=5, weeks=3, event_staff={2: 3},
                          solver=solver)  # type: ignore[arg-type]
    assert plan.plan.empty and list(plan.plan.columns) == [
        "week", "outlet_id", "kind", "staff", "visits", "served", "unserved"]
    assert plan.weeks["event_staff"].tolist() == [0, 3, 0]
    assert plan.weeks["spare"].tolist() == [5, 2, 5]
    assert plan.proven_optimal and plan.served_share == 1.0
    with pytest.raises(PlanInfeasibleError, match="events 6"):
        allocate_staff(atms, relationship_managers=5, weeks=2, event_staff={1: 6})


def test_a_solver_that_fails_hands_over_to_the_other(monkeypatch: pytest.MonkeyPatch) -> None:
    """A solver crash on user data is not an internal error: the other solver solves the
    model and a warning says so."""
    import pulp

    from geo import SitesimWarning

    real = pulp.COIN_CMD.actualSolve

    def broken(self: object, lp: object, **kw: object) -> int:
        raise pulp.PulpSolverError("Pulp: Error while executing cbc")

    monkeypatch.setattr(pulp.COIN_CMD, "actualSolve", broken)
    with pytest.warns(SitesimWarning, match="cbc failed on allocate_staff .*solved with highs"):
        plan = allocate_staff(outlets(), relationship_managers=12, weeks=1, solver="cbc")
    assert plan.plan.set_index("outlet_id")["staff"].to_dict() == {"A": 10, "B": 2}
    monkeypatch.setattr(pulp.COIN_CMD, "actualSolve", real)


def test_minimum_staffing_infeasible_names_the_numbers() -> None:
    with pytest.raises(PlanInfeasibleError,
                       match=r"minimum staffing needs 15 relationship managers in week 2 "
                             r"\(outlets 10: 1 branch x 8, 1 micro_branch x 2; events 5\), "
                             r"available 14"):
        allocate_staff(outlets(), relationship_managers=14, weeks=3,
                       event_staff={1: 4, 2: 5})


def test_bad_inputs() -> None:
    with pytest.raises(OptimizerInputError, match=r"visits_per_week of 'A' = -1"):
        allocate_staff(outlets().assign(visits_per_week=[-1, 0, 0]), relationship_managers=5)
    with pytest.raises(OptimizerInputError, match=r"relationship_managers = 2\.5"):
        allocate_staff(outlets(), relationship_managers=2.5)  # type: ignore[arg-type]
    with pytest.raises(OptimizerInputError, match=r"kind.*'kiosk'.* have no minimum staff"):
        allocate_staff(pd.DataFrame({"kind": ["kiosk"], "visits_per_week": [1.0]}),
                       relationship_managers=5)
    with pytest.raises(OptimizerInputError, match="max_staff 1 below its minimum 2"):
        allocate_staff(outlets().assign(max_staff=[20, 1, 0]), relationship_managers=20)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 9))
def test_equals_brute_force(seed: int, extra: int) -> None:
    rng = np.random.default_rng(seed)
    n = 3
    frame = pd.DataFrame({"kind": ["micro_branch"] * n,
                          "visits_per_week": rng.integers(0, 2000, n).astype(float),
                          "min_staff": rng.integers(0, 3, n),
                          "max_staff": rng.integers(3, 7, n)},
                         index=[f"o{i}" for i in range(n)])
    rms = int(frame["min_staff"].sum()) + extra
    plan = allocate_staff(frame, relationship_managers=rms, weeks=1)
    best = -1.0
    for staff in itertools.product(*(range(lo, hi + 1) for lo, hi in
                                     zip(frame["min_staff"], frame["max_staff"], strict=True))):
        if sum(staff) > rms:
            continue
        served = sum(min(v, s * PER_RM) for v, s in zip(frame["visits_per_week"], staff,
                                                        strict=True))
        best = max(best, served)
    assert plan.plan["served"].sum() == pytest.approx(best)
    assert (plan.plan["staff"] >= frame["min_staff"].to_numpy()).all()
    assert (plan.plan["staff"] <= frame["max_staff"].to_numpy()).all()
    assert plan.weeks["outlet_staff"].iloc[0] <= rms


def test_the_highs_banner_never_reaches_stdout() -> None:
    """HiGHS prints "Running HiGHS ... Copyright" on stdout when the process makes its
    first Highs object, whatever its options; a command printing JSON there must not
    carry it."""
    import subprocess
    import sys

    script = ("import pandas as pd\nfrom optimizer import allocate_staff\n"
              "o = pd.DataFrame({'kind': ['branch'], 'visits_per_week': [900.0]}, index=['A'])\n"
              "allocate_staff(o, relationship_managers=9, weeks=1, solver='highs')\n"
              "print('done')\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout == "done\n"
