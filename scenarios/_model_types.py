"""The building blocks every scenario model shares: the frozen base model, channels,
shares, money and week ranges, and what a scenario name may be."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

Channel = Literal["community_event", "social_media", "sms", "merchant_alliance",
                  "referral_bonus", "outlet_promo", "kol_live"]
Share = Annotated[float, Field(ge=0, le=1)]


def _ordered(value: tuple[int, int]) -> tuple[int, int]:
    if value[0] > value[1]:
        raise ValueError(f"weeks {list(value)} end before they start; give [first, last]")
    return value


#: [first, last] week, both from 1, first <= last.
WeekRange = Annotated[tuple[Annotated[int, Field(ge=1)], Annotated[int, Field(ge=1)]],
                      AfterValidator(_ordered)]
Money = Annotated[float, Field(ge=0)]


#: What a scenario name may be (a run id is the name, a dash and 8 hex digits).
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"

class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


#: A quarter of the simulation's weeks (52 / 4): a rollout's sites open at the start of
#: their quarter.
WEEKS_PER_QUARTER = 13


def opening_week(quarter: int) -> int:
    """The first simulated week of ``quarter`` (1-based): quarter 1 opens in week 1."""
    return WEEKS_PER_QUARTER * (int(quarter) - 1) + 1
