"""Who a week's campaigns reach, channel by channel (docs/simulation.md, "1. Exposure").

The campaigns of one channel act together: each resident's *intensity* in a week is the
sum, over the channel's campaigns running that week and targeting the resident, of the
campaign's weekly spend per targeted adult. Reach saturates in that intensity, and each
resident draws one uniform number per channel and week. So a campaign written as five
campaigns with the same target, weeks and total spend gives the same intensity, the same
reach and the same draws as the one campaign: it cannot escape the channel's saturation.

Random numbers: the draws of channel c in week w come from their own stream, seeded by
(the model's exposure key, c, w). A run draws for a channel only in the weeks it is active,
and two scenarios that differ in one channel still share every other channel's draws
(common random numbers across scenarios, not only against the counterfactual).
"""

from __future__ import annotations

import numpy as np

from simulation.params import CHANNELS, SimulationParams
from simulation.population import Residents

__all__ = ["ChannelExposure", "stream"]

#: Stream kinds: channel reach draws, campaign-event attendance, planned-event attendance.
REACH, CAMPAIGN_EVENTS, PLANNED_EVENTS = 0, 1, 2


def stream(key: int, kind: int, index: int, week: int) -> np.random.Generator:
    """The random numbers of one kind of draw, one channel or event type, one week."""
    return np.random.default_rng([key, kind, index, week])


class ChannelExposure:
    """Weekly reach of every channel's campaigns, except events held at venues.

    Parameters
    ----------
    residents
        The model's residents.
    params
        The model's parameters; ``params.campaigns`` are the campaigns.
    targets
        Each campaign's target mask (residents it is aimed at).
    skip
        Indices of campaigns handled elsewhere (community_event campaigns at venues).
    key
        The model's exposure key (see :func:`stream`).
    """

    def __init__(self, residents: Residents, params: SimulationParams,
                 targets: list[np.ndarray], skip: set[int], key: int) -> None:
        self._r, self._p, self._targets, self._key = residents, params, targets, key
        self.by_channel: dict[int, list[int]] = {}
        for k, c in enumerate(params.campaigns):
            if k not in skip:
                self.by_channel.setdefault(CHANNELS.index(c.channel), []).append(k)
        self._people = [float(t.sum()) * residents.scale for t in targets]
        self._last: dict[int, tuple[frozenset[int], np.ndarray]] = {}

    def active(self, channel: int, week: int) -> frozenset[int]:
        """The channel's campaigns that spend on somebody in ``week``."""
        out = []
        for k in self.by_channel.get(channel, ()):
            c = self._p.campaigns[k]
            if c.weeks[0] <= week <= c.weeks[1] and c.spend > 0 and self._people[k] > 0:
                out.append(k)
        return frozenset(out)

    def weekly_spend(self, campaigns: frozenset[int]) -> float:
        """What ``campaigns`` spend in one of their weeks."""
        return float(sum(self._p.campaigns[k].spend / (self._p.campaigns[k].weeks[1]
                                                      - self._p.campaigns[k].weeks[0] + 1)
                         for k in sorted(campaigns)))

    def reach(self, channel: int, campaigns: frozenset[int]) -> np.ndarray:
        """Each resident's probability of being reached this week by ``campaigns`` (all of
        channel ``channel``): max_reach x (1 - exp(-x / spend_per_resident)) x affinity
        [x digital propensity], at most 1, where x is the resident's intensity."""
        last = self._last.get(channel)
        if last is not None and last[0] == campaigns:
            return last[1]
        r, name = self._r, CHANNELS[channel]
        ch = self._p.channels[name]
        intensity = np.zeros(len(r), dtype=np.float64)
        for k in sorted(campaigns):
            c = self._p.campaigns[k]
            weekly = c.spend / (c.weeks[1] - c.weeks[0] + 1)
            intensity[self._targets[k]] += weekly / self._people[k]
        weight = np.asarray(ch.affinity, dtype=np.float64)[r.age]
        if ch.digital:
            weight = weight * r.digital
        prob = np.minimum(ch.max_reach * -np.expm1(-intensity / ch.spend_per_resident)
                          * weight, 1.0).astype(np.float32)
        self._last[channel] = (campaigns, prob)
        return prob

    def draws(self, channel: int, week: int) -> np.ndarray:
        """The channel's uniform draws of ``week``, one per resident."""
        return stream(self._key, REACH, channel, week).random(len(self._r), dtype=np.float32)
