"""CommunityMarketModel: residents responding to campaigns, one week per step.

The per-resident state lives in numpy arrays inside one Mesa model (one agent object per
resident would be ~100 times slower); the mechanisms are in docs/simulation.md.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd

from simulation._mesa import mesa
from simulation.engine import TieShares, adoption_substep
from simulation.errors import SimulationError
from simulation.exposure import ChannelExposure
from simulation.openings import OutletPhase, outlet_capacity, outlet_phases, van_reach
from simulation.params import (
    CHANNELS,
    CUSTOMER_STAGES,
    SEGMENTS,
    SimulationParams,
    segment_matches,
)
from simulation.population import Residents, Venues, synthesize_residents
from simulation.venues import EventHost, WeekOfEvents

__all__ = ["STAGES", "CommunityMarketModel"]

#: Lifecycle stages, in the order of the model's stage codes.
STAGES: tuple[str, ...] = ("prospect", *CUSTOMER_STAGES, "lapsed")
PROSPECT, NEW, ACTIVE, MATURE, LAPSED = range(5)
ORGANIC = len(CHANNELS)  # acquiring-channel code of a customer won without a campaign
EVENT_CHANNEL = CHANNELS.index("community_event")
REFERRAL_CHANNEL = CHANNELS.index("referral_bonus")
AGE_BALANCE = np.array([0.6, 1.0, 1.5])  # deposit balance by age band (assumption)


def _stage_count(model: CommunityMarketModel, code: int) -> int:
    return round(model.totals[STAGES[code]])


def _deposits(model: CommunityMarketModel) -> float:
    return float(model.totals["deposits"])


class CommunityMarketModel(mesa.Model):
    """Residents of a study area over weeks: awareness, adoption, lifecycle, churn.

    Parameters
    ----------
    inputs
        Per-community inputs (:func:`simulation.population.community_inputs`).
    params
        The frozen :class:`SimulationParams` (campaigns included).
    capacity
        Visits per week per own outlet, indexed like ``inputs["outlet"]``'s values; by
        default each community's ``outlet_capacity``.
    seed
        Seed of the model's generator; every random draw derives from it.
    counterfactual
        Run without any campaign, with the same random numbers as the campaign run.
    venues
        Event venues (:func:`simulation.population.venue_inputs`): community_event
        campaigns then hold events at venues, with capacity and walking time. Without
        them a community_event campaign reaches residents like any other channel.
    """

    def __init__(self, inputs: pd.DataFrame, params: SimulationParams, *,
                 capacity: pd.Series | None = None, seed: int | None = None,
                 counterfactual: bool = False, venues: Venues | None = None) -> None:
        super().__init__(seed=seed)
        self.params = params
        self.counterfactual = counterfactual
        init_rng, self._process_rng, exposure_rng = self.rng.spawn(3)
        key = int(exposure_rng.integers(2**62))
        self.residents: Residents = synthesize_residents(
            inputs, max_agents=params.max_agents, ties_within=params.ties_within,
            ties_across=params.ties_across, rewire=params.rewire,
            tie_distance_km=params.tie_distance_km, rng=init_rng)
        r = self.residents
        n = len(r)
        self.week = 0
        self.stage = np.where(r.customer, MATURE, PROSPECT).astype(np.int8)
        self.weeks_in_stage = np.zeros(n, dtype=np.int16)
        self.awareness = np.zeros(n, dtype=np.float32)
        self.last_channel = np.full(n, ORGANIC, dtype=np.int8)
        #: starting customers who have not churned (once is enough to leave this set)
        self.stayed = r.customer.copy()
        income = inputs["median_income"].to_numpy(dtype=np.float64)[r.community]
        self._balance_if_customer = ((params.balance_base + params.balance_income_share
                                      * income) * AGE_BALANCE[r.age]).astype(np.float32)
        self.balance = np.where(r.customer, self._balance_if_customer, 0).astype(np.float32)
        # the own outlets of each phase of the run (one, unless outlets open during it)
        phases = outlet_phases(inputs)
        if phases[-1].week > params.weeks:
            raise SimulationError(f"outlets open in week {phases[-1].week}, after the run's "
                                  f"{params.weeks} weeks; lengthen params.weeks or leave "
                                  "that opening out")
        self._outlet_ids = pd.Index(pd.unique(np.concatenate(
            [ph.outlet.to_numpy() for ph in phases])))
        self._capacity = outlet_capacity(phases, self._outlet_ids, capacity)
        self._opening = {ph.week: ph for ph in phases[1:]}
        self._churn_stage = np.array([1.0, params.churn_early, params.churn_early, 1.0, 1.0],
                                     dtype=np.float32)
        self._cell = r.community.astype(np.int64) * 9 + r.segment  # community x segment
        self._cell_stage = self._cell * len(STAGES)
        self._effect = (inputs["adoption_effect"].to_numpy(np.float64)[r.community]
                        if "adoption_effect" in inputs.columns else None)
        self._van = van_reach(inputs, r.community)  # the van's stops, on its days
        self._use_outlets(phases[0])
        self._shares = TieShares(r.ties, (self.stage >= NEW) & (self.stage <= MATURE))
        self._community_code: dict[object, int] | None = None
        targets = [self._target_mask(c.segments, c.communities) for c in params.campaigns]
        at_venues = ({k for k, c in enumerate(params.campaigns)
                      if c.channel == "community_event"} if venues is not None else set())
        self._exposure = ChannelExposure(r, params, targets, at_venues, key)
        if params.events and venues is None:
            raise SimulationError("params.events plans events at venues: give the model "
                                  "venues (simulation.venue_inputs)")
        self._host = (EventHost(r, params, venues, targets, sorted(at_venues), key)
                      if venues is not None and (at_venues or params.events) else None)
        self._event_affinity = np.asarray(params.channels["community_event"].affinity,
                                          dtype=np.float32)[r.age]
        uses_referrals = any(c.channel == "referral_bonus" for c in params.campaigns)
        #: each customer's activity as a referrer (referral schemes only)
        self.referrer = np.zeros(n, dtype=np.float32) if uses_referrals else None
        self._week_events = WeekOfEvents(np.zeros(0, dtype=np.int16))
        self._spend_by_channel = np.zeros(len(CHANNELS))
        self._weekly: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._channel_rows: list[dict[str, float]] = []
        reporters: dict[str, Any] = {
            stage: functools.partial(_stage_count, code=k) for k, stage in enumerate(STAGES)}
        reporters["deposits"] = _deposits
        self.datacollector = mesa.DataCollector(model_reporters=reporters)
        at_start = np.bincount(self.stage, minlength=len(STAGES)) * r.scale
        self.totals: dict[str, float] = {
            **{stage: float(at_start[k]) for k, stage in enumerate(STAGES)},
            "deposits": float(self.balance.sum() * r.scale)}
        self.datacollector.collect(self)

    def _use_outlets(self, phase: OutletPhase) -> None:
        """Each resident's own outlet and what follows from its minutes away (access to
        the bank, the distance and competition parts of churn), from ``phase`` on."""
        p, r = self.params, self.residents
        self._outlet = self._outlet_ids.get_indexer(phase.outlet)[r.community].astype(np.int32)
        outlet_min = phase.outlet_min[r.community]
        competition = phase.competitor_share[r.community]
        distance = 1 + p.churn_distance * np.minimum(outlet_min / 30, 2)
        access = np.exp(-outlet_min / p.access_minutes)
        if self._van is not None:  # on the van's share of the week, its stop's minutes
            van_min, share = self._van
            nearer = np.minimum(van_min, outlet_min)
            distance = (share * (1 + p.churn_distance * np.minimum(nearer / 30, 2))
                        + (1 - share) * distance)
            access = share * np.exp(-nearer / p.access_minutes) + (1 - share) * access
        # the parts of the churn hazard that do not change week to week: age, distance,
        # competitors
        self._churn_static = (p.churn_base * np.asarray(p.churn_age)[r.age] * distance
                              * (1 + p.churn_competition * competition)
                              ).astype(np.float32)
        self._access = np.where(r.digital >= p.digital_threshold, 1.0, access
                                ).astype(np.float32)
        self._response = (np.array(p.segment_response)[r.age] * self._access).astype(
            np.float32)
        self._organic = (p.base_adoption * self._access).astype(np.float32)
        if self._effect is not None:  # a calibration's community effects
            self._response = (self._response * self._effect).astype(np.float32)
            self._organic = (self._organic * self._effect).astype(np.float32)

    def _target_mask(self, segments: tuple[str, ...], communities: tuple[str, ...]
                     ) -> np.ndarray:
        r = self.residents
        mask = np.ones(len(r), dtype=bool)
        if segments:
            seg = r.segment
            wanted = np.zeros(len(r), dtype=bool)
            for target in segments:
                if target == "sme":
                    wanted |= r.sme
                else:
                    codes = [i for i, s in enumerate(SEGMENTS) if segment_matches(target, s,
                                                                                  False)]
                    wanted |= np.isin(seg, codes)
            mask &= wanted
        if communities:
            if self._community_code is None:
                self._community_code = {c: k for k, c in enumerate(r.community_ids)}
            wanted_community = np.zeros(len(r.community_ids), dtype=bool)
            wanted_community[[self._community_code[c] for c in communities
                              if c in self._community_code]] = True
            mask &= wanted_community[r.community]
        return mask

    def _expose(self, customer: np.ndarray) -> tuple[float, np.ndarray]:
        """This week's campaigns and events: (spend, residents reached by channel)."""
        r, exposure = self.residents, self._exposure
        exposed = np.zeros(len(CHANNELS))
        self._spend_by_channel = np.zeros(len(CHANNELS))
        self._week_events = WeekOfEvents(np.zeros(0, dtype=np.int16))
        if self.counterfactual:
            return 0.0, exposed
        for channel in sorted(exposure.by_channel):
            active = exposure.active(channel, self.week)
            if not active:
                continue
            hit = exposure.draws(channel, self.week) < exposure.reach(channel, active)
            self._spend_by_channel[channel] += exposure.weekly_spend(active)
            if channel == REFERRAL_CHANNEL:  # the scheme reaches customers, as referrers
                assert self.referrer is not None
                hit &= customer
                gain = np.float32(self.params.channels["referral_bonus"].awareness_gain)
                self.referrer += gain * hit * (1 - self.referrer)
            else:
                self._reached(hit, channel)
            exposed[channel] += np.count_nonzero(hit) * r.scale
        if self._host is not None:
            events = self._host.week(self.week, self._event_affinity)
            self._week_events = events
            self._spend_by_channel[EVENT_CHANNEL] += events.spend
            self._reached(events.attended, EVENT_CHANNEL)
            exposed[EVENT_CHANNEL] += np.count_nonzero(events.attended) * r.scale
        return float(self._spend_by_channel.sum()), exposed

    def _reached(self, hit: np.ndarray, channel: int) -> None:
        """Residents ``hit`` by a channel this week (boolean, or how many times: events):
        awareness a <- 1 - (1 - a)(1 - gain)^times, and last channel."""
        gain = np.float32(self.params.channels[CHANNELS[channel]].awareness_gain)
        if hit.dtype == bool:
            self.awareness += gain * hit * (1 - self.awareness)
        else:
            self.awareness = (1 - (1 - self.awareness) * (1 - gain) ** hit).astype(np.float32)
        np.copyto(self.last_channel, np.int8(channel), where=hit > 0)

    def _referral_hazard(self, customer: np.ndarray) -> np.ndarray | None:
        """word_of_mouth_boost x each resident's ties' referral activity (None when no
        referrer is active)."""
        if self.referrer is None or not self.referrer.any():
            return None
        boost = self.params.channels["referral_bonus"].word_of_mouth_boost
        active = (self.referrer * customer).astype(np.float64)
        return (boost * np.asarray(self.residents.ties @ active).ravel()).astype(np.float32)

    def _credit(self, idx: np.ndarray, campaign: np.ndarray, referral: np.ndarray | None,
                credit: np.ndarray) -> None:
        """Share each new customer among what won it, in proportion to each part of its
        hazard: organic (base and word of mouth), its last campaign channel, referrals."""
        organic = self._organic[idx] + self.params.word_of_mouth * self._shares.values[idx]
        media = campaign[idx]
        ref = referral[idx] if referral is not None else np.zeros(idx.size, np.float32)
        total = (organic + media + ref).astype(np.float64)
        credit[ORGANIC] += float((organic / total).sum())
        credit[REFERRAL_CHANNEL] += float((ref / total).sum())
        credit += np.bincount(self.last_channel[idx], weights=media / total,
                              minlength=ORGANIC + 1)

    def step(self) -> None:
        """Advance one week: exposure, adoption (daily substeps), churn, lifecycle."""
        p, r = self.params, self.residents
        self.week += 1
        if self.week in self._opening:  # outlets open this week
            self._use_outlets(self._opening[self.week])
        customer = (self.stage >= NEW) & (self.stage <= MATURE)
        spend, exposed = self._expose(customer)
        lapsed = self.stage == LAPSED
        campaign = (p.campaign_adoption * self.awareness * self._response).astype(np.float32)
        referral = self._referral_hazard(customer)
        media = self._organic + campaign if referral is None else (
            self._organic + campaign + referral)
        factor = np.where(lapsed, np.float32(p.winback), np.float32(1.0))
        media_hazard = (media * factor).astype(np.float32)
        q = p.word_of_mouth * factor
        won = np.zeros(len(r), dtype=bool)
        credit = np.zeros(ORGANIC + 1)
        clock = self._process_rng.standard_exponential(len(r), dtype=np.float32)
        adopted = customer  # marks the clocks of customers as spent on the first substep
        for _ in range(p.substeps):
            new = adoption_substep(adopted, media_hazard, q, self._shares, clock, p.substeps)
            adopted = new  # later substeps: only the new adopters' clocks need marking
            idx = np.flatnonzero(new)
            if idx.size:
                won[idx] = True
                self._credit(idx, campaign, referral, credit)
                self._shares.change(idx, +1.0)
        churned = self._churn(customer)
        # lifecycle
        self.weeks_in_stage += 1
        promote = ((self.stage == NEW) & (self.weeks_in_stage >= p.weeks_new)) | (
            (self.stage == ACTIVE) & (self.weeks_in_stage >= p.weeks_active))
        self.stage[promote] += 1
        self.weeks_in_stage[promote] = 0
        gone = np.flatnonzero(churned)
        if gone.size:
            self._shares.change(gone, -1.0)
            self.stage[gone] = LAPSED
            self.weeks_in_stage[gone] = 0
            self.balance[gone] = 0
            self.stayed[gone] = False
            if self.referrer is not None:
                self.referrer[gone] = 0
        joined = np.flatnonzero(won)
        self.stage[joined] = NEW
        self.weeks_in_stage[joined] = 0
        self.balance[joined] = self._balance_if_customer[joined]
        self.awareness *= 1 - p.awareness_decay
        if self.referrer is not None:
            self.referrer *= 1 - p.awareness_decay
        self._record(spend, exposed, won, churned, credit * r.scale)
        self.datacollector.collect(self)

    def _churn(self, customer: np.ndarray) -> np.ndarray:
        """Who churns this week: hazard churn_base x age x (early stages) x congestion at
        the customer's outlet x distance x competitors' pull."""
        p, r = self.params, self.residents
        load = np.bincount(self._outlet[customer], minlength=self._capacity.size) * r.scale
        congestion = np.maximum(load * p.visits_per_customer_week / self._capacity - 1, 0)
        multiplier = (1 + p.churn_congestion * congestion).astype(np.float32)
        # u < 1 - exp(-h) <= h <= static x the largest multipliers: screen with that
        # bound, then compute the exact hazard of the few left
        u = self._process_rng.random(len(r), dtype=np.float32)
        bound = self._churn_static * (multiplier.max() * self._churn_stage.max())
        maybe = np.flatnonzero((u < bound) & customer)
        hazard = (self._churn_static[maybe] * multiplier[self._outlet[maybe]]
                  * self._churn_stage[self.stage[maybe]])
        churned = np.zeros(len(r), dtype=bool)
        churned[maybe[u[maybe] < -np.expm1(-hazard)]] = True
        return churned

    def _record(self, spend: float, exposed: np.ndarray, won: np.ndarray,
                churned: np.ndarray, won_by: np.ndarray) -> None:
        """Keep this week's counts as arrays; :meth:`timeseries` makes the frame once."""
        r = self.residents
        cells = len(r.community_ids) * 9
        by_stage = np.bincount(self._cell_stage + self.stage, minlength=cells * 5).reshape(
            cells, 5) * r.scale
        deposits = np.bincount(self._cell, weights=self.balance, minlength=cells) * r.scale
        self._weekly.append((self.week, by_stage,
                             np.bincount(self._cell[won], minlength=cells) * r.scale,
                             np.bincount(self._cell[churned], minlength=cells) * r.scale,
                             deposits))
        self.totals = {**{stage: float(by_stage[:, k].sum()) for k, stage in enumerate(STAGES)},
                       "deposits": float(deposits.sum())}
        row: dict[str, float] = {"week": self.week, "spend": spend}
        for i, ch in enumerate(CHANNELS):
            row[f"spend_{ch}"] = float(self._spend_by_channel[i])
            row[f"exposed_{ch}"] = float(exposed[i])
            row[f"won_{ch}"] = float(won_by[i])
        row["won_organic"] = float(won_by[ORGANIC])
        events = self._week_events
        row["events"], row["event_attendance"], row["event_staff"] = (
            events.held, events.attendance, events.staff)
        self._channel_rows.append(row)

    def run(self) -> CommunityMarketModel:
        """Step through every week of ``params.weeks``; returns the model."""
        while self.week < self.params.weeks:
            self.step()
        return self

    def timeseries(self) -> pd.DataFrame:
        """Weekly counts by community x segment x stage, new customers, churn, deposits."""
        columns = self.timeseries_columns()
        return pd.DataFrame(columns, copy=False) if columns else pd.DataFrame()

    def timeseries_columns(self) -> dict[str, np.ndarray]:
        """:meth:`timeseries` as a dict of columns (empty before the first week)."""
        if not self._weekly:
            return {}
        r = self.residents
        nc, weeks = len(r.community_ids), len(self._weekly)
        cells = nc * 9
        stages = np.concatenate([w[1] for w in self._weekly])
        return {
            "week": np.repeat([w[0] for w in self._weekly], cells),
            "community_id": np.tile(np.repeat(r.community_ids.to_numpy(), 9), weeks),
            "segment": np.tile(np.array(SEGMENTS), nc * weeks),
            **{stage: np.ascontiguousarray(stages[:, k]) for k, stage in enumerate(STAGES)},
            "new_customers": np.concatenate([w[2] for w in self._weekly]),
            "churned": np.concatenate([w[3] for w in self._weekly]),
            "deposits": np.concatenate([w[4] for w in self._weekly]),
        }

    def new_customers_total(self) -> float:
        """The run's new customers in all (the sum of :meth:`timeseries`'
        ``new_customers``, without building the table)."""
        if not self._weekly:
            return 0.0
        return float(np.concatenate([w[2] for w in self._weekly]).sum())

    def channel_series(self) -> pd.DataFrame:
        """Weekly spend (in all and by channel), residents reached per channel (for
        referral schemes: customers reached as referrers), and new customers credited to
        each channel (``organic``: base adoption and word of mouth), each new customer
        shared among what won it in proportion to the parts of its hazard."""
        return pd.DataFrame(self._channel_rows)
