"""Fitting community response curves to a sweep (docs/scenarios.md, "Response curves").

The sweep runs one channel at a time, city-wide, at a few spend levels, each level beside a
counterfactual with the same random numbers; every community then sees the same spend per
adult. Two steps turn its uplift into one curve per community x channel x segment:

1. **Segment curves.** Per channel and segment (age band x income tier), the city's
   uplift against the city's spend is fitted with a concave curve (hill or exponential,
   :func:`optimizer.fit_response_curve`). In the model a resident's reach depends on the
   spend per targeted adult, so a community spending ``s`` on ``A_c`` adults stands where
   the city stands when it spends ``s x A / A_c``: the community's segment curve is the
   city's with ``k_c = k x A_c / A`` and ``rmax_c = m_c x rmax x A_cs / A_s`` (``A_cs``:
   the community's adults in the segment, ``A_s``: the city's).
2. **Community multipliers** ``m_c``: how much more (or less) a community responds than its
   age and income mix says: digital propensity, outlet access, customers already won,
   competitors, small businesses and income differ between communities and the model
   responds to each. Per channel, a log-linear regression on those features (quasi-Poisson,
   fitted by maximum likelihood) predicts ``m_c`` for every community; a community's own
   observed ratio (uplift over the segment curves' expectation) moves it from the
   prediction as far as the replications say the ratio is precise: empirical-Bayes
   shrinkage with the between-community variance estimated by moments and the
   within-community variance from the replications. A small community is so described by
   the communities alike it; a large one by itself.

With every ``m_c = 1`` the community curves add up to the city curve when spend follows
adults, and a community's curve is the city's scaled on both axes; the multipliers and
the segment mix are what make one community's next euro worth more than another's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from optimizer import OptimizerInputError, fit_response_curve
from scenarios.lifetime import yearly_retention
from simulation import SEGMENTS

__all__ = ["FEATURES", "community_features", "fit_curves", "segment_adults"]

#: The community features the multipliers are regressed on (what the model responds to).
FEATURES: tuple[str, ...] = ("digital_adoption", "customer_share", "outlet_access",
                             "competitor_share", "sme_share", "median_income")
#: Ridge penalty on the standardized coefficients of the multiplier regression (keeps a
#: regression on few communities finite; small beside the likelihood of a real sweep).
RIDGE = 1e-3
#: Multipliers are kept within these bounds (a community 50 times as responsive as its
#: mix says is a noisy ratio, not a finding).
M_BOUNDS = (0.02, 50.0)


def segment_adults(inputs: pd.DataFrame) -> pd.DataFrame:
    """Adults per community and segment (age band x income tier) from the shares."""
    low = inputs["income_low_share"].to_numpy(float)
    high = inputs["income_high_share"].to_numpy(float)
    tiers = np.column_stack([low, np.clip(1 - low - high, 0, 1), high])
    bands = inputs[["pop_18_35", "pop_36_55", "pop_56_plus"]].to_numpy(float)
    data = {SEGMENTS[a * 3 + t]: bands[:, a] * tiers[:, t] for a in range(3) for t in range(3)}
    return pd.DataFrame(data, index=inputs.index)


def community_features(inputs: pd.DataFrame) -> pd.DataFrame:
    """The features of :data:`FEATURES` per community, from the model's inputs."""
    adults = inputs[["pop_18_35", "pop_36_55", "pop_56_plus"]].sum(axis=1).astype(float)
    return pd.DataFrame({
        "digital_adoption": inputs["digital_adoption"].astype(float),
        "customer_share": (inputs["customers"] / adults.where(adults > 0)).fillna(0.0),
        "outlet_access": np.log1p(inputs["outlet_min"].astype(float).clip(lower=0)),
        "competitor_share": inputs["competitor_share"].astype(float),
        "sme_share": inputs["sme_share"].astype(float),
        "median_income": inputs["median_income"].astype(float) / 10_000,
    }, index=inputs.index)


