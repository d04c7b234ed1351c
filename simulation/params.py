"""Parameters of the resident model: frozen, validated, every default documented in
docs/simulation.md."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields

from simulation.errors import SimulationError

__all__ = [
    "AGE_BANDS",
    "CHANNELS",
    "DEFAULT_CHANNELS",
    "INCOME_TIERS",
    "SEGMENTS",
    "SEGMENT_HELP",
    "Campaign",
    "ChannelParams",
    "ScheduledEvent",
    "SimulationParams",
    "segment_matches",
    "unknown_segments",
]

CHANNELS: tuple[str, ...] = ("community_event", "social_media", "sms", "merchant_alliance",
                             "referral_bonus", "outlet_promo", "kol_live")
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
    """How a channel reaches residents.

    ``max_reach``: the share of targeted residents reached at unlimited spend.
    ``spend_per_resident``: spend per targeted resident that reaches 63% of ``max_reach``
    (reach saturates as 1 - exp(-spend / (spend_per_resident x targeted))).
    ``digital``: reach scales with each resident's digital propensity.
    ``awareness_gain``: how far one exposure moves awareness towards 1.
    ``affinity``: multiplier by age band (18-35, 36-55, 56+).
    ``word_of_mouth_boost``: added to q while the campaign runs (referral schemes).
    """

    max_reach: float
    spend_per_resident: float
    digital: bool
    awareness_gain: float
    affinity: tuple[float, float, float]
    word_of_mouth_boost: float = 0.0


#: Assumptions, documented in docs/simulation.md.
DEFAULT_CHANNELS: dict[str, ChannelParams] = {
    "community_event": ChannelParams(0.08, 1.50, False, 0.60, (0.7, 1.0, 1.4)),
    "social_media": ChannelParams(0.60, 0.40, True, 0.15, (1.4, 1.0, 0.5)),
    "sms": ChannelParams(0.80, 0.10, True, 0.08, (0.9, 1.0, 1.0)),
    "merchant_alliance": ChannelParams(0.35, 0.60, False, 0.20, (1.0, 1.1, 0.9)),
    "referral_bonus": ChannelParams(0.25, 0.80, False, 0.25, (1.2, 1.0, 0.8), 0.05),
    "outlet_promo": ChannelParams(0.30, 0.30, False, 0.20, (0.9, 1.0, 1.2)),
    "kol_live": ChannelParams(0.45, 0.50, True, 0.12, (1.6, 0.9, 0.3)),
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
    attend_rate: float = 0.05
    cost: float = 0.0
    staff: int = 2


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
    awareness_decay: float = 0.10
    base_adoption: float = 0.0002
    campaign_adoption: float = 0.02
    word_of_mouth: float = 0.005
    segment_response: tuple[float, float, float] = (1.2, 1.0, 0.8)
    access_minutes: float = 20.0
    digital_threshold: float = 0.5
    # events at venues (community_event campaigns, when the model is given venues)
    event_attend_rate: float = 0.05
    event_walk_decay_min: float = 10.0
    event_max_walk_min: float = 30.0
    staff_per_event: int = 2
    attendees_per_staff: int = 50
    event_repeat_decay: float = 0.5
    # ties
    ties_within: int = 6
    ties_across: int = 2
    rewire: float = 0.1
    tie_distance_km: float = 3.0
    # lifecycle
    weeks_new: int = 4
    weeks_active: int = 26
    churn_base: float = 0.0006
    churn_congestion: float = 1.0
    churn_distance: float = 0.5
    churn_competition: float = 0.5
    winback: float = 0.3
    # money
    balance_base: float = 4_000.0
    balance_income_share: float = 0.35
    net_interest_margin: float = 0.02

    def __post_init__(self) -> None:
        problems: list[str] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float | int) and not isinstance(value, bool) and value < 0:
                problems.append(f"{f.name} = {value}: expected a value >= 0")
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
