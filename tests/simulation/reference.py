"""A slow reference: one mesa.Agent per resident, the mechanisms of docs/simulation.md
written out agent by agent, with Python's own random numbers.

It shares only the synthesized residents (who lives where, ties) with the vectorized
model; the two must agree statistically, not draw for draw.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from simulation._mesa import mesa
from simulation.params import CHANNELS, SEGMENTS, SimulationParams, segment_matches
from simulation.population import synthesize_residents

PROSPECT, NEW, ACTIVE, MATURE, LAPSED = range(5)
AGE_BALANCE = (0.6, 1.0, 1.5)
VISITS = 0.3


class Resident(mesa.Agent):
    def __init__(self, model: ReferenceModel, index: int) -> None:
        super().__init__(model)
        r = model.residents
        self.index = index
        self.community = int(r.community[index])
        self.age = int(r.age[index])
        self.segment = SEGMENTS[int(r.segment[index])]
        self.sme = bool(r.sme[index])
        self.digital = float(r.digital[index])
        self.outlet_min = float(r.outlet_min[index])
        self.outlet = int(r.outlet[index])
        self.competition = float(model.competition[self.community])
        row = r.ties.getrow(index)
        self.ties = list(zip(row.indices.tolist(), row.data.tolist(), strict=True))
        self.stage = MATURE if r.customer[index] else PROSPECT
        self.weeks_in_stage = 0
        self.awareness = 0.0
        self.last_channel = len(CHANNELS)
        income = model.income[self.community]
        p = model.params
        self.balance_if_customer = (p.balance_base + p.balance_income_share * income) * (
            AGE_BALANCE[self.age])

    def is_customer(self) -> bool:
        return NEW <= self.stage <= MATURE


class ReferenceModel(mesa.Model):
    def __init__(self, inputs: pd.DataFrame, params: SimulationParams, *, seed: int) -> None:
        super().__init__(seed=seed)
        self.params = params
        init_rng = np.random.default_rng(seed + 10_000)
        self.residents = synthesize_residents(
            inputs, max_agents=params.max_agents, ties_within=params.ties_within,
            ties_across=params.ties_across, rewire=params.rewire,
            tie_distance_km=params.tie_distance_km, rng=init_rng)
        self.competition = inputs["competitor_share"].to_numpy()
        self.income = inputs["median_income"].to_numpy()
        self.people = [Resident(self, i) for i in range(len(self.residents))]
        self.week = 0
        self.new_customers: list[float] = []
        self.churned: list[float] = []

    def targeted(self, person: Resident, segments: tuple[str, ...]) -> bool:
        return not segments or any(segment_matches(t, person.segment, person.sme)
                                   for t in segments)

    def step(self) -> None:
        p, rnd, scale = self.params, self.random, self.residents.scale
        self.week += 1
        boost = 0.0
        for campaign in p.campaigns:
            first, last = campaign.weeks
            if not first <= self.week <= last:
                continue
            ch = p.channels[campaign.channel]
            weekly = campaign.spend / (last - first + 1)
            targets = [a for a in self.people if self.targeted(a, campaign.segments)]
            people = len(targets) * scale
            saturation = 1 - math.exp(-weekly / (ch.spend_per_resident * people))
            reach = ch.max_reach * saturation
            for a in targets:
                prob = reach * ch.affinity[a.age] * (a.digital if ch.digital else 1.0)
                if rnd.random() < prob:
                    a.awareness += (1 - a.awareness) * ch.awareness_gain
                    a.last_channel = CHANNELS.index(campaign.channel)
            boost += ch.word_of_mouth_boost * saturation
        customers_before = {a.index for a in self.people if a.is_customer()}
        adopted = {a.index: a.is_customer() for a in self.people}
        won: set[int] = set()
        for _ in range(p.substeps):
            snapshot = dict(adopted)
            for a in self.people:
                if snapshot[a.index]:
                    continue
                access = 1.0 if a.digital >= p.digital_threshold else math.exp(
                    -a.outlet_min / p.access_minutes)
                factor = p.winback if a.stage == LAPSED else 1.0
                media = (p.base_adoption + p.campaign_adoption * a.awareness
                         * p.segment_response[a.age]) * access
                share = sum(w for j, w in a.ties if snapshot[j])
                hazard = (media + (p.word_of_mouth + boost) * share) * factor
                if rnd.random() < 1 - math.exp(-hazard / p.substeps):
                    adopted[a.index] = True
                    won.add(a.index)
        load: dict[int, float] = {}
        for a in self.people:
            if a.index in customers_before:
                load[a.outlet] = load.get(a.outlet, 0.0) + scale
        churned = set()
        for a in self.people:
            if a.index not in customers_before:
                continue
            congestion = max(load[a.outlet] * VISITS / 500.0 - 1, 0.0)
            hazard = (p.churn_base * (1 + p.churn_congestion * congestion)
                      * (1 + p.churn_distance * min(a.outlet_min / 30, 2))
                      * (1 + p.churn_competition * a.competition))
            if rnd.random() < 1 - math.exp(-hazard):
                churned.add(a.index)
        for a in self.people:
            a.weeks_in_stage += 1
            if (a.stage == NEW and a.weeks_in_stage >= p.weeks_new) or (
                    a.stage == ACTIVE and a.weeks_in_stage >= p.weeks_active):
                a.stage += 1
                a.weeks_in_stage = 0
            if a.index in churned:
                a.stage, a.weeks_in_stage = LAPSED, 0
            if a.index in won:
                a.stage, a.weeks_in_stage = NEW, 0
            a.awareness *= 1 - p.awareness_decay
        self.new_customers.append(len(won) * scale)
        self.churned.append(len(churned) * scale)
