"""A per-agent reference of the resident model, written from docs/simulation.md alone
("Residents", "One week" 1-5, "Random numbers", "Outputs and KPIs"), without reading the
vectorized implementation, so that a defect there is not copied here.

One ``mesa.Agent`` per resident, plain Python loops and Python's own random numbers (the
model's ``self.random``): slow and obvious on purpose. Residents and ties come from
``synthesize_residents`` (the same "Residents" section), so the two models agree in law,
not draw for draw. Every count recorded is in adults (agents x agent_scale).
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pandas as pd

from simulation._mesa import mesa
from simulation.params import (
    CHANNELS,
    SEGMENTS,
    Campaign,
    ScheduledEvent,
    SimulationParams,
    segment_matches,
)
from simulation.population import Venues, synthesize_residents

CUSTOMER_STAGES = ("new", "active", "mature")
BALANCE_BY_AGE = (0.6, 1.0, 1.5)  # "5. Money"
Key = tuple[tuple[str, ...], tuple[str, ...]]  # a campaign's target: segments, communities


class Resident(mesa.Agent):
    """One resident (or one agent standing for ``agent_scale`` adults)."""

    def __init__(self, model: ReferenceModel, *, community: str, age: int, tier: int,
                 sme: bool, digital: float, minutes: float, outlet: str,
                 customer: bool) -> None:
        super().__init__(model)
        self.community, self.age, self.tier, self.sme = community, age, tier, sme
        self.segment = SEGMENTS[age * 3 + tier]
        self.digital, self.minutes, self.outlet = digital, minutes, outlet
        self.stage = "mature" if customer else "prospect"
        self.joined = 0  # week of the last adoption
        self.awareness = 0.0
        self.referral = 0.0  # referral activity rho
        self.last_channel: str | None = None
        self.ties: list[tuple[Resident, float]] = []  # (tie, w_ij)
        self.started_customer = customer
        self.churned_ever = False

    @property
    def is_customer(self) -> bool:
        return self.stage in CUSTOMER_STAGES

    def in_target(self, c: Campaign) -> bool:
        seg = not c.segments or any(segment_matches(t, self.segment, self.sme)
                                    for t in c.segments)
        return seg and (not c.communities or self.community in c.communities)

    def reach(self, channel: str, x: float) -> float:
        ch = self.model.params.channels[channel]
        r = ch.max_reach * (1 - math.exp(-x / ch.spend_per_resident)) * ch.affinity[self.age]
        return min(1.0, r * self.digital if ch.digital else r)

    def gain_awareness(self, channel: str) -> None:
        g = self.model.params.channels[channel].awareness_gain
        self.awareness += (1 - self.awareness) * g
        self.last_channel = channel

    def hazard_parts(self) -> tuple[float, float, float]:
        """(organic, campaign, referral) parts of the weekly adoption hazard."""
        p = self.model.params
        access = (1.0 if self.digital >= p.digital_threshold
                  else math.exp(-self.minutes / p.access_minutes))
        s = rho = 0.0  # share of ties who are customers; sum_j w_ij rho_j
        for j, w in self.ties:
            if j.stage in CUSTOMER_STAGES:
                s += w
            rho += w * j.referral
        factor = p.winback if self.stage == "lapsed" else 1.0
        organic = factor * (p.base_adoption * access + p.word_of_mouth * s)
        campaign = factor * p.campaign_adoption * self.awareness * p.segment_response[
            self.age] * access
        return organic, campaign, factor * self.model.wom_boost * rho

    def churn_hazard(self, congestion: float) -> float:
        p = self.model.params
        stage = p.churn_early if self.stage in ("new", "active") else 1.0
        return (p.churn_base * p.churn_age[self.age] * stage
                * (1 + p.churn_congestion * congestion)
                * (1 + p.churn_distance * min(self.minutes / 30, 2))
                * (1 + p.churn_competition * self.model.competitor_share[self.community]))

    def deposits(self) -> float:
        p = self.model.params
        return ((p.balance_base + p.balance_income_share
                 * self.model.median_income[self.community]) * BALANCE_BY_AGE[self.age])


class ReferenceModel(mesa.Model):
    """The weekly mechanisms of docs/simulation.md, one agent at a time."""

    def __init__(self, inputs: pd.DataFrame, params: SimulationParams, *, seed: int,
                 venues: Venues | None = None, capacity: pd.Series | None = None) -> None:
        super().__init__(seed=seed)
        p = self.params = params
        res = synthesize_residents(inputs, max_agents=p.max_agents, ties_within=p.ties_within,
                                   ties_across=p.ties_across, rewire=p.rewire,
                                   tie_distance_km=p.tie_distance_km,
                                   rng=np.random.default_rng(seed + 10_000))
        self.scale = float(res.agent_scale)
        self.venues = venues
        self.walk_minutes = ({str(c): {str(v): float(m) for v, m in row.items()}
                              for c, row in venues.minutes.iterrows()} if venues else {})
        table = venues.table if venues else pd.DataFrame(columns=["capacity", "cost_per_event"])
        self.venue_capacity = {str(v): float(c) for v, c in table["capacity"].items()}
        self.venue_cost = {str(v): float(c) for v, c in table["cost_per_event"].items()}
        self.community_ids = [str(c) for c in res.community_ids]
        self.median_income = {str(c): float(v) for c, v in inputs["median_income"].items()}
        self.competitor_share = {str(c): float(v)
                                 for c, v in inputs["competitor_share"].items()}
        if capacity is None:
            capacity = inputs.groupby("outlet", sort=False)["outlet_capacity"].first()
        self.capacity = {str(o): float(capacity[o]) for o in res.outlet_ids}
        rc = "referral_bonus"
        self.wom_boost = p.channels[rc].word_of_mouth_boost if rc in p.channels else 0.0
        self.residents = [
            Resident(self, community=self.community_ids[int(res.community[i])],
                     age=int(res.age[i]), tier=int(res.tier[i]), sme=bool(res.sme[i]),
                     digital=float(res.digital[i]), minutes=float(res.outlet_min[i]),
                     outlet=str(res.outlet_ids[int(res.outlet[i])]),
                     customer=bool(res.customer[i])) for i in range(len(res))]
        t = res.ties.tocsr()
        for i, r in enumerate(self.residents):
            lo, hi = int(t.indptr[i]), int(t.indptr[i + 1])
            r.ties = [(self.residents[int(j)], float(w))
                      for j, w in zip(t.indices[lo:hi], t.data[lo:hi], strict=True)]
        self.members = [[r for r in self.residents if r.in_target(c)] for c in p.campaigns]
        self.savings: dict[Key, float] = {}
        self.offered: dict[tuple[str, str], int] = defaultdict(int)  # (community, type)
        self.customers_start = self.scale * sum(r.is_customer for r in self.residents)
        self.week = 0
        self.new_customers: list[float] = []
        self.churned: list[float] = []
        self.spend: list[float] = []
        self.event_attendance: list[float] = []
        self.staff: list[int] = []
        self.won: list[dict[str, float]] = []
        self.new_by_community: list[dict[str, float]] = []
        self.customers: list[float] = []
        self.deposits: list[float] = []

    # -- helpers ---------------------------------------------------------------------
    def _weekly(self, k: int) -> float:
        first, last = self.params.campaigns[k].weeks
        return self.params.campaigns[k].spend / (last - first + 1)

    def _walk(self, minutes: float) -> float:
        p = self.params
        return math.exp(-minutes / p.event_walk_decay_min) if minutes <= p.event_max_walk_min \
            else 0.0

    def _minutes(self, community: str, venue: str) -> float:
        return self.walk_minutes[community][venue]

    def _hold(self, venue: str, guests: list[tuple[Resident, float]]) -> list[Resident]:
        """Attendance at one event: probabilities scaled to the venue's capacity, excess
        draws turned away (the highest go home)."""
        cap = self.venue_capacity[venue]
        expected = self.scale * sum(q for _, q in guests)
        f = min(1.0, cap / expected) if expected > 0 else 0.0
        draws = [(self.random.random(), r, q) for r, q in guests]
        came = sorted((u, i, r) for i, (u, r, q) in enumerate(draws) if u < q * f)
        room = math.floor(cap / self.scale + 1e-9)
        return [r for _, _, r in came[:room]]

    def _attend(self, held: list[tuple[str, list[Resident]]]) -> float:
        """Attendees gain awareness as if reached by community_event; adults who came."""
        for _, people in held:
            for r in people:
                r.gain_awareness("community_event")
        return self.scale * sum(len(people) for _, people in held)

    def _staff(self, base: int, people: list[Resident]) -> int:
        return base + math.ceil(self.scale * len(people) / self.params.attendees_per_staff)

    # -- 1. exposure -------------------------------------------------------------------
    def _exposure(self, running: list[int]) -> float:
        p, spent = self.params, 0.0
        for channel in CHANNELS:
            ks = [k for k in running if p.campaigns[k].channel == channel]
            if not ks or (channel == "community_event" and self.venues is not None):
                continue
            # a campaign aimed at nobody spends nothing
            spent += sum(self._weekly(k) for k in ks if self.members[k])
            x: dict[Resident, float] = defaultdict(float)
            for k in ks:
                if self.members[k]:
                    per_adult = self._weekly(k) / (self.scale * len(self.members[k]))
                    for r in self.members[k]:
                        x[r] += per_adult
            for r, xi in x.items():
                if channel == "referral_bonus" and not r.is_customer:
                    continue  # prospects are not reached by a referral scheme
                if self.random.random() < r.reach(channel, xi):
                    if channel == "referral_bonus":
                        g = p.channels[channel].awareness_gain
                        r.referral += (1 - r.referral) * g
                    else:
                        r.gain_awareness(channel)
        return spent

    def _planned_events(self) -> tuple[float, float, int, set[str]]:
        p, evs = self.params, [e for e in self.params.events if e.week == self.week]
        if evs and self.venues is None:
            raise ValueError("planned events need venues")
        visits, cost, staff = 0.0, 0.0, 0
        types: dict[str, list[ScheduledEvent]] = defaultdict(list)
        for e in evs:
            types[e.event_type].append(e)
        for etype, events in types.items():
            guests: dict[str, list[tuple[Resident, float]]] = {e.venue_id: [] for e in events}
            by_venue = {e.venue_id: e for e in events}
            offered = set()
            for r in self.residents:  # every adult a possible guest
                v = min(by_venue, key=lambda v: self._minutes(r.community, v))
                e, m = by_venue[v], self._minutes(r.community, v)
                if self._walk(m) > 0:
                    offered.add(r.community)
                boost = 1 + e.low_income_boost if r.tier == 0 else 1.0
                decay = p.event_repeat_decay ** self.offered[(r.community, etype)]
                guests[v].append((r, e.attend_rate * e.affinity[r.age] * boost
                                  * self._walk(m) * decay))
            held = [(v, self._hold(v, g)) for v, g in guests.items()]
            visits += self._attend(held)
            cost += sum(e.cost for e in events)
            staff += sum(self._staff(by_venue[v].staff, people) for v, people in held)
            for c in offered:
                self.offered[(c, etype)] += 1
        return visits, cost, staff, {e.venue_id for e in evs}

    def _campaign_events(self, running: list[int], booked: set[str]) -> tuple[float, float,
                                                                                int]:
        p = self.params
        targets: dict[Key, list[int]] = {}
        for k in running:
            c = p.campaigns[k]
            if c.channel == "community_event":
                targets.setdefault((tuple(sorted(c.segments)), tuple(sorted(c.communities))),
                                   []).append(k)
        money = {t: self.savings.get(t, 0.0) + sum(self._weekly(k) for k in ks)
                 for t, ks in targets.items()}  # savings of idle targets are dropped
        members = {t: self.members[ks[0]] for t, ks in targets.items()}
        adults: dict[Key, dict[str, float]] = {}
        for t, rs in members.items():
            adults[t] = defaultdict(float)
            for r in rs:
                adults[t][r.community] += self.scale
        free = [v for v in self.venue_cost if v not in booked]
        pull = {(v, t): sum(a * self._walk(self._minutes(c, v)) for c, a in adults[t].items())
                for v in free for t in targets}
        best = {v: max(targets, key=lambda t: pull[(v, t)]) for v in free if targets}
        order = sorted(best, key=lambda v: -pull[(v, best[v])])
        venue_of: dict[Key, list[str]] = defaultdict(list)
        cost = 0.0
        for v in order:
            t, price = best[v], self.venue_cost[v]
            if pull[(v, t)] > 0 and money[t] >= price:
                money[t] -= price
                cost += price
                venue_of[t].append(v)
        self.savings = money
        affinity = p.channels["community_event"].affinity
        went: set[Resident] = set()
        visits, staff = 0.0, 0
        for t, vs in venue_of.items():
            guests: dict[str, list[tuple[Resident, float]]] = {v: [] for v in vs}
            for r in members[t]:
                if r not in went:
                    v = min(vs, key=lambda v: self._minutes(r.community, v))
                    guests[v].append((r, p.event_attend_rate * affinity[r.age]
                                      * self._walk(self._minutes(r.community, v))))
            held = [(v, self._hold(v, g)) for v, g in guests.items()]
            for _, people in held:
                went.update(people)
            visits += self._attend(held)
            staff += sum(self._staff(p.staff_per_event, people) for _, people in held)
        return visits, cost, staff

    # -- the week ------------------------------------------------------------------------
    def step(self) -> None:
        self.week += 1
        p, w, scale = self.params, self.week, self.scale
        running = [k for k, c in enumerate(p.campaigns)
                   if c.weeks[0] <= w <= c.weeks[1] and c.spend > 0]  # zero spend: nothing
        spent = self._exposure(running)
        visits, cost, staff, booked = self._planned_events()
        spent += cost
        if self.venues is not None:
            v2, c2, s2 = self._campaign_events(running, booked)
            visits, spent, staff = visits + v2, spent + c2, staff + s2
        # 2. adoption in substeps; word of mouth sees earlier substeps' adoptions
        customers_at_start = [r for r in self.residents if r.is_customer]
        won = {ch: 0.0 for ch in (*CHANNELS, "organic")}
        by_comm = {c: 0.0 for c in self.community_ids}
        candidates = [r for r in self.residents if r.stage in ("prospect", "lapsed")]
        for _ in range(p.substeps):
            adopters = []
            for r in candidates:
                parts = r.hazard_parts()
                h = sum(parts)
                if h > 0 and self.random.random() < 1 - math.exp(-h / p.substeps):
                    adopters.append((r, parts, h))
            for r, (organic, campaign, referral), h in adopters:
                r.stage, r.joined = "new", w
                won["organic"] += scale * organic / h
                if campaign > 0 and r.last_channel is not None:
                    won[r.last_channel] += scale * campaign / h
                won["referral_bonus"] += scale * referral / h
                by_comm[r.community] += scale
            taken = {id(r) for r, _, _ in adopters}
            candidates = [r for r in candidates if id(r) not in taken]
        # 3. churn of the customers at the start of the week (this week's new customers
        # can churn from next week), congestion from them
        load: dict[str, float] = defaultdict(float)
        for r in customers_at_start:
            load[r.outlet] += scale
        churned = 0.0
        for r in customers_at_start:
            congestion = max(0.0, load[r.outlet] * p.visits_per_customer_week
                             / self.capacity[r.outlet] - 1)
            if self.random.random() < 1 - math.exp(-r.churn_hazard(congestion)):
                r.stage, r.referral, r.churned_ever = "lapsed", 0.0, True
                churned += scale
        # 4. lifecycle: weeks as a customer after the joining week
        for r in self.residents:
            if r.stage in ("new", "active"):
                weeks_in = w - r.joined
                r.stage = ("mature" if weeks_in >= p.weeks_new + p.weeks_active
                           else "active" if weeks_in >= p.weeks_new else "new")
        # end of the week: awareness and referral activity decay
        for r in self.residents:
            r.awareness *= 1 - p.awareness_decay
            r.referral = r.referral * (1 - p.awareness_decay) if r.is_customer else 0.0
        self.new_customers.append(sum(by_comm.values()))
        self.churned.append(churned)
        self.spend.append(spent)
        self.event_attendance.append(visits)
        self.staff.append(staff)
        self.won.append(won)
        self.new_by_community.append(by_comm)
        self.customers.append(scale * sum(r.is_customer for r in self.residents))
        self.deposits.append(scale * sum(r.deposits() for r in self.residents
                                         if r.is_customer))  # 5. money

    @property
    def stayed(self) -> float:
        """Adults among the starting customers who never churned."""
        return self.scale * sum(r.started_customer and not r.churned_ever
                                for r in self.residents)

    def run(self) -> ReferenceModel:
        for _ in range(self.params.weeks):
            self.step()
        return self
