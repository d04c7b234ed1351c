"""The study-area data contract of DESIGN.md: layer names, columns and allowed values."""

from __future__ import annotations

__all__ = [
    "AGE_BANDS",
    "COMMUNITY_COUNT_COLUMNS",
    "COMMUNITY_OPTIONAL_COLUMNS",
    "CONTRACT_COLUMNS",
    "INDICATORS",
    "LAYERS",
    "NETWORK_FILES",
    "OUTLET_KINDS",
    "OWNERS",
    "REQUIRED_COLUMNS",
    "SHARE_COLUMNS",
    "SITE_KINDS",
]

LAYERS: tuple[str, ...] = ("communities", "outlets", "candidates", "venues")

#: Adult age bands, as the columns ``pop_18_35``, ``pop_36_55`` and ``pop_56_plus``.
AGE_BANDS: dict[str, str] = {"18-35": "pop_18_35", "36-55": "pop_36_55", "56+": "pop_56_plus"}

COMMUNITY_COUNT_COLUMNS: tuple[str, ...] = ("pop_18_35", "pop_36_55", "pop_56_plus", "households")

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "communities": ("community_id", *COMMUNITY_COUNT_COLUMNS, "median_income"),
    "outlets": ("outlet_id", "kind", "owner"),
    "candidates": ("site_id", "kinds", "capex", "opex_per_year"),
    "venues": ("venue_id", "kind", "capacity"),
}

COMMUNITY_OPTIONAL_COLUMNS: tuple[str, ...] = (
    "name",
    "income_low_share",
    "income_high_share",
    "sme_count",
    "digital_adoption",
    "customers",
    "deposits",
)

#: Columns that hold a share and must lie in [0, 1].
SHARE_COLUMNS: tuple[str, ...] = ("income_low_share", "income_high_share", "digital_adoption")

OUTLET_KINDS: tuple[str, ...] = ("branch", "micro_branch", "smart_atm", "mobile_van")
SITE_KINDS: tuple[str, ...] = ("branch", "micro_branch", "smart_atm", "mobile_van")
OWNERS: tuple[str, ...] = ("own", "competitor")

#: Every column name the contract knows (shapefiles cut them to 10 characters).
CONTRACT_COLUMNS: tuple[str, ...] = (
    *{c for cols in REQUIRED_COLUMNS.values() for c in cols},
    *COMMUNITY_OPTIONAL_COLUMNS, "brand", "capacity_per_week", "staff", "name", "cost_per_event",
)

#: Network file names a pack may hold, in order of preference.
NETWORK_FILES: tuple[str, ...] = (
    "network.graphml",
    "network.osm.pbf",
    "network.osm.bz2",
    "network.osm",
)

#: The indicators a weight may name, with what they measure.
INDICATORS: dict[str, str] = {
    "adults": "residents aged 18 and over",
    "youth_share": "share of adults aged 18-35",
    "middle_age_share": "share of adults aged 36-55",
    "senior_share": "share of adults aged 56+",
    "income": "median yearly income",
    "low_income_share": "share of adults in the lowest income category",
    "high_income_share": "share of adults in the highest income category",
    "sme_density": "small businesses per 1,000 adults",
    "digital_adoption": "share of adults who bank digitally",
    "access_gap": "minutes to the nearest own outlet (population-weighted)",
    "own_share": "expected own-bank share of the market (Huff)",
    "competition": "competitor outlets within the coverage time, weighted by their pull",
    "headroom": "adults who are not yet own customers",
}