def fit_curves(sweep: pd.DataFrame, inputs: pd.DataFrame, *, margin: float,
               balance_base: float, reference: float, agent_scale: float = 1.0,
               weeks: int = 52) -> pd.DataFrame:
    """Curves per community x channel x segment from a sweep.

    ``sweep``: one row per channel x city spend x replication x community x segment with
    the uplift in ``new`` customers and ``deposits``. Returns the optimizer's curve columns
    and the fit's quality: ``r2`` and ``fit`` of the segment curve, ``multiplier`` of the
    community (``regression``: its prediction, ``observed``: the community's own ratio,
    ``weight``: how far the ratio moved it), and the channel's ``community_r2`` (share of
    the variance of community uplift around the scaled city curve that the multipliers
    explain) and ``sweep_replications``. ``agent_scale``: adults per agent in the sweep
    (a community's uplift is a count of agents times it, which sets the least variance a
    community's ratio can have, however alike its replications look). Where the sweep
    has the campaign arms' ``churned`` and ``held`` (mean customers over its ``weeks``),
    each segment's ``retention_year`` is added (:func:`scenarios.lifetime.yearly_retention`,
    pooled over channels and levels); ``margin_per_customer`` and ``value_per_customer``
    are a year's margin on the deposits a new customer brings (the scenario's objective
    sets the value: :func:`scenarios.lifetime.valued_curves`).
    """
    adults = segment_adults(inputs)
    total_adults = float(adults.to_numpy().sum())
    community_adults = adults.sum(axis=1)
    features = community_features(inputs)
    reps = int(sweep["replication"].nunique())
    # value of a new customer per segment: a year's margin on the deposits the uplift
    # brought, pooled over channels and levels
    pooled = sweep.groupby("segment")[["new", "deposits"]].sum()
    value = (pooled["deposits"] / pooled["new"].where(pooled["new"] > 0) * margin).clip(lower=0)
    value = value.fillna(balance_base * margin)
    retention = None
    if {"churned", "held"} <= set(sweep.columns):
        kept = sweep.groupby("segment")[["churned", "held"]].sum()
        retention = yearly_retention(kept["churned"], kept["held"], weeks)
    out = []
    for channel, g in sweep.groupby("channel", sort=True):
        segment_curves: dict[str, tuple[str, float, float, float, float, str]] = {}
        for segment, s in g.groupby("segment"):
            city = s.groupby("spend")["new"].sum() / reps
            segment_curves[str(segment)] = _segment_curve(city, float(adults[segment].sum()),
                                                     reference)
        expected, observed, variance = _community_moments(g, segment_curves, adults, reps)
        fit = _multipliers(expected, observed, variance, features, agent_scale / reps)
        for segment, (form, rmax, k, h, r2, how) in segment_curves.items():
            share = adults[segment] / max(float(adults[segment].sum()), 1e-12)
            rows = pd.DataFrame({
                "community_id": inputs.index, "channel": channel, "segment": segment,
                "form": form,
                "rmax": np.minimum(rmax * share * fit["multiplier"], adults[segment]),
                "k": k * community_adults / total_adults, "h": h,
                "margin_per_customer": float(value.get(segment, balance_base * margin)),
                "r2": r2, "fit": how, **{c: fit[c] for c in (
                    "multiplier", "regression", "observed", "weight")},
                "community_r2": fit.attrs["community_r2"], "sweep_replications": reps})
            rows["value_per_customer"] = rows["margin_per_customer"]
            if retention is not None:
                rows["retention_year"] = float(retention.get(segment, 1.0))
            out.append(rows[(share > 1e-9).to_numpy() & (rows["k"] > 0).to_numpy()])
    return pd.concat(out, ignore_index=True)


def _segment_curve(city: pd.Series, ceiling: float, reference: float
                   ) -> tuple[str, float, float, float, float, str]:
    """(form, rmax, k, h, r2, how) of one segment's city curve."""
    spend = np.concatenate([[0.0], city.index.to_numpy(float)])
    resp = np.concatenate([[0.0], city.clip(lower=0).to_numpy(float)])
    try:
        fit = fit_response_curve(spend, resp)
        form, rmax, k, h, r2, how = fit.form, fit.rmax, fit.k, fit.h, fit.r2, "fitted"
    except OptimizerInputError:  # the sweep saw no response grow with spend
        form, rmax, k, h, r2, how = "exponential", 0.0, reference, 1.0, float("nan"), (
            "no response")
    except RuntimeError:  # the least-squares search did not converge
        rmax, k, r2 = _exponential_on_a_grid(spend, resp)
        form, h, how = "exponential", 1.0, "grid"
    # nobody is won twice: a curve that would pass the segment's adults is scaled down
    # along both axes (same first slope, earlier saturation)
    if rmax > ceiling > 0:
        k, rmax = k * ceiling / rmax, ceiling
    return form, rmax, k, h, r2, how


