"""Events held at venues: the community_event campaigns' events and the planned events
(docs/simulation.md, "Events at venues" and "Planned events").

A venue holds at most one event a week. Planned events (an event plan's) book their
venues first; the community_event campaigns then share the other venues. Campaigns with
the same target (segments and communities) pool their money, so a campaign written as
five campaigns holds the same events as the one; money a week too small for an event is
kept for a later week of the same target.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulation.errors import SimulationError
from simulation.exposure import CAMPAIGN_EVENTS, PLANNED_EVENTS, stream
from simulation.params import ScheduledEvent, SimulationParams
from simulation.population import Residents, Venues

__all__ = ["EventHost", "WeekOfEvents"]


@dataclass
class WeekOfEvents:
    """What a week's events did: how many events each resident came to, their cost, how
    many were held, the attendance and the staff they needed."""

    attended: np.ndarray
    spend: float = 0.0
    held: int = 0
    attendance: float = 0.0
    staff: float = 0.0


@dataclass
class _Target:
    """community_event campaigns with one target: their mask and the money they kept."""

    campaigns: list[int]
    mask: np.ndarray
    savings: float = 0.0


class EventHost:
    """Holds each week's events; residents attend under the rule of docs/simulation.md."""

    def __init__(self, residents: Residents, params: SimulationParams, venues: Venues,
                 targets: list[np.ndarray], campaigns: list[int], key: int) -> None:
        self._r, self._p, self._key = residents, params, key
        self._minutes = venues.minutes.reindex(
            index=residents.community_ids, columns=venues.table.index).to_numpy(np.float64)
        if np.isnan(self._minutes).any():
            raise SimulationError("venue minutes lack some communities or venues")
        self._decay = (np.exp(-self._minutes / params.event_walk_decay_min)
                       * (self._minutes <= params.event_max_walk_min))
        self._capacity = venues.table["capacity"].to_numpy(np.float64)
        self._cost = venues.table["cost_per_event"].to_numpy(np.float64)
        grouped: dict[tuple[tuple[str, ...], tuple[str, ...]], _Target] = {}
        for k in campaigns:
            c = params.campaigns[k]
            group_key = (tuple(sorted(c.segments)), tuple(sorted(c.communities)))
            grouped.setdefault(group_key, _Target([], targets[k])).campaigns.append(k)
        self._targets = list(grouped.values())
        self._pull: np.ndarray | None = None  # targets x venues, on first use
        self._schedule(venues)

    def _schedule(self, venues: Venues) -> None:
        """Group the planned events by week and type; each type's attend rate per resident."""
        p, r = self._p, self._r
        self._scheduled: dict[int, dict[int, tuple[np.ndarray, list[ScheduledEvent]]]] = {}
        self._rates: list[np.ndarray] = []
        if not p.events:
            return
        index = venues.table.index
        unknown = sorted({e.venue_id for e in p.events} - set(index))
        if unknown:
            raise SimulationError(f"params.events names venue(s) {unknown[:5]} that are not "
                                  "in the venues given")
        types = sorted({e.event_type for e in p.events})
        low_income = (r.segment % 3 == 0).astype(np.float32)
        for name in types:
            e = next(e for e in p.events if e.event_type == name)
            self._rates.append((e.attend_rate * np.asarray(e.affinity, np.float32)[r.age]
                                * (1 + e.low_income_boost * low_income)).astype(np.float32))
        self._offered = np.zeros((len(r.community_ids), len(types)), dtype=np.int64)
        grouped: dict[int, dict[int, list[ScheduledEvent]]] = {}
        for e in p.events:
            grouped.setdefault(e.week, {}).setdefault(types.index(e.event_type), []).append(e)
        for week, by_type in grouped.items():
            self._scheduled[week] = {
                t: (index.get_indexer(pd.Index([e.venue_id for e in evs])), evs)
                for t, evs in sorted(by_type.items())}

    def week(self, week: int, affinity: np.ndarray) -> WeekOfEvents:
        """Hold the planned events of ``week``, then the campaigns' events on the venues
        left; ``affinity``: each resident's affinity for a campaign's event."""
        out = WeekOfEvents(np.zeros(len(self._r), dtype=np.int16))
        booked = self._planned(week, out)
        self._campaign_events(week, affinity, booked, out)
        return out

    def _planned(self, week: int, out: WeekOfEvents) -> set[int]:
        """Planned events: each type's events held apart, every adult a possible guest; a
        community offered a type again comes ``event_repeat_decay`` times as much as the
        time before (the event planner's repeat rule)."""
        p, r = self._p, self._r
        everyone = np.ones(len(r), dtype=bool)
        booked: set[int] = set()
        for t, (venues, events) in self._scheduled.get(week, {}).items():
            draw = stream(self._key, PLANNED_EVENTS, t, week).random(len(r), dtype=np.float32)
            repeat = p.event_repeat_decay ** self._offered[:, t]
            hit, venue_of, per_event = self._attend(venues, self._rates[t], everyone, draw,
                                                    repeat)
            self._offered[venue_of >= 0, t] += 1
            out.attended += hit
            out.attendance += float(per_event.sum())
            out.spend += sum(e.cost for e in events)
            out.held += len(events)
            out.staff += sum(e.staff for e in events) + float(
                np.ceil(per_event / p.attendees_per_staff - 1e-9).sum())
            booked.update(int(v) for v in venues)
        return booked

    def _campaign_events(self, week: int, affinity: np.ndarray, booked: set[int],
                         out: WeekOfEvents) -> None:
        """The community_event campaigns' events of ``week``.

        Each target's money this week is its running campaigns' weekly spend plus what it
        kept from earlier weeks (a target none of whose campaigns runs keeps nothing).
        Each venue not booked goes to the target that pulls most there (the targeted
        adults within reach, sum of adults x exp(-minutes / decay)); venues are taken in
        order of that pull while their target's money covers their cost. Targets then
        hold their events in turn, each with its own draws; a resident who came to an
        earlier target's event this week is no guest of a later one.
        """
        p, r = self._p, self._r
        running = [[k for k in target.campaigns if p.campaigns[k].spend > 0
                    and p.campaigns[k].weeks[0] <= week <= p.campaigns[k].weeks[1]]
                   for target in self._targets]
        money = [sum(p.campaigns[k].spend / (p.campaigns[k].weeks[1] - p.campaigns[k].weeks[0]
                                             + 1) for k in ks) + target.savings if ks else 0.0
                 for target, ks in zip(self._targets, running, strict=True)]
        for target, ks in zip(self._targets, running, strict=True):
            if not ks:
                target.savings = 0.0
        if not any(m > 0 for m in money):
            return
        if self._pull is None:  # each target's pull on each venue: its masks never change
            self._pull = np.array([(np.bincount(r.community[t.mask],
                                                minlength=len(r.community_ids)) * r.scale)
                                   @ self._decay for t in self._targets])
        none = np.zeros(self._decay.shape[1])
        pull = np.array([self._pull[g] if ks else none
                         for g, ks in enumerate(running)]).reshape(len(running), -1)
        owner = np.argmax(pull, axis=0)  # the first target on ties
        top = pull[owner, np.arange(pull.shape[1])]
        chosen: list[list[int]] = [[] for _ in self._targets]
        for v in np.argsort(-top, kind="stable"):
            g = int(owner[v])
            # a cent's tolerance: 5 x (spend / 5) must buy what spend buys
            if top[v] <= 0 or int(v) in booked or self._cost[v] > money[g] + 0.01:
                continue
            chosen[g].append(int(v))
            money[g] -= float(self._cost[v])
            booked.add(int(v))
        came = np.zeros(len(r), dtype=bool)
        for g, target in enumerate(self._targets):
            if running[g]:
                target.savings = money[g]
            if not chosen[g]:
                continue
            draw = stream(self._key, CAMPAIGN_EVENTS, g, week).random(len(r), dtype=np.float32)
            hit, _, per_event = self._attend(np.array(chosen[g]), p.event_attend_rate * affinity,
                                             target.mask & ~came, draw)
            came |= hit
            out.attended += hit
            out.attendance += float(per_event.sum())
            out.spend += float(self._cost[chosen[g]].sum())
            out.held += len(chosen[g])
            out.staff += p.staff_per_event * len(chosen[g]) + float(
                np.ceil(per_event / p.attendees_per_staff - 1e-9).sum())

    def _attend(self, chosen: np.ndarray, rate: np.ndarray, target: np.ndarray,
                draw: np.ndarray, repeat: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Who comes to events at the ``chosen`` venues: (attendees, each community's
        venue among ``chosen`` or -1 beyond reach, the attendance of each chosen venue's
        event).

        A targeted resident goes to the nearest chosen venue with probability
        rate x exp(-minutes / decay) (0 beyond the longest walk) x ``repeat`` (a factor per
        community); where more would come than the venue holds, the expectation is scaled
        down to its capacity, and any excess drawn is turned away.
        """
        r = self._r
        decay = self._decay[:, chosen]
        nearest = np.argmin(np.where(decay > 0, self._minutes[:, chosen], np.inf), axis=1)
        reach = decay[np.arange(len(decay)), nearest]
        if repeat is not None:
            reach = reach * repeat
        venue_of = nearest[r.community]
        prob = (rate * reach[r.community]).astype(np.float32)
        prob[~target] = 0
        capacity = self._capacity[chosen]
        expected = np.bincount(venue_of, weights=prob, minlength=len(chosen)) * r.scale
        prob *= np.minimum(1.0, capacity / np.maximum(expected, 1e-12))[venue_of].astype(
            np.float32)
        come = np.flatnonzero(draw < prob)
        # turn away whoever exceeds a venue's capacity (the highest draws go home)
        order = come[np.lexsort((draw[come], venue_of[come]))]
        rank = np.arange(order.size) - np.searchsorted(venue_of[order], venue_of[order])
        room = np.floor(capacity / r.scale + 1e-9).astype(np.int64)[venue_of[order]]
        attendees = np.zeros(len(r), dtype=bool)
        kept = order[rank < room]
        attendees[kept] = True
        per_event = np.bincount(venue_of[kept], minlength=len(chosen)) * r.scale
        return attendees, np.where(reach > 0, nearest, -1), per_event
