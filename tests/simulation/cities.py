"""Synthetic community inputs for the model's tests and benchmarks."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: The small city of the agreement test and of the speed comparison with the reference.
SMALL_CITY = (6, 500)


def city(n_comm: int, per: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    third = per // 3
    return pd.DataFrame({
        "pop_18_35": third, "pop_36_55": third, "pop_56_plus": per - 2 * third,
        "median_income": rng.uniform(22_000, 40_000, n_comm), "income_low_share": 0.2,
        "income_high_share": 0.25, "digital_adoption": rng.uniform(0.6, 0.95, n_comm),
        "sme_share": 0.04, "customers": per // 8, "outlet_min": rng.uniform(3, 40, n_comm),
        "outlet": [f"O{i % 25}" for i in range(n_comm)], "outlet_capacity": 500.0,
        "competitor_share": rng.uniform(0.3, 0.9, n_comm),
        "x": 1000.0 * (np.arange(n_comm) % 25), "y": 1000.0 * (np.arange(n_comm) // 25),
    }, index=pd.Index([f"C{i:04d}" for i in range(n_comm)], name="community_id"))
