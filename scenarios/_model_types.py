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
