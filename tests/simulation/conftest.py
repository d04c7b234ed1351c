"""A small city for the model: 12 communities, 24,000 adults, inputs built by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="session")
def small_inputs() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 12
    ids = pd.Index([f"C{i:02d}" for i in range(n)], name="community_id")
    return pd.DataFrame({
        "pop_18_35": rng.integers(500, 900, n), "pop_36_55": rng.integers(500, 900, n),
        "pop_56_plus": rng.integers(300, 1000, n),
        "median_income": rng.uniform(22_000, 40_000, n),
        "income_low_share": rng.uniform(0.1, 0.3, n),
        "income_high_share": rng.uniform(0.1, 0.35, n),
        "digital_adoption": rng.uniform(0.6, 0.95, n), "sme_share": 0.04,
        "customers": rng.integers(100, 300, n),
        "outlet_min": rng.uniform(3, 40, n), "outlet": ["O1"] * 6 + ["O2"] * 6,
        "outlet_capacity": 500.0,
        "competitor_share": rng.uniform(0.3, 0.9, n),
        "x": 1000.0 * (np.arange(n) % 4), "y": 1000.0 * (np.arange(n) // 4),
    }, index=ids)
