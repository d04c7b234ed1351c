"""Random response-curve tables for the budget tests and the budget benchmark."""

from __future__ import annotations

import numpy as np
import pandas as pd

CHANNELS = ("community_event", "social_media", "sms", "merchant_alliance", "referral_bonus",
            "outlet_promo", "kol_live")
#: the nine age x income segments and small-business owners
SEGMENTS = (*(f"{a}/{t}" for a in ("18-35", "36-55", "56+")
              for t in ("low", "middle", "high")), "sme")


def random_curves(rng: np.random.Generator, n_comm: int, *,
                  segments: tuple[str, ...] = SEGMENTS,
                  k_range: tuple[float, float] = (2_000, 40_000)) -> pd.DataFrame:
    """One concave curve per community (``C0``, ``C1``, ...) x channel x segment."""
    rows = [(f"C{c}", ch, sg) for c in range(n_comm) for ch in CHANNELS for sg in segments]
    df = pd.DataFrame(rows, columns=["community_id", "channel", "segment"])
    n = len(df)
    df["form"] = np.where(rng.random(n) < 0.5, "hill", "exponential")
    df["rmax"] = rng.uniform(1, 30, n)
    df["k"] = rng.uniform(*k_range, n)
    df["h"] = rng.uniform(0.5, 1.0, n)
    df["value_per_customer"] = rng.uniform(50, 400, n)
    return df
