"""``area.toml``: the settings of a study area pack (name, currency, CRS, speeds, sources)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from geo._pydantic import read_toml, validation_problems
from geo.assumptions import CUSTOMER_SHARE
from geo.errors import AreaError
from geo.street_rules import DEFAULT_DRIVE_SPEEDS_KMH

__all__ = ["AreaConfig", "KindCosts", "Source", "read_area_config"]

Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]


class Source(BaseModel):
    """Where a layer came from, and under which licence it may be used (``licence`` may be
    left out: the pack then says so in a warning)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    licence: str = ""
    url: str = ""
    layers: tuple[str, ...] = ()


class KindCosts(BaseModel):
    """Costs and capacity of one outlet kind, added to a candidate site's own costs."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    capex: NonNegative = 0.0
    opex_per_year: NonNegative = 0.0
    capacity_per_week: NonNegative = 0.0
    staff: NonNegative = 0.0


def _default_kinds() -> dict[str, KindCosts]:
    # Assumptions, documented in docs/sample-city.md; a pack's area.toml overrides them.
    return {
        "branch": KindCosts(
            capex=1_200_000, opex_per_year=900_000, capacity_per_week=1500, staff=8
        ),
        "micro_branch": KindCosts(
            capex=300_000, opex_per_year=220_000, capacity_per_week=500, staff=2
        ),
        "smart_atm": KindCosts(capex=45_000, opex_per_year=15_000, capacity_per_week=700, staff=0),
        "mobile_van": KindCosts(
            capex=250_000, opex_per_year=160_000, capacity_per_week=250, staff=2
        ),
    }


class AreaConfig(BaseModel):
    """The contents of ``area.toml``.

    Speeds are in km/h; ``detour_factor`` multiplies straight-line distances where the
    street network does not reach a community.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    currency: str = "EUR"
    crs: str | None = None
    own_brand: str = ""
    walk_speed_kmh: Positive = 4.8
    drive_speed_kmh: dict[str, Positive] = Field(
        default_factory=lambda: dict(DEFAULT_DRIVE_SPEEDS_KMH)
    )
    drive_fallback_kmh: Positive = 30.0
    detour_factor: Annotated[float, Field(ge=1.0)] = 1.3
    #: customers / adults in each community where the communities have no ``customers``
    #: column (default geo.assumptions.CUSTOMER_SHARE)
    customer_share: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    description: str = ""
    sources: tuple[Source, ...] = ()
    kinds: dict[str, KindCosts] = Field(default_factory=_default_kinds)
    generator: dict[str, Any] = Field(default_factory=dict)

    @field_validator("sources", mode="before")
    @classmethod
    def _names_as_sources(cls, value: Any) -> Any:
        """``sources = ["Statistics Finland, Paavo", ...]``: a string is a source's name."""
        if isinstance(value, list | tuple):
            return [{"name": v} if isinstance(v, str) else v for v in value]
        return value

    @property
    def assumed_customer_share(self) -> float:
        """The share of adults taken to be customers where the communities have no
        ``customers`` column: ``customer_share``, else geo.assumptions.CUSTOMER_SHARE."""
        return CUSTOMER_SHARE if self.customer_share is None else float(self.customer_share)

    @property
    def min_staff(self) -> dict[str, int]:
        """Relationship managers each outlet kind needs at least (``[kinds]`` ``staff``)."""
        return {k: round(v.staff) for k, v in self.kinds.items()}


def read_area_config(path: Path) -> AreaConfig:
    """Read and validate ``area.toml``, reporting every problem at once.

    Raises
    ------
    AreaError
        When the file is not valid TOML or has unknown keys or wrong values.
    """
    raw = read_toml(path, "area.toml", AreaError)
    try:
        return AreaConfig.model_validate(raw)
    except ValidationError as exc:
        problems = validation_problems(exc, str(path),
                                       "see docs/area-pack.md for the keys of area.toml",
                                       AreaConfig)
        raise AreaError(f"{path}: {len(problems)} problem(s) in area.toml", problems) from None
