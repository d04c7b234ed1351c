"""sitesim replan: the money so far and what is left, the past kept as it was spent, the
rest re-planned from the recalibrated model, and what changed and why in the run folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo import load_area
from geo.errors import InfeasibleError, InputError
from scenarios.curves import simulate_curves
from scenarios.replan import replan_scenario, spend_split
from scenarios.replan_report import change_table, channel_changes, marginal_per_unit
from scenarios.schema import Scenario
from scenarios.synthetic_history import Truth, generate, spend_plan
from simulation import Campaign, SimulationParams
from tests.scenarios.test_cli import sitesim
from tests.simulation.cities import city

ADULTS = pd.Series([100.0, 300.0, 600.0], index=["A", "B", "C"])


def test_spend_split_by_hand() -> None:
    campaigns = [Campaign("sms", 1000.0, (1, 10)),  # all three communities by adults
                 Campaign("social_media", 400.0, (3, 6), communities=("A", "B")),
                 Campaign("sms", 50.0, (1, 4), communities=("C",))]
    before, after = spend_split(campaigns, ADULTS, week=4)
    # sms: 4 of its 10 weeks; social media: weeks 3-4 of 3-6; the last one whole
    assert before == pytest.approx(400 + 200 + 50)
    got = after.set_index(["community_id", "channel"])["spend"]
    assert got[("A", "sms")] == pytest.approx(600 * 0.1)
    assert got[("C", "sms")] == pytest.approx(600 * 0.6)
    assert got[("A", "social_media")] == pytest.approx(200 * 0.25)
    assert got[("B", "social_media")] == pytest.approx(200 * 0.75)
    assert len(got) == 5  # C has no social media, and the third campaign is over
    # a campaign written as ten, week by week, is the same campaign
    parts = [Campaign("sms", 100.0, (w, w)) for w in range(1, 11)]
    again_before, again = spend_split(parts, ADULTS, week=4)
    assert again_before == pytest.approx(400)
    pd.testing.assert_frame_equal(again, after[after["channel"] == "sms"].reset_index(
        drop=True))


def _scenario(**budget: object) -> Scenario:
    return Scenario.model_validate({
        "name": "bank", "area": "builtin:sample-city",
        "budget": {"total": 10_000, **budget},
        "campaigns": [{"channel": "kol_live", "spend": 800, "weeks": [1, 8]}],
        "events": {"count": {"financial_literacy": 3, "anti_fraud": 1}, "weeks": [1, 12],
                   "budget": 5_000},
        "simulation": {"weeks": 20}})


def test_replan_scenario_keeps_the_past_and_re_plans_what_is_left_by_hand() -> None:
    history = pd.DataFrame({"week": [1, 2, 2, 5, 6, 9],
                            "community_id": ["A", "A", "B", "A", "A", "A"],
                            "channel": ["sms", "sms", "sms", "sms", "sms", "sms"],
                            "spend": [100.0, 100.0, 50.0, 100.0, 100.0, 999.0]})
    events = pd.DataFrame({"week": [2, 4, 6, 9], "event_type": ["financial_literacy",
                                                                 "anti_fraud",
                                                                 "financial_literacy",
                                                                 "financial_literacy"],
                           "cost": [1000.0, 700.0, 900.0, 800.0]})
    original = [Campaign("sms", 2000.0, (1, 20)), Campaign("social_media", 500.0, (11, 20))]
    sc = _scenario()
    replan, facts = replan_scenario(sc, history, 6, original_budget=original,
                                    original_events=events, adults=ADULTS,
                                    calibration="/x/calibration.toml", original_run="bank-1")
    # spent by week 6: 450; the scenario's own campaign was to spend 600 by then, so the
    # budget has paid nothing yet: all 9,000 of it that may be spent (the policy holds
    # back 10%) is left for weeks 7 to 20
    assert facts.spent == 450 and facts.spent_from_budget == 0
    assert facts.remaining == 9_000 and facts.reserve == 1_000
    assert replan.budget.total == 10_000 and replan.budget.weeks == (7, 20)
    assert replan.budget.curves is None  # swept again on the recalibrated model
    assert facts.planned_before == pytest.approx(2000 * 6 / 20 + 600)
    assert facts.original_after["spend"].sum() == pytest.approx(2000 * 14 / 20 + 500)
    # the past is the history's campaigns (week 9 is not the past); the own campaign's
    # weeks 7-8 stay, with their share of its spend
    past = [c for c in replan.campaigns if c.channel == "sms"]
    assert sum(c.spend for c in past) == 450 and max(c.weeks[1] for c in past) == 6
    [own] = [c for c in replan.campaigns if c.channel == "kol_live"]
    assert own.weeks == (7, 8) and own.spend == pytest.approx(200)
    # the events after week 6 again, in weeks 7-12, with what the events' money has left
    assert dict(replan.events.count) == {"financial_literacy": 1}
    assert replan.events.weeks == (7, 12) and replan.events.budget == pytest.approx(2400)
    assert not replan.outlets.enabled and replan.calibration.file == "/x/calibration.toml"
    assert replan.name == "bank-replan-w6"
    # spending more: the reserve held back is still the year's 1,000, and what is left
    # splits by purpose as the year's policy does (maintenance 0.2 of the 0.9 spendable)
    more = history.assign(spend=history["spend"] * 10)  # 4,500 spent, 3,900 beyond own
    replan, facts = replan_scenario(sc, more, 6, original_budget=original,
                                    original_events=None, adults=ADULTS, calibration="c",
                                    original_run="r")
    assert facts.spent_from_budget == pytest.approx(3_900)
    assert facts.remaining == pytest.approx(9_000 - 3_900)
    policy = replan.budget.policy
    assert replan.budget.total * policy.reserve == pytest.approx(1_000)
    assert replan.budget.total * policy.maintenance == pytest.approx(5_100 * 0.2 / 0.9)
    assert replan.budget.total * policy.brand == pytest.approx(5_100 * 0.3 / 0.9)
    # overspent: nothing left is a plan that cannot be made (exit 3), with the figures
    rich = history.assign(spend=history["spend"] * 100)
    with pytest.raises(InfeasibleError, match="has nothing left for weeks 7 to 20"):
        replan_scenario(sc, rich, 6, original_budget=original, original_events=None,
                        adults=ADULTS, calibration="c", original_run="r")
    with pytest.raises(InputError, match="nothing left to re-plan"):
        replan_scenario(_scenario(weeks=[1, 5]), history, 6, original_budget=original,
                        original_events=None, adults=ADULTS, calibration="c",
                        original_run="r")


def test_changes_and_marginal_returns_by_hand() -> None:
    original = pd.DataFrame({"community_id": ["A", "A", "B"],
                             "channel": ["sms", "social_media", "sms"],
                             "spend": [100.0, 50.0, 30.0]})
    plan = pd.DataFrame({"community_id": ["A", "A", "B", "B"], "quarter": [1, 2, 1, 1],
                         "channel": ["sms", "sms", "sms", "kol_live"],
                         "spend": [60.0, 60.0, 0.0, 10.0]})
    table = change_table(original, plan).set_index(["community_id", "channel"])
    assert table.loc[("A", "sms")].tolist() == [100.0, 120.0, 20.0]
    assert table.loc[("A", "social_media")].tolist() == [50.0, 0.0, -50.0]
    assert table.loc[("B", "sms")].tolist() == [30.0, 0.0, -30.0]
    assert table.loc[("B", "kol_live")].tolist() == [0.0, 10.0, 10.0]
    # exponential curves, two segments in A: the gain of 1% more, by hand
    curves = pd.DataFrame({"community_id": ["A", "A", "B"], "channel": "sms",
                           "segment": ["s1", "s2", "s1"], "form": "exponential",
                           "rmax": [10.0, 4.0, 6.0], "k": [200.0, 50.0, 100.0],
                           "h": 1.0})

    def r(rmax: float, k: float, s: float) -> float:
        return rmax * (1 - np.exp(-s / k))

    gain = sum(r(m, k, 1.01 * s) - r(m, k, s)
               for m, k, s in ((10, 200, 100), (4, 50, 100), (6, 100, 30)))
    got = marginal_per_unit(curves, original)
    assert got["sms"] == pytest.approx(gain / 1.3)
    assert "social_media" not in got  # no curve for it
    # per channel, the original split scaled to the re-plan's spend (130 of 180)
    params = pd.DataFrame({"name": ["channels.sms.awareness_gain",
                                    "channels.sms.spend_per_resident"],
                           "original": [0.02, 10.0], "estimate": [0.05, 5.0],
                           "identified": [True, False]})
    by = channel_changes(change_table(original, plan), params, original_curves=curves,
                         original_split=original, curves=curves, spend=130.0).set_index(
        "channel")
    assert by.loc["sms", "scaled"] == pytest.approx(130 * 130 / 180)
    assert by.loc["social_media", "scaled"] == pytest.approx(50 * 130 / 180)
    assert by.loc["sms", "adoption_ratio"] == pytest.approx(2.5)
    assert by.loc["sms", "reach_spend_ratio"] == pytest.approx(0.5)
    assert np.isnan(by.loc["kol_live", "adoption_ratio"])  # never fitted


def test_a_sweep_on_top_of_a_background_measures_what_it_adds() -> None:
    """Next to a large campaign in weeks 1-5, a sweep of weeks 6-10 that spends next to
    nothing adds nothing: every curve is zero (the reference arm runs the background
    too, with the same random numbers; without it, the background's own uplift would
    be taken for the swept channels')."""
    inputs = city(8, 600)
    background = (Campaign("social_media", 50_000.0, (1, 5)),)
    curves = simulate_curves(inputs, SimulationParams(weeks=10, max_agents=4_800),
                             reference=1e-6, channels=("sms", "kol_live"), levels=(1.0, 2.0),
                             span=(6, 10), background=background)
    assert (curves["rmax"] == 0).all() and (curves["fit"] == "no response").all()


def _bank(area: Path, folder: Path, weeks: int) -> tuple[Path, Path]:
    communities = load_area(area).communities
    adults = communities[["pop_18_35", "pop_36_55", "pop_56_plus"]].sum(axis=1).to_numpy(float)
    spend = spend_plan(communities.index, weeks, per_adult_week=0.02, adults=adults, seed=3)
    made = generate(communities.index, adults, Truth(base=6e-4), spend, 3)
    made.history.to_csv(folder / "history.csv", index=False)
    made.observed.to_csv(folder / "observed.csv", index=False)
    return folder / "history.csv", folder / "observed.csv"


def test_replan_command_end_to_end(small_synth: Path, tmp_path: Path) -> None:
    history, observed = _bank(small_synth, tmp_path, weeks=10)
    scenario = tmp_path / "bank.toml"
    scenario.write_text(f'name = "bank"\narea = "{small_synth}"\nseed = 4\n'
                        "[outlets]\nenabled = false\n[events]\nenabled = false\n"
                        "[staff]\nenabled = false\n[budget]\ntotal = 30000\nrounds = 2\n"
                        "[simulation]\nweeks = 16\nreplications = 3\nmax_agents = 4000\n")
    runs = tmp_path / "runs"
    args = ("replan", str(scenario), "--history", str(history), "--observed", str(observed),
            "--runs", str(runs))
    # the observations end at week 10: a re-plan at week 12 cannot be made
    refused = sitesim(*args, "--week", "12", columns=200)
    assert refused.returncode == 2, refused.stderr
    assert "the observations end at week 10, before week 12" in refused.stderr
    done = sitesim(*args, "--week", "8", columns=200)
    assert done.returncode == 0, done.stderr
    assert "re-plan at week 8 of bank-" in done.stdout
    assert "what changed and why" in done.stdout
    folder = Path(done.stdout.strip().splitlines()[-1])
    manifest = json.loads((folder / "manifest.json").read_text())
    said = manifest["summary"]["replan"]
    spent = pd.read_csv(history)
    assert said["money"]["spent"] == pytest.approx(spent.loc[spent["week"] <= 8, "spend"].sum())
    # the year's policy holds back 10%: 27,000 may be spent in all
    assert said["money"]["remaining"] == pytest.approx(27000 - said["money"]["spent"])
    assert said["new_customers_so_far"]["observed"] == pd.read_csv(observed).query(
        "week <= 8")["new_customers"].sum()
    assert said["rest_of_year"]["original_split_same_money"]["rule"] == "original"
    assert len(said["why"]) == len(said["channels"]) > 0
    # the past is kept as it was spent: weeks 1-8 of the simulation spend the history's
    ts = pd.read_parquet(folder / "timeseries.parquet")
    weekly = ts[(ts["arm"] == "campaign") & (ts["replication"] == 0)].groupby("week")[
        "spend"].sum()
    bank = spent.groupby("week")["spend"].sum().reindex(range(1, 9), fill_value=0.0)
    np.testing.assert_allclose(weekly.loc[1:8].to_numpy(), bank.to_numpy(), rtol=1e-9)
    # and the re-plan's money is spent after it, within what is left
    assert 0 < weekly.loc[9:].sum() <= said["money"]["remaining"] * (1 + 1e-9)
    changes = pd.read_parquet(folder / "replan_changes.parquet")
    assert changes["replan"].sum() == pytest.approx(weekly.loc[9:].sum())
    assert (folder / "calibration.toml").exists()
    [fitted] = runs.glob("bank-replan-w8.calibration-*.toml")  # named by its content
    assert manifest["scenario"]["calibration"]["file"] == str(fitted.resolve())
    # with that calibration given, the re-plan is the same run (resumed, not fitted again)
    again = sitesim(*args, "--week", "8", "--calibration", str(fitted), columns=200)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines()[-1] == str(folder)
    assert "calibrating" not in again.stderr
    # a calibration that saw weeks after the re-plan's is refused
    seen = tmp_path / "later.toml"
    seen.write_text(fitted.read_text().replace("weeks = [\n    1,\n    8,\n]",
                                               "weeks = [\n    1,\n    9,\n]"))
    late = sitesim(*args, "--week", "8", "--calibration", str(seen), columns=200)
    assert late.returncode == 2 and "after the re-plan's week 8" in late.stderr, late.stderr
    # too few weeks to fit is refused at once, before any run
    early = sitesim(*args, "--week", "5", "--runs", str(tmp_path / "none"), columns=200)
    assert early.returncode == 2 and "give a week from 8" in early.stderr, early.stderr
    assert not (tmp_path / "none").exists()
