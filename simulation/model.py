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
from simulation.params import (
    CHANNELS,
    SEGMENTS,
    ScheduledEvent,
    SimulationParams,
    segment_matches,
)
from simulation.population import Residents, Venues, synthesize_residents

__all__ = ["STAGES", "CommunityMarketModel"]

#: Lifecycle stages, in the order of the model's stage codes.
STAGES: tuple[str, ...] = ("prospect", "new", "active", "mature", "lapsed")
PROSPECT, NEW, ACTIVE, MATURE, LAPSED = range(5)
ORGANIC = len(CHANNELS)  # acquiring-channel code of a customer won without a campaign
AGE_BALANCE = np.array([0.6, 1.0, 1.5])  # deposit balance by age band (assumption)
VISITS_PER_CUSTOMER_WEEK = 0.3  # outlet visits per customer per week (assumption)


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
        Visits per week per own outlet, indexed like ``inputs["outlet"]``'s values.
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
        init_rng, self._process_rng, self._exposure_rng = self.rng.spawn(3)
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
        income = inputs["median_income"].to_numpy(dtype=np.float64)[r.community]
        self._balance_if_customer = ((params.balance_base + params.balance_income_share
                                      * income) * AGE_BALANCE[r.age]).astype(np.float32)
        self.balance = np.where(r.customer, self._balance_if_customer, 0).astype(np.float32)
        cap = (capacity.reindex(r.outlet_ids).fillna(500.0) if capacity is not None
               else pd.Series(500.0, index=r.outlet_ids))
        self._capacity = cap.to_numpy(dtype=np.float64)
        competition = inputs["competitor_share"].to_numpy(dtype=np.float64)[r.community]
        # the parts of the churn hazard that do not change: distance and competitors' pull
        self._churn_static = (params.churn_base
                              * (1 + params.churn_distance * np.minimum(r.outlet_min / 30, 2))
                              * (1 + params.churn_competition * competition)
                              ).astype(np.float32)
        self._cell = r.community.astype(np.int64) * 9 + r.segment  # community x segment
        self._cell_stage = self._cell * len(STAGES)
        self._access = np.where(r.digital >= params.digital_threshold, 1.0,
                                np.exp(-r.outlet_min / params.access_minutes)
                                ).astype(np.float32)
        self._response = (np.array(params.segment_response)[r.age] * self._access).astype(
            np.float32)
        self._organic = (params.base_adoption * self._access).astype(np.float32)
        self._shares = TieShares(r.ties, (self.stage >= NEW) & (self.stage <= MATURE))
        self.venues = venues
        if venues is not None:
            self._venue_minutes = venues.minutes.reindex(
                index=r.community_ids, columns=venues.table.index).to_numpy(np.float64)
            if np.isnan(self._venue_minutes).any():
                raise SimulationError("venue minutes lack some communities or venues")
            self._venue_decay = (np.exp(-self._venue_minutes / params.event_walk_decay_min)
                                 * (self._venue_minutes <= params.event_max_walk_min))
        self._schedule_events(params, venues)
        self._event_savings = [0.0] * len(params.campaigns)
        self._targets = [self._target_mask(c.segments, c.communities)
                         for c in params.campaigns]
        # per campaign: reach multiplier of each targeted resident, before the weekly reach
        self._reach_weight = [
            (np.array(params.channels[c.channel].affinity, dtype=np.float32)[r.age]
             * (r.digital if params.channels[c.channel].digital else np.float32(1.0)))
            .astype(np.float32) for c in params.campaigns]
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

    def _schedule_events(self, params: SimulationParams, venues: Venues | None) -> None:
        """Group the planned events by week and type; each type's attend rate per resident."""
        self._scheduled: dict[int, dict[int, tuple[np.ndarray, list[ScheduledEvent]]]] = {}
        if not params.events:
            return
        if venues is None:
            raise SimulationError("params.events plans events at venues: give the model "
                                  "venues (simulation.venue_inputs)")
        r = self.residents
        index = venues.table.index
        unknown = sorted({e.venue_id for e in params.events} - set(index))
        if unknown:
            raise SimulationError(f"params.events names venue(s) {unknown[:5]} that are not "
                                  "in the venues given")
        types = sorted({e.event_type for e in params.events})
        low_income = (r.segment % 3 == 0).astype(np.float32)
        self._event_rates = []
        for name in types:
            e = next(e for e in params.events if e.event_type == name)
            self._event_rates.append((e.attend_rate * np.asarray(e.affinity, np.float32)[r.age]
                                      * (1 + e.low_income_boost * low_income)
                                      ).astype(np.float32))
        self._offered = np.zeros((len(r.community_ids), len(types)), dtype=np.int64)
        grouped: dict[int, dict[int, list[ScheduledEvent]]] = {}
        for e in params.events:
            grouped.setdefault(e.week, {}).setdefault(types.index(e.event_type), []).append(e)
        for week, by_type in grouped.items():
            self._scheduled[week] = {
                t: (index.get_indexer(pd.Index([e.venue_id for e in evs])), evs)
                for t, evs in sorted(by_type.items())}

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
            mask &= np.isin(r.community, r.community_ids.get_indexer(pd.Index(communities)))
        return mask

    def _events(self, target: np.ndarray, weekly: float, draw: np.ndarray,
                affinity: np.ndarray) -> tuple[np.ndarray, float, int, float]:
        """Hold this week's events of a community_event campaign: (attendees, spend,
        events, staff).

        Venues are taken in order of the targeted residents within reach they would draw
        (sum of exp(-minutes / decay)), one event per venue a week, while the money of the
        week lasts (the campaign's weekly spend plus what earlier weeks left unspent);
        attendance as in :meth:`_attend`.
        """
        p, r = self.params, self.residents
        assert self.venues is not None
        table = self.venues.table
        targeted = np.bincount(r.community[target], minlength=len(r.community_ids)) * r.scale
        pull = targeted @ self._venue_decay
        chosen, cost = [], 0.0
        for v in np.argsort(-pull, kind="stable"):
            c = float(table["cost_per_event"].iloc[v])
            if pull[v] <= 0 or cost + c > weekly:
                continue
            chosen.append(int(v))
            cost += c
        if not chosen:
            return np.zeros(len(r), dtype=bool), 0.0, 0, 0.0
        attendees, _ = self._attend(np.array(chosen), p.event_attend_rate * affinity, target,
                                    draw)
        people = float(np.count_nonzero(attendees) * r.scale)
        staff = p.staff_per_event * len(chosen) + np.ceil(people / p.attendees_per_staff)
        return attendees, cost, len(chosen), float(staff)

    def _attend(self, chosen: np.ndarray, rate: np.ndarray, target: np.ndarray,
                draw: np.ndarray, repeat: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
        """Who comes to events at the ``chosen`` venues: (attendees, each community's
        venue among ``chosen``, -1 beyond reach).

        A targeted resident goes to the nearest chosen venue with probability
        rate x exp(-minutes / decay) (0 beyond the longest walk) x ``repeat`` (a factor per
        community); where more would come than the venue holds, the expectation is scaled
        down to its capacity, and any excess drawn is turned away.
        """
        r = self.residents
        assert self.venues is not None
        decay = self._venue_decay[:, chosen]
        nearest = np.argmin(np.where(decay > 0, self._venue_minutes[:, chosen], np.inf), axis=1)
        reach = decay[np.arange(len(decay)), nearest]
        if repeat is not None:
            reach = reach * repeat
        venue_of = nearest[r.community]
        prob = (rate * reach[r.community]).astype(np.float32)
        prob[~target] = 0
        capacity = self.venues.table["capacity"].to_numpy(np.float64)[chosen]
        expected = np.bincount(venue_of, weights=prob, minlength=len(chosen)) * r.scale
        prob *= np.minimum(1.0, capacity / np.maximum(expected, 1e-12))[venue_of].astype(
            np.float32)
        come = np.flatnonzero(draw < prob)
        # turn away whoever exceeds a venue's capacity (the highest draws go home)
        order = come[np.lexsort((draw[come], venue_of[come]))]
        rank = np.arange(order.size) - np.searchsorted(venue_of[order], venue_of[order])
        room = np.floor(capacity / r.scale).astype(np.int64)[venue_of[order]]
        attendees = np.zeros(len(r), dtype=bool)
        attendees[order[rank < room]] = True
        return attendees, np.where(reach > 0, nearest, -1)

    def _scheduled_events(self, draws: np.ndarray
                          ) -> tuple[np.ndarray, float, int, float, float]:
        """Hold this week's planned events (``params.events``): (residents who came to
        any, spend, events, staff, attendance). Each type's events are held apart, with
        their own draws, every adult a possible guest; a community offered a type again
        comes ``event_repeat_decay`` times as much as the time before (the event
        planner's repeat rule)."""
        p, r = self.params, self.residents
        attendees = np.zeros(len(r), dtype=bool)
        everyone = np.ones(len(r), dtype=bool)
        cost, held, staff, attendance = 0.0, 0, 0.0, 0.0
        for t, (venues, events) in self._scheduled.get(self.week, {}).items():
            repeat = p.event_repeat_decay ** self._offered[:, t]
            hit, venue_of = self._attend(venues, self._event_rates[t], everyone, draws[t],
                                         repeat)
            self._offered[venue_of >= 0, t] += 1
            attendees |= hit
            people = float(np.count_nonzero(hit) * r.scale)
            attendance += people
            cost += sum(e.cost for e in events)
            held += len(events)
            staff += sum(e.staff for e in events) + np.ceil(people / p.attendees_per_staff)
        return attendees, cost, held, float(staff), attendance

    def _expose(self) -> tuple[float, np.ndarray, float]:
        """Campaign exposure this week: (spend, exposed-by-channel counts, extra q)."""
        p, r = self.params, self.residents
        n = len(r)
        exposed = np.zeros(len(CHANNELS))
        spend, boost = 0.0, 0.0
        self._week_events = (0, 0.0, 0.0)
        for i, (campaign, target, weight) in enumerate(zip(
                p.campaigns, self._targets, self._reach_weight, strict=True)):
            draw = self._exposure_rng.random(n, dtype=np.float32)  # every week: same stream
            first, last = campaign.weeks
            if self.counterfactual or not first <= self.week <= last:
                continue
            ch = p.channels[campaign.channel]
            weekly = campaign.spend / (last - first + 1)
            people = target.sum() * r.scale
            if people == 0 or weekly == 0:
                continue
            saturation = 1.0  # share of the channel's full effect this spend buys
            if campaign.channel == "community_event" and self.venues is not None:
                affinity = np.array(ch.affinity, dtype=np.float32)[r.age]
                # money too little for an event this week is kept for a later week
                available = weekly + self._event_savings[i]
                hit, cost, events, staff = self._events(target, available, draw, affinity)
                self._event_savings[i] = available - cost
                self._count_events(events, np.count_nonzero(hit) * r.scale, staff)
            else:
                cost = weekly
                saturation = float(-np.expm1(-weekly / (ch.spend_per_resident * people)))
                reach = np.float32(ch.max_reach * saturation)
                # whole-array operations: a campaign can reach half the residents a week
                hit = draw < reach * weight
                hit &= target
            spend += cost
            self._reached(hit, campaign.channel, exposed)
            boost += ch.word_of_mouth_boost * saturation  # a scheme few hear of adds little
        if self.params.events:  # a draw per event type, every week: the same stream
            draws = self._exposure_rng.random((len(self._event_rates), n), dtype=np.float32)
            if not self.counterfactual and self.week in self._scheduled:
                hit, cost, events, staff, people = self._scheduled_events(draws)
                self._count_events(events, people, staff)
                spend += cost
                self._reached(hit, "community_event", exposed)
        return spend, exposed, boost

    def _reached(self, hit: np.ndarray, channel: str, exposed: np.ndarray) -> None:
        """Residents ``hit`` by a channel this week: awareness, last channel, exposures."""
        gain = np.float32(self.params.channels[channel].awareness_gain)
        self.awareness += gain * hit * (1 - self.awareness)
        code = CHANNELS.index(channel)
        np.copyto(self.last_channel, np.int8(code), where=hit)
        exposed[code] += np.count_nonzero(hit) * self.residents.scale

    def _count_events(self, events: int, people: float, staff: float) -> None:
        held = self._week_events
        self._week_events = (held[0] + events, held[1] + people, held[2] + staff)

    def step(self) -> None:
        """Advance one week: exposure, adoption (daily substeps), churn, lifecycle."""
        p, r = self.params, self.residents
        self.week += 1
        spend, exposed, boost = self._expose()
        customer = (self.stage >= NEW) & (self.stage <= MATURE)
        lapsed = self.stage == LAPSED
        media = self._organic + p.campaign_adoption * self.awareness * self._response
        factor = np.where(lapsed, np.float32(p.winback), np.float32(1.0))
        media_hazard = (media * factor).astype(np.float32)
        q = (p.word_of_mouth + boost) * factor
        won = np.zeros(len(r), dtype=bool)
        clock = self._process_rng.standard_exponential(len(r), dtype=np.float32)
        adopted = customer  # marks the clocks of customers as spent on the first substep
        for _ in range(p.substeps):
            new = adoption_substep(adopted, media_hazard, q, self._shares, clock, p.substeps)
            adopted = new  # later substeps: only the new adopters' clocks need marking
            idx = np.flatnonzero(new)
            if idx.size:
                won[idx] = True
                self._shares.change(idx, +1.0)
        # churn: congestion at the customer's outlet, distance, competitors' pull
        load = np.bincount(r.outlet[customer], minlength=self._capacity.size) * r.scale
        congestion = np.maximum(load * VISITS_PER_CUSTOMER_WEEK / self._capacity - 1, 0)
        multiplier = (1 + p.churn_congestion * congestion).astype(np.float32)
        # u < 1 - exp(-h) <= h <= static x the largest multiplier: screen with that bound,
        # then compute the exact hazard of the few left
        u = self._process_rng.random(len(r), dtype=np.float32)
        maybe = np.flatnonzero((u < self._churn_static * multiplier.max()) & customer)
        hazard = self._churn_static[maybe] * multiplier[r.outlet[maybe]]
        churned = np.zeros(len(r), dtype=bool)
        churned[maybe[u[maybe] < -np.expm1(-hazard)]] = True
        # lifecycle
        self.weeks_in_stage += 1
        promote = ((self.stage == NEW) & (self.weeks_in_stage >= p.weeks_new)) | (
            (self.stage == ACTIVE) & (self.weeks_in_stage >= p.weeks_active))
        self.stage[promote] += 1
        self.weeks_in_stage[promote] = 0
        gone = maybe[churned[maybe]]
        if gone.size:
            self._shares.change(gone, -1.0)
            self.stage[gone] = LAPSED
            self.weeks_in_stage[gone] = 0
            self.balance[gone] = 0
        joined = np.flatnonzero(won)
        self.stage[joined] = NEW
        self.weeks_in_stage[joined] = 0
        self.balance[joined] = self._balance_if_customer[joined]
        by = np.where(self.awareness[joined] > 0.05, self.last_channel[joined], ORGANIC)
        self.awareness *= 1 - p.awareness_decay
        self._record(spend, exposed, won, churned, by)
        self.datacollector.collect(self)

    def _record(self, spend: float, exposed: np.ndarray, won: np.ndarray,
                churned: np.ndarray, by: np.ndarray) -> None:
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
        won_by = np.bincount(by, minlength=ORGANIC + 1) * r.scale
        row: dict[str, float] = {"week": self.week, "spend": spend}
        for i, ch in enumerate(CHANNELS):
            row[f"exposed_{ch}"] = float(exposed[i])
            row[f"won_{ch}"] = float(won_by[i])
        row["won_organic"] = float(won_by[ORGANIC])
        row["events"], row["event_attendance"], row["event_staff"] = self._week_events
        self._channel_rows.append(row)

    def run(self) -> CommunityMarketModel:
        """Step through every week of ``params.weeks``; returns the model."""
        while self.week < self.params.weeks:
            self.step()
        return self

    def timeseries(self) -> pd.DataFrame:
        """Weekly counts by community x segment x stage, new customers, churn, deposits."""
        if not self._weekly:
            return pd.DataFrame()
        r = self.residents
        nc, weeks = len(r.community_ids), len(self._weekly)
        cells = nc * 9
        stages = np.concatenate([w[1] for w in self._weekly])
        return pd.DataFrame({
            "week": np.repeat([w[0] for w in self._weekly], cells),
            "community_id": np.tile(np.repeat(r.community_ids.to_numpy(), 9), weeks),
            "segment": np.tile(np.array(SEGMENTS), nc * weeks),
            **{stage: stages[:, k] for k, stage in enumerate(STAGES)},
            "new_customers": np.concatenate([w[2] for w in self._weekly]),
            "churned": np.concatenate([w[3] for w in self._weekly]),
            "deposits": np.concatenate([w[4] for w in self._weekly]),
        })

    def channel_series(self) -> pd.DataFrame:
        """Weekly spend, residents exposed per channel and new customers per acquiring
        channel (``organic``: no recent campaign exposure)."""
        return pd.DataFrame(self._channel_rows)
