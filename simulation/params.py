"""Parameters of the resident model: frozen, validated, every default documented in
docs/simulation.md."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field, fields
from typing import Any

from geo.assumptions import (
    ATTENDEES_PER_STAFF,
    CAMPAIGN_EVENT,
    EVENT_MAX_WALK_MIN,
    EVENT_REPEAT_DECAY,
    EVENT_WALK_DECAY_MIN,
    VISITS_PER_CUSTOMER_WEEK,
)
from simulation.errors import SimulationError

__all__ = [
    "AGE_BANDS",
    "CHANNELS",
    "CUSTOMER_STAGES",
    "DEFAULT_CHANNELS",
    "FULL_SCALE_AGENTS",
    "INCOME_TIERS",
    "SEGMENTS",
    "SEGMENT_HELP",
    "Campaign",
    "ChannelParams",
    "ScheduledEvent",
    "SimulationParams",
    "full_scale",
    "replication_params",
    "segment_matches",
    "unknown_segments",
    "with_values",
]

#: A forecast compared with a bank's counts runs one agent per adult up to this many
#: agents: an agent standing for k residents moves a count by k, so the model's scatter
#: of a count would be k times a bank's and its intervals too wide (measured on the
#: sample city at 7 residents an agent: a held-out interval of +-11% around 2,200 new
#: customers, where a bank's own noise is +-2%). 500,000 agents take about 1 GB.
FULL_SCALE_AGENTS = 500_000

CHANNELS: tuple[str, ...] = ("community_event", "social_media", "sms", "merchant_alliance",
                             "referral_bonus", "outlet_promo", "kol_live")
#: The lifecycle stages of a customer (the model's stages less prospect and lapsed).
CUSTOMER_STAGES: tuple[str, ...] = ("new", "active", "mature")
AGE_BANDS: tuple[str, ...] = ("18-35", "36-55", "56+")
INCOME_TIERS: tuple[str, ...] = ("low", "middle", "high")
#: The nine age x income segments, in the order of the model's segment codes 0..8.
SEGMENTS: tuple[str, ...] = tuple(f"{a}/{t}" for a in AGE_BANDS for t in INCOME_TIERS)
_SEGMENT = re.compile(r"^(?:(18-35|36-55|56\+)(?:/(low|middle|high))?|(low|middle|high)|sme)$")
#: What a campaign's segment list may hold, for error messages.
SEGMENT_HELP = ("an age band (18-35, 36-55, 56+), an income tier (low, middle, high), both "
                "as '56+/low', or 'sme'")


def unknown_segments(segments: tuple[str, ...] | list[str]) -> list[str]:
    """The entries of ``segments`` that name no segment."""
    return [s for s in segments if not _SEGMENT.match(s)]


def segment_matches(target: str, segment: str, sme: bool) -> bool:
    """Whether a resident of ``segment`` (and small-business owner or not) is targeted."""
    if target == "sme":
        return sme
    age, tier = segment.split("/")
    return target in (age, tier, segment)


@dataclass(frozen=True)
class ChannelParams:
    """How a channel reaches residents (docs/simulation.md, "1. Exposure").

    ``max_reach``: the share of targeted residents reached in a week at unlimited spend.
    ``spend_per_resident``: spend per targeted resident and week that reaches 63% of
    ``max_reach`` (reach saturates as 1 - exp(-x / spend_per_resident), x the week's
    spend per targeted resident of all the channel's campaigns together).
    ``digital``: reach scales with each resident's digital propensity.
    ``awareness_gain``: how far one week's exposure moves awareness towards 1.
    ``affinity``: multiplier of reach by age band (18-35, 36-55, 56+).
    ``word_of_mouth_boost``: referral schemes only: a customer the scheme reaches becomes
    a referrer (activity moved towards 1 by ``awareness_gain``), and each prospect's
    adoption hazard gains ``word_of_mouth_boost`` x the referrers' activity among its ties.
    """

    max_reach: float
    spend_per_resident: float
    digital: bool
    awareness_gain: float
    affinity: tuple[float, float, float]
    word_of_mouth_boost: float = 0.0


#: Defaults per channel; their sources and reasoning are in docs/simulation.md
#: ("Assumptions"). ``community_event`` reach applies only without venues.
DEFAULT_CHANNELS: dict[str, ChannelParams] = {
    "community_event": ChannelParams(0.05, 1.50, False, 0.90, CAMPAIGN_EVENT.affinity),
    "social_media": ChannelParams(0.70, 0.02, True, 0.010, (1.4, 1.0, 0.5)),
    "sms": ChannelParams(0.50, 0.07, False, 0.030, (0.9, 1.0, 1.1)),
    "merchant_alliance": ChannelParams(0.40, 0.20, False, 0.085, (1.0, 1.1, 0.9)),
    "referral_bonus": ChannelParams(0.50, 0.05, False, 0.30, (1.2, 1.0, 0.8), 0.0075),
    "outlet_promo": ChannelParams(0.50, 0.50, False, 0.14, (0.9, 1.0, 1.2)),
    "kol_live": ChannelParams(0.35, 0.03, True, 0.022, (1.6, 0.9, 0.3)),
}


@dataclass(frozen=True)
class Campaign:
    """A channel, target segments and communities (empty: all), weeks [first, last] and
    the total spend spread evenly over those weeks."""

    channel: str
    spend: float
    weeks: tuple[int, int] = (1, 52)
    segments: tuple[str, ...] = ()
    communities: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScheduledEvent:
    """One planned event (an event plan's row): its week, venue and type, what the type
    draws by age band (``affinity``, raised by ``low_income_boost`` for low-income
    residents), the share of well-fitted residents next door who come (``attend_rate``),
    its whole cost (venue and materials) and its staff."""

    week: int
    venue_id: str
    event_type: str
    affinity: tuple[float, float, float]
    low_income_boost: float = 0.0
    attend_rate: float = CAMPAIGN_EVENT.attend_rate
    cost: float = 0.0
    staff: int = CAMPAIGN_EVENT.staff


@dataclass(frozen=True)
class SimulationParams:
    """Everything the model needs besides the residents; rates are per week.

    See docs/simulation.md for the equations each parameter enters and its source.
    """

    weeks: int = 52
    substeps: int = 7
    max_agents: int = 200_000
    campaigns: tuple[Campaign, ...] = ()
    events: tuple[ScheduledEvent, ...] = ()
    channels: dict[str, ChannelParams] = field(default_factory=lambda: dict(DEFAULT_CHANNELS))
    # awareness and adoption
    awareness_decay: float = 0.25
    base_adoption: float = 0.0001
    campaign_adoption: float = 0.005
    word_of_mouth: float = 0.0005
    segment_response: tuple[float, float, float] = (1.5, 1.0, 0.5)
    access_minutes: float = 20.0
    digital_threshold: float = 0.5
    # events at venues (community_event campaigns, when the model is given venues)
    event_attend_rate: float = CAMPAIGN_EVENT.attend_rate
    event_walk_decay_min: float = EVENT_WALK_DECAY_MIN
    event_max_walk_min: float = EVENT_MAX_WALK_MIN
    staff_per_event: int = CAMPAIGN_EVENT.staff
    attendees_per_staff: int = ATTENDEES_PER_STAFF
    event_repeat_decay: float = EVENT_REPEAT_DECAY
    # ties
    ties_within: int = 6
    ties_across: int = 2
    rewire: float = 0.1
    tie_distance_km: float = 3.0
    # lifecycle
    weeks_new: int = 4
    weeks_active: int = 26
    churn_base: float = 0.0006
    churn_age: tuple[float, float, float] = (2.0, 1.0, 0.6)
    churn_early: float = 3.0
    churn_congestion: float = 1.0
    churn_distance: float = 0.5
    churn_competition: float = 0.5
    winback: float = 0.3
    visits_per_customer_week: float = VISITS_PER_CUSTOMER_WEEK
    # money
    balance_base: float = 4_000.0
    balance_income_share: float = 0.35
    net_interest_margin: float = 0.017
    # a calibration's uncertainty (scenarios' [calibration]): replication i runs with the
    # values draws[i % len(draws)], each a tuple of (parameter name, value); empty: none
    draws: tuple[tuple[tuple[str, float], ...], ...] = ()

    def __post_init__(self) -> None:
        problems: list[str] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float | int) and not isinstance(value, bool) and value < 0:
                problems.append(f"{f.name} = {value}: expected a value >= 0")
            by_age = isinstance(value, tuple) and value and all(isinstance(v, float | int)
                                                                for v in value)
            if by_age and (len(value) != 3 or min(value) < 0):
                problems.append(f"{f.name} = {value}: expected three values >= 0, one per "
                                "age band (18-35, 36-55, 56+)")
        for name in ("awareness_decay", "digital_threshold", "rewire", "winback",
                     "base_adoption", "event_attend_rate", "event_repeat_decay"):
            value = getattr(self, name)
            if value > 1:
                problems.append(f"{name} = {value}: expected a share or probability in [0, 1]")
        if self.weeks < 1 or self.substeps < 1 or self.max_agents < 1:
            problems.append("weeks, substeps and max_agents must be at least 1")
        if self.attendees_per_staff < 1 or self.event_walk_decay_min <= 0:
            problems.append("attendees_per_staff and event_walk_decay_min must be positive")
        for e in self.events:
            if not 1 <= e.week <= self.weeks or e.cost < 0 or not 0 <= e.attend_rate <= 1:
                problems.append(f"event {e.event_type} at {e.venue_id} in week {e.week}: "
                                f"expected a week in 1..{self.weeks}, cost >= 0 and an "
                                "attend_rate in [0, 1]")
                break
        if self.ties_within % 2:
            problems.append(f"ties_within = {self.ties_within}: expected an even number")
        for name, channel in self.channels.items():
            if name not in CHANNELS:
                problems.append(f"channels[{name!r}]: unknown channel; expected one of "
                                f"{', '.join(CHANNELS)}")
            if not 0 <= channel.max_reach <= 1 or not 0 <= channel.awareness_gain <= 1:
                problems.append(f"channels[{name!r}]: max_reach and awareness_gain must lie "
                                "in [0, 1]")
            if channel.spend_per_resident <= 0:
                problems.append(f"channels[{name!r}].spend_per_resident: expected > 0")
        for i, c in enumerate(self.campaigns):
            where = f"campaigns[{i}]"
            if c.channel not in self.channels:
                problems.append(f"{where}.channel = {c.channel!r}: unknown channel; expected "
                                f"one of {', '.join(CHANNELS)}")
            if c.spend < 0:
                problems.append(f"{where}.spend = {c.spend}: expected a value >= 0")
            first, last = c.weeks
            if not 1 <= first <= last:
                problems.append(f"{where}.weeks = {list(c.weeks)}: expected 1 <= first <= last")
            elif last > self.weeks:
                problems.append(f"{where}.weeks = {list(c.weeks)}: week {last} is after the "
                                f"last week of the run ({self.weeks})")
            bad = unknown_segments(c.segments)
            if bad:
                problems.append(f"{where}.segments: unknown segment(s) {bad}; expected "
                                f"{SEGMENT_HELP}")
        if problems:
            raise SimulationError("; ".join(problems))


def with_values(params: SimulationParams, values: dict[str, float]) -> SimulationParams:
    """``params`` with the named parameters set (see :class:`Parameter`)."""
    top: dict[str, Any] = {}
    channels = dict(params.channels)
    for name, value in values.items():
        parts = name.split(".")
        if parts[0] == "channels" and len(parts) == 3:
            if parts[1] not in channels:
                raise SimulationError(f"{name}: no channel {parts[1]!r}")
            known = [f.name for f in dataclasses.fields(ChannelParams)]
            if parts[2] not in known:
                raise SimulationError(f"{name}: a channel has no {parts[2]!r}; give one of "
                                      f"{', '.join(known)}")
            field_value: dict[str, Any] = {parts[2]: float(value)}
            channels[parts[1]] = dataclasses.replace(channels[parts[1]], **field_value)
        elif len(parts) == 1 and parts[0] in {f.name for f in dataclasses.fields(params)}:
            top[parts[0]] = float(value)
        else:
            raise SimulationError(f"{name}: not a parameter of the model; give a field of "
                                  "SimulationParams or channels.<channel>.<field> of "
                                  f"{', '.join(f.name for f in dataclasses.fields(ChannelParams))}")
    return dataclasses.replace(params, channels=channels, **top)


def replication_params(params: SimulationParams, replication: int) -> SimulationParams:
    """The parameters of one replication: ``params`` with its ``draws`` (a calibration's
    parameter draws, one per replication, cycled) applied, and without them."""
    if not params.draws:
        return params
    drawn = with_values(params, dict(params.draws[replication % len(params.draws)]))
    return dataclasses.replace(drawn, draws=())


def full_scale(params: SimulationParams, adults: float) -> SimulationParams:
    """``params`` with one agent per adult, up to :data:`FULL_SCALE_AGENTS` (never fewer
    agents than it had)."""
    agents = int(max(params.max_agents, min(round(adults), FULL_SCALE_AGENTS)))
    return dataclasses.replace(params, max_agents=agents)