def _community_moments(g: pd.DataFrame, curves: dict[str, tuple], adults: pd.DataFrame,
                       reps: int) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Per community, summed over the spend levels: the uplift the segment curves expect
    with every multiplier 1, the mean observed uplift, and the variance of that mean."""
    from optimizer.response import response

    levels = np.sort(g["spend"].unique())
    expected = pd.Series(0.0, index=adults.index)
    for segment, (form, rmax, k, h, *_) in curves.items():
        share = adults[segment] / max(float(adults[segment].sum()), 1e-12)
        expected += share * float(response(form, levels, rmax, k, h).sum())
    per_rep = (g.groupby(["replication", "community_id"])["new"].sum()
               .unstack("replication").reindex(adults.index).fillna(0.0))
    observed = per_rep.mean(axis=1)
    variance = (per_rep.var(axis=1, ddof=1) / reps if reps > 1
                else pd.Series(np.inf, index=adults.index))
    return expected, observed, variance.fillna(np.inf)


def _multipliers(expected: pd.Series, observed: pd.Series, variance: pd.Series,
                 features: pd.DataFrame, count_scale: float) -> pd.DataFrame:
    """Each community's multiplier: regression on the features, then empirical-Bayes
    shrinkage of the community's own ratio towards it (see the module docstring).
    ``count_scale``: adults per agent over replications; the variance of a community's
    mean uplift is at least a Poisson count's, ``expected x count_scale``."""
    e, y = expected.to_numpy(float), observed.to_numpy(float)
    out = pd.DataFrame({"multiplier": 1.0, "regression": 1.0, "observed": np.nan,
                        "weight": 0.0}, index=expected.index)
    out.attrs["community_r2"] = float("nan")
    use = e > 0
    if use.sum() < 2 or y[use].sum() <= 0:
        return out
    z = features.to_numpy(float)
    std = z[use].std(axis=0)
    keep = std > 1e-9
    z = (z[:, keep] - z[use][:, keep].mean(axis=0)) / std[keep]
    x = np.column_stack([np.ones(len(z)), z])
    # a community's uplift can be negative by noise: the likelihood takes it as 0 (a
    # negative count would make the loss unbounded); the shrinkage keeps the raw figure
    counts = np.maximum(y[use], 0.0)
    scale = float(counts.sum())

    def loss(beta: np.ndarray) -> tuple[float, np.ndarray]:
        eta = x[use] @ beta
        mu = e[use] * np.exp(eta)
        ridge = RIDGE * np.concatenate([[0.0], beta[1:]])
        value = float((mu - counts * eta).sum() / scale + 0.5 * ridge @ beta)
        return value, x[use].T @ (mu - counts) / scale + ridge

    start = np.zeros(x.shape[1])
    start[0] = np.log(scale / e[use].sum())
    beta = minimize(loss, start, jac=True, method="L-BFGS-B").x
    mu = np.exp(np.clip(x @ beta, -10, 10))
    fitted = mu * e
    var = np.maximum(variance.to_numpy(float), np.maximum(fitted, 0.0) * count_scale)
    finite = use & np.isfinite(var)
    phi = 0.0
    if finite.any():
        phi = max(0.0, float(((y - fitted)[finite] ** 2 - var[finite]).sum()
                             / (fitted[finite] ** 2).sum()))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(use, y / e, np.nan)
        prior = phi * fitted ** 2
        weight = np.where(finite, prior / (prior + var), 0.0)
    m = np.where(use, mu + np.nan_to_num(weight * (ratio - mu)), mu)
    out["multiplier"] = np.clip(m, *M_BOUNDS)
    out["regression"], out["observed"], out["weight"] = mu, ratio, weight
    flat = y[use].sum() / e[use].sum() * e[use]
    ss_flat = float(((y[use] - flat) ** 2).sum())
    ss_fit = float(((y[use] - out["multiplier"].to_numpy()[use] * e[use]) ** 2).sum())
    out.attrs["community_r2"] = 1 - ss_fit / ss_flat if ss_flat > 0 else float("nan")
    return out


def _exponential_on_a_grid(spend: np.ndarray, resp: np.ndarray) -> tuple[float, float, float]:
    """rmax (1 - exp(-s / k)) by least squares: rmax in closed form for each k of a
    geometric grid, the best k kept; always an answer. Returns (rmax, k, R²)."""
    best = (0.0, float(spend.max()), -np.inf, np.inf)
    for k in np.geomspace(spend[spend > 0].min() / 10, spend.max() * 100, 400):
        basis = -np.expm1(-spend / k)
        rmax = max(float(basis @ resp / max(basis @ basis, 1e-300)), 0.0)
        sse = float(((resp - rmax * basis) ** 2).sum())
        if sse < best[3]:
            ss_tot = float(((resp - resp.mean()) ** 2).sum())
            best = (rmax, float(k), 1 - sse / ss_tot if ss_tot > 0 else 1.0, sse)
    return best[0], best[1], best[2]
