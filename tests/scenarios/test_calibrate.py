"""sitesim calibrate: the bank's data read and checked, history to campaigns, community
effects, the calibration file, and a calibrated scenario's runs."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo import load_area
from geo.errors import InputError
from scenarios.bank_data import read_history, read_observed
from scenarios.calibrate import campaigns_from_history, community_effects
from scenarios.calibration_file import (
    CalibrationFile,
    calibrated_params,
    extrapolation_warnings,
    parameter_draws,
    read_calibration,
    with_community_effects,
    write_calibration,
)
from scenarios.run import run_scenario
from scenarios.schema import Scenario
from scenarios.synthetic_history import Truth, generate, spend_plan
from simulation import Campaign, SimulationParams, replication_params
from tests.scenarios.test_cli import sitesim


def test_history_becomes_campaigns_with_the_same_weekly_spend() -> None:
    history = pd.DataFrame({
        "week": [1, 2, 3, 5, 6, 7, 1, 2],
        "community_id": ["a"] * 6 + ["b", "b"],
        "channel": ["sms"] * 6 + ["sms", "sms"],
        "spend": [10.0, 10, 10, 20, 20, 5, 0, 7]})
    campaigns = campaigns_from_history(history, weeks=6)
    got = sorted((c.communities, c.weeks, c.spend) for c in campaigns)
    # a: weeks 1-3 at 10, weeks 5-6 at 20 (week 7 is past the run); b: week 2 only
    assert got == [(("a",), (1, 3), 30.0), (("a",), (5, 6), 40.0), (("b",), (2, 2), 7.0)]


def test_community_effects_shrink_by_hand() -> None:
    runs = np.array([[90.0, 90.0], [110.0, 110.0]])  # mean 100, variance 200
    # y = 50 and 150: tau^2 = ((50^2 - 200) + (50^2 - 200)) / (2 x 100^2) = 0.23;
    # B = 0.23 / (0.23 + 200 / 100^2) = 0.92: the effects 1 -+ 0.92 x 0.5
    effects = community_effects(pd.Series([50.0, 150.0], index=["a", "b"]), runs)
    assert effects.tolist() == pytest.approx([0.54, 1.46])
    # no more scatter than the model's own: no effects
    same = community_effects(pd.Series([95.0, 105.0], index=["a", "b"]), runs)
    assert same.tolist() == [1.0, 1.0]
    # an agent for 4 residents: the model's variance 200 / 4 = 50 is below Poisson (100);
    # tau^2 = (2 x (50^2 - 100)) / (2 x 100^2) = 0.24, B = 0.24 / 0.25 = 0.96
    scaled = community_effects(pd.Series([50.0, 150.0], index=["a", "b"]), runs,
                               agent_scale=4.0)
    assert scaled.tolist() == pytest.approx([0.52, 1.48])


def _calibration(cov: np.ndarray) -> CalibrationFile:
    rows = [{"name": "base_adoption", "prior": 1e-4, "prior_sd_log": 1.0, "upper": 1.0,
             "estimate": 2e-4, "sd_log": float(np.sqrt(cov[0, 0])), "low": 0.0, "high": 1.0,
             "identified": True},
            {"name": "channels.sms.awareness_gain", "prior": 0.03, "prior_sd_log": 1.0,
             "upper": 1.0, "estimate": 0.05, "sd_log": float(np.sqrt(cov[1, 1])),
             "low": 0.0, "high": 1.0, "identified": False}]
    return CalibrationFile("s", (1, 20), {}, rows, cov, 1.2, 100,
                           pd.Series({"C1": 1.2}, name="adoption_effect"))


def test_draws_follow_the_calibrations_covariance() -> None:
    cov = np.array([[0.04, 0.01], [0.01, 0.09]])
    draws = parameter_draws(_calibration(cov), 4000, seed=3)
    logs = np.log([[v for _, v in d] for d in draws])
    # numpy's sample moments against the file's: 4,000 draws, errors ~ 2%
    assert logs.mean(axis=0) == pytest.approx(np.log([2e-4, 0.05]), abs=0.015)
    assert np.cov(logs, rowvar=False) == pytest.approx(cov, abs=0.006)
    assert parameter_draws(_calibration(cov), 5, seed=3) == draws[:5]


def test_calibration_applied_fixed_or_drawn() -> None:
    inputs = pd.DataFrame({"x": [0.0, 1.0]}, index=pd.Index(["C1", "C2"],
                                                          name="community_id"))
    calibration = _calibration(np.diag([0.04, 0.09]))
    fixed = calibrated_params(SimulationParams(), calibration, fixed=True, replications=4,
                              seed=1)
    with_effects = with_community_effects(inputs, calibration)
    assert fixed.base_adoption == 2e-4 and fixed.channels["sms"].awareness_gain == 0.05
    assert fixed.draws == () and with_effects["adoption_effect"].tolist() == [1.2, 1.0]
    drawn = calibrated_params(SimulationParams(), calibration, fixed=False, replications=4,
                              seed=1)
    values = {replication_params(drawn, i).base_adoption for i in range(4)}
    assert len(values) == 4  # one draw per replication
    # more draws than replications, the first the same whatever the number
    assert len(drawn.draws) >= 64 and tuple(d[:2] for d in drawn.draws[:4]) == (
        parameter_draws(calibration, 4, seed=1))
    # a calibration without uncertainty draws its estimates
    exact = calibrated_params(SimulationParams(), _calibration(np.zeros((2, 2))),
                              fixed=False, replications=3, seed=1)
    assert [replication_params(exact, i).base_adoption for i in range(3)] == pytest.approx(
        [2e-4] * 3)


def test_channels_the_history_never_spent_on_are_drawn_from_their_prior() -> None:
    """The calibration fitted sms's adoption effect only: every other channel parameter
    is drawn log-normal with sd 1 on the log scale and the default as its mean (the
    closed form: median = default x exp(-1/2); numpy's sample moments); sms's fitted one
    is not redrawn."""
    defaults = SimulationParams()
    drawn = calibrated_params(defaults, _calibration(np.diag([0.04, 0.09])), fixed=False,
                              replications=20_000, seed=2)
    names = {n for n, _ in drawn.draws[0]}
    assert "channels.sms.spend_per_resident" in names
    assert "channels.kol_live.awareness_gain" in names
    assert sum(n == "channels.sms.awareness_gain" for n, _ in drawn.draws[0]) == 1
    spend = np.array([replication_params(drawn, i).channels["social_media"].spend_per_resident
                      for i in range(20_000)])
    default = defaults.channels["social_media"].spend_per_resident
    assert spend.mean() == pytest.approx(default, rel=0.03)
    assert np.median(spend) == pytest.approx(default * np.exp(-0.5), rel=0.03)
    assert np.log(spend).std() == pytest.approx(1.0, rel=0.03)
    gains = [replication_params(drawn, i).channels["kol_live"].awareness_gain
             for i in range(2_000)]
    assert max(gains) <= 1.0 and len(set(gains)) > 1000
    # an adoption effect near its bound of 1: held there, its mean is still the default
    event = np.array([replication_params(drawn, i).channels["community_event"].awareness_gain
                      for i in range(20_000)])
    assert event.max() == 1.0 and event.mean() == pytest.approx(
        defaults.channels["community_event"].awareness_gain, rel=0.02)


def test_a_plan_beyond_the_history_is_said(tmp_path: Path) -> None:
    """sms was fitted on at most 0.01 per adult a week: a plan at 3 times that is said
    to stretch it, one at 1.5 times is not; social media, never spent, is said to be the
    prior's; the range survives the file."""
    calibration = dataclasses.replace(_calibration(np.diag([0.04, 0.09])),
                                      spend={"sms": 0.01})
    adults = pd.Series({"C1": 1000.0, "C2": 3000.0})
    # 1,200 over 10 weeks on C1's 1,000 adults: 0.12 per adult and week, 12 times
    said = extrapolation_warnings(calibration, [
        Campaign("sms", 1200.0, (1, 10), communities=("C1",)),
        Campaign("social_media", 100.0, (1, 10))], adults)
    assert len(said) == 2
    assert "sms" in said[0] and "12.0 times" in said[0]  # by channel name
    assert "social_media: the bank's history never spent on it" in said[1]
    # 600 over 10 weeks on all 4,000 adults: 0.015, 1.5 times: within the range
    assert extrapolation_warnings(calibration, [Campaign("sms", 600.0, (1, 10))],
                                  adults) == []
    again = read_calibration(write_calibration(calibration, tmp_path / "c.toml"))
    assert again.spend == {"sms": 0.01}


def test_calibration_file_round_trip_and_bad_files(tmp_path: Path) -> None:
    calibration = _calibration(np.diag([0.04, 0.09]))
    path = write_calibration(calibration, tmp_path / "c.toml")
    again = read_calibration(path)
    assert again.estimate == calibration.estimate and again.weeks == (1, 20)
    assert again.covariance == pytest.approx(calibration.covariance)
    assert again.effects.to_dict() == {"C1": 1.2}
    # whether the fit settled is kept (an unsettled fit's last move, in posterior sd)
    unsettled = dataclasses.replace(calibration, converged=False, moved=2.6, rounds=4)
    again = read_calibration(write_calibration(unsettled, tmp_path / "u.toml"))
    assert (again.converged, again.moved, again.rounds) == (False, 2.6, 4)
    with pytest.raises(InputError, match="no such file; write one with sitesim calibrate"):
        read_calibration(tmp_path / "missing.toml")
    (tmp_path / "bad.toml").write_text("format = 1\n[covariance]\nnames = ['x']\n")
    with pytest.raises(InputError, match="not a calibration file"):
        read_calibration(tmp_path / "bad.toml")
    # a parameter the model does not have, or a channel field it does not have
    for name in ("base_adoptoin", "channels.sms.bogus"):
        text = path.read_text().replace('"base_adoption"', f'"{name}"')
        (tmp_path / "renamed.toml").write_text(text)
        with pytest.raises(InputError, match="not a calibration file.*" + name.split(".")[-1]):
            read_calibration(tmp_path / "renamed.toml")


def test_bad_history_and_observations_are_listed_at_once(tmp_path: Path) -> None:
    communities = pd.Index(["C1", "C2"])
    (tmp_path / "h.csv").write_text("week,community_id,channel,spend\n1,C1,sms,5\n"
                                    "0,C9,fax,-1\n1,C1,sms,6\n")
    with pytest.raises(InputError) as caught:
        read_history(tmp_path / "h.csv", communities)
    said = [p.line() for p in caught.value.problems]
    assert len(said) == 5, said  # week, spend, community, channel, the repeated row
    assert any("row 3: week" in s and "from 1" in s for s in said)
    assert any("row 3: channel" in s and "'fax'" in s for s in said)
    assert any("row 4" in s and "again" in s for s in said)
    (tmp_path / "o.csv").write_text("week,community_id,customers\n1,C1,3\n")
    with pytest.raises(InputError, match="no column new_customers"):
        read_observed(tmp_path / "o.csv", communities)
    # observations from week 3, a community never reported, a calendar week
    (tmp_path / "o.csv").write_text("week,community_id,new_customers\n3,C1,3\n")
    with pytest.raises(InputError) as caught:
        read_observed(tmp_path / "o.csv", communities)
    said = " | ".join(p.line() for p in caught.value.problems)
    assert "the first week is 3" in said and "C2" in said and "0 where none came" in said
    (tmp_path / "o.csv").write_text("week,community_id,new_customers\n202401,C1,3\n")
    with pytest.raises(InputError) as caught:
        read_observed(tmp_path / "o.csv", communities)
    assert "not a calendar week" in caught.value.problems[0].line()
    (tmp_path / "o.csv").write_text("week,community_id,new_customers\n")
    with pytest.raises(InputError) as caught:
        read_observed(tmp_path / "o.csv", communities)
    assert "no rows" in caught.value.problems[0].line()


def _bank_files(area: Path, folder: Path, weeks: int = 24, seed: int = 5
                ) -> tuple[Path, Path]:
    """A history and observations from the synthetic history's generator (not sitesim's model)."""
    communities = load_area(area).communities
    adults = (communities["pop_18_35"] + communities["pop_36_55"]
              + communities["pop_56_plus"]).to_numpy(float)
    spend = spend_plan(communities.index, weeks, per_adult_week=0.02, adults=adults,
                       seed=seed)
    made = generate(communities.index, adults, Truth(base=6e-4), spend, seed)
    made.history.to_csv(folder / "history.csv", index=False)
    made.observed.to_csv(folder / "observed.csv", index=False)
    return folder / "history.csv", folder / "observed.csv"


def _scenario_file(area: Path, folder: Path, **tables: str) -> Path:
    text = (f'name = "calibrated"\narea = "{area}"\nseed = 4\n'
            "[outlets]\nenabled = false\n[events]\nenabled = false\n"
            "[staff]\nenabled = false\n[budget]\nenabled = false\n"
            "[simulation]\nweeks = 8\nreplications = 3\nmax_agents = 20000\n"
            '[[campaigns]]\nchannel = "social_media"\nspend = 20000\nweeks = [1, 8]\n')
    text += "".join(f"[{k}]\n{v}\n" for k, v in tables.items())
    path = folder / "scenario.toml"
    path.write_text(text)
    return path


def test_calibrate_command_then_a_calibrated_run(small_synth: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITESIM_CACHE_DIR", str(tmp_path / "cache"))
    history, observed = _bank_files(small_synth, tmp_path)
    scenario = _scenario_file(small_synth, tmp_path)
    # a readout of weeks 10-18 (spend) against 1-9 in the communities with social media
    spent = sorted(set(pd.read_csv(history)["community_id"]))
    pd.DataFrame({"community_id": sorted(load_area(small_synth).communities.index)}).assign(
        arm=lambda f: np.where(f["community_id"].isin(spent), "treated", "control")).to_csv(
        tmp_path / "arms.csv", index=False)
    done = sitesim("pilot", "readout", "--assignment", str(tmp_path / "arms.csv"),
                   "--observed", str(observed), "--start", "10", "--end", "18", "--out",
                   str(tmp_path / "readout.toml"), columns=200)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "calibration.toml"
    done = sitesim("calibrate", str(scenario), "--history", str(history), "--observed",
                   str(observed), "--out", str(out), "--holdout-weeks", "6", "--lift",
                   str(tmp_path / "readout.toml"), columns=200)
    assert done.returncode == 0, done.stderr
    assert "held-out weeks 19 to 24" in done.stdout and "base_adoption" in done.stdout
    assert "pilot lift" in done.stdout
    said = tomllib.loads(out.read_text())["lift"][0]
    readout = tomllib.loads((tmp_path / "readout.toml").read_text())
    assert said["observed"] == readout["uplift"]["estimate"] and said["se"] > 0
    # a readout past the fitted weeks (1-18) is refused before the fit
    done = sitesim("calibrate", str(scenario), "--history", str(history), "--observed",
                   str(observed), "--out", str(tmp_path / "no.toml"), "--holdout-weeks",
                   "8", "--lift", str(tmp_path / "readout.toml"), columns=200)
    assert done.returncode == 2 and "are not all fitted" in done.stderr, done.stderr
    assert not (tmp_path / "no.toml").exists()
    body = tomllib.loads(out.read_text())
    assert body["weeks"] == [1, 18]
    names = {p["name"] for p in body["parameter"]}
    assert names == {"base_adoption", "word_of_mouth",
                     "channels.social_media.awareness_gain",
                     "channels.social_media.spend_per_resident"}
    # the generator spent 0.02 per adult and week where it spent
    assert body["spend_per_adult_week"] == {"social_media": pytest.approx(0.02, rel=1e-3)}
    held = body["held_out"]
    generated = pd.read_csv(observed)
    assert held["observed"] == generated.loc[generated["week"] >= 19, "new_customers"].sum()
    assert held["covered"] == (held["low"] <= held["observed"] <= held["high"])
    assert len(held["community"]) == 20 and len(body["community_effects"]) == 20
    # (5-18 new customers a community are too few to tell the generator's community
    # effects, sd 0.3, from the model's own scatter; the shrinkage is tested by hand)
    # a scenario that uses it: the run records the file and its estimates
    sc = Scenario.model_validate({**tomllib.loads(scenario.read_text()),
                                  "calibration": {"file": str(out)}})
    run = run_scenario(sc, runs_dir=tmp_path / "runs")
    manifest = json.loads((run.path / "manifest.json").read_text())
    assert "calibration.file" in manifest["inputs"]["files"]
    said = manifest["summary"]["calibration"]
    assert said["parameters"]["base_adoption"]["estimate"] == pytest.approx(
        read_calibration(out).estimate["base_adoption"])
    # every stage's inputs and parameters carry it (the siting's network-year, the
    # combined budget, the sweep), unless asked for the defaults (as calibrate does)
    from scenarios import plans

    prep = plans.prepare(sc)
    outlets = plans.open_outlets(prep, None)
    assert "adoption_effect" in plans.simulation_inputs(prep, outlets)
    assert "adoption_effect" not in plans.simulation_inputs(prep, outlets, calibrated=False)
    assert len(plans.simulation_params(sc).draws) >= 3
    assert plans.simulation_params(sc, calibrated=False).draws == ()


def test_calibrate_refuses_bad_files_with_exit_2_and_writes_nothing(
        small_synth: Path, tmp_path: Path) -> None:
    history, observed = _bank_files(small_synth, tmp_path, weeks=12)
    frame = pd.read_csv(history)
    frame.loc[0, "spend"] = -5
    frame.loc[1, "community_id"] = "nowhere"
    frame.to_csv(history, index=False)
    rows = pd.read_csv(observed).astype({"week": object})
    rows.loc[2, "week"] = "1.5"
    rows.to_csv(observed, index=False)
    out = tmp_path / "calibration.toml"
    done = sitesim("calibrate", str(_scenario_file(small_synth, tmp_path)), "--history",
                   str(history), "--observed", str(observed), "--out", str(out),
                   columns=200)
    assert done.returncode == 2, done.stderr
    assert "spend" in done.stderr and "'nowhere'" in done.stderr and "week" in done.stderr
    assert "history" in done.stderr and "observed" in done.stderr
    assert "Traceback" not in done.stderr and not out.exists()


@pytest.mark.slow
def test_forecast_of_a_generator_not_the_model(small_synth: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Calibrated on weeks 1-26 of the synthetic history's count process (saturating
    channel effect, community effects: not sitesim's model), the forecasts of weeks 27-52
    of the same plan and of a different one (social media moved to the other half of the
    communities at 1.5 times the spend) are within 25% of the generator's expected
    totals, and their 95% intervals cover those truths in at least 7 of 8 seeds
    (measured: see docs/calibration.md)."""
    from scenarios.calibrate import calibrate, forecast_history
    from scenarios.schema import load_scenario

    monkeypatch.setenv("SITESIM_CACHE_DIR", str(tmp_path / "cache"))
    communities = load_area(small_synth).communities
    adults = (communities["pop_18_35"] + communities["pop_36_55"]
              + communities["pop_56_plus"]).to_numpy(float)
    sc = load_scenario(_scenario_file(small_synth, tmp_path))
    covered = {"same": 0, "other": 0}
    errors: dict[str, list[float]] = {"same": [], "other": []}
    for seed in range(8):
        spend = spend_plan(communities.index, 52, per_adult_week=0.02, adults=adults,
                           seed=seed)
        made = generate(communities.index, adults, Truth(), spend, seed)
        made.history.to_csv(tmp_path / "h.csv", index=False)
        made.observed.to_csv(tmp_path / "o.csv", index=False)
        result = calibrate(sc, tmp_path / "h.csv", tmp_path / "o.csv", holdout=26)
        assert result.held_out is not None
        other = spend["social_media"].copy()
        was_on = other[:, 26:].sum(axis=1) > 0
        other[:, 26:] = np.where(was_on, 0.0, 1.5 * 0.02 * adults)[:, None]
        # the same seed draws the same community effects
        truth_other = generate(communities.index, adults, Truth(), {"social_media": other},
                               seed)
        other_plan = forecast_history(sc, result, truth_other.history, (27, 52))
        for key, forecast, truth in (
                ("same", result.held_out, float(made.expected[:, 26:].sum())),
                ("other", other_plan, float(truth_other.expected[:, 26:].sum()))):
            errors[key].append(forecast.forecast / truth - 1)
            covered[key] += forecast.low <= truth <= forecast.high
    print(covered, errors)
    assert min(covered.values()) >= 7, (covered, errors)
    assert max(abs(e) for e in errors["same"] + errors["other"]) < 0.25, errors
