"""Response curves: expected response (new customers) as a saturating function of spend.

Two forms, both concave so that budget allocation stays a linear programme:

* ``hill``: ``R(s) = rmax * s**h / (k**h + s**h)`` with ``0 < h <= 1``;
* ``exponential``: ``R(s) = rmax * (1 - exp(-s / k))``.

``k`` is the spend at which the response reaches half (Hill) or 63% (exponential) of
``rmax``. A Hill exponent above 1 gives an S-shaped curve; allocating on it would need
integer variables, so fits keep ``h <= 1`` and say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.optimize import curve_fit

from optimizer.errors import OptimizerInputError

__all__ = ["CurveForm", "ResponseCurve", "curves_response", "fit_response_curve", "response"]

CurveForm = Literal["hill", "exponential"]


Param = float | np.ndarray


def response(form: str, spend: Param, rmax: Param, k: Param, h: Param = 1.0) -> np.ndarray:
    """The curve's value at ``spend`` (vectorized over spend and parameters)."""
    s = np.maximum(np.asarray(spend, dtype=np.float64), 0.0)
    if form == "exponential":
        return np.asarray(rmax * -np.expm1(-s / k))
    if form == "hill":
        with np.errstate(divide="ignore", invalid="ignore"):
            sh = np.power(s, h)
            out = rmax * sh / (np.power(k, h) + sh)
        return np.asarray(np.where(s > 0, out, 0.0))
    raise OptimizerInputError(f"form = {form!r}: expected 'hill' or 'exponential'")


def curves_response(curves: pd.DataFrame, spend: np.ndarray) -> np.ndarray:
    """Each curve row (``form``, ``rmax``, ``k``, optional ``h``) at its spend: ``spend``
    has one row per curve (and any number of columns)."""
    s = np.asarray(spend, dtype=np.float64)
    col = (slice(None),) + (None,) * (s.ndim - 1)
    rmax, k = (curves[c].to_numpy(float)[col] for c in ("rmax", "k"))
    h = curves["h"].to_numpy(float)[col] if "h" in curves else 1.0
    hill = (curves["form"] == "hill").to_numpy()[col]
    return np.where(hill, response("hill", s, rmax, k, h),
                    response("exponential", s, rmax, k))


@dataclass(frozen=True)
class ResponseCurve:
    """A fitted curve and how well it fits (``r2`` and ``rmse`` in the response's units)."""

    form: CurveForm
    rmax: float
    k: float
    h: float
    r2: float
    rmse: float
    n: int

    def __call__(self, spend: np.ndarray | float) -> np.ndarray:
        return response(self.form, spend, self.rmax, self.k, self.h)

    def marginal(self, spend: float) -> float:
        """Response bought by one more unit of spend at ``spend``."""
        eps = max(1e-6, 1e-6 * abs(spend))
        return float((self(spend + eps) - self(spend)) / eps)


def fit_response_curve(spend: np.ndarray | list[float], response_values: np.ndarray | list[float],
                       form: CurveForm | Literal["auto"] = "auto") -> ResponseCurve:
    """Fit a concave saturating curve to observed (spend, response) pairs.

    ``form="auto"`` fits both and keeps the one with the smaller squared error. Points at
    zero spend anchor the curve at the origin (both forms pass through it).

    Raises
    ------
    OptimizerInputError
        With fewer than three points, negative spend, non-finite values, or a response
        that does not grow with spend.
    """
    s = np.asarray(spend, dtype=np.float64).ravel()
    r = np.asarray(response_values, dtype=np.float64).ravel()
    if s.size != r.size:
        raise OptimizerInputError(f"spend has {s.size} values and response {r.size}; "
                                  "give one response per spend level")
    if s.size < 3:
        raise OptimizerInputError(f"{s.size} points: a response curve needs at least 3 "
                                  "spend levels")
    if not (np.isfinite(s).all() and np.isfinite(r).all()):
        raise OptimizerInputError("spend and response must be finite numbers")
    if (s < 0).any():
        raise OptimizerInputError(f"spend {s[s < 0][0]:g} is negative; spend must be >= 0")
    if np.unique(s[s > 0]).size < 2:
        raise OptimizerInputError("a response curve needs at least 2 distinct positive spend "
                                  "levels")
    top = float(r[s == s.max()].mean())
    if top <= float(r[s == s.min()].mean()) or top <= 0:
        raise OptimizerInputError("the response does not grow with spend; no saturating "
                                  "curve fits it (check the sweep)")
    forms: tuple[CurveForm, ...] = ("hill", "exponential") if form == "auto" else (form,)
    fits = [_fit(f, s, r) for f in forms]
    return min(fits, key=lambda c: c.rmse)


def _fit(form: CurveForm, s: np.ndarray, r: np.ndarray) -> ResponseCurve:
    if form not in ("hill", "exponential"):
        raise OptimizerInputError(f"form = {form!r}: expected 'hill', 'exponential' or 'auto'")
    scale_s = float(s.max())
    scale_r = float(np.abs(r).max())
    x, y = s / scale_s, r / scale_r
    if form == "hill":
        def f(v: np.ndarray, rmax: float, k: float, h: float) -> np.ndarray:
            return response("hill", v, rmax, k, h)
        p0, lower, upper = [1.5, 0.5, 0.9], [0.0, 1e-6, 0.05], [1e3, 1e3, 1.0]
    else:
        def f(v: np.ndarray, rmax: float, k: float) -> np.ndarray:  # type: ignore[misc]
            return response("exponential", v, rmax, k)
        p0, lower, upper = [1.5, 0.5], [0.0, 1e-6], [1e3, 1e3]
    params, _ = curve_fit(f, x, y, p0=p0, bounds=(lower, upper), maxfev=20_000)
    rmax, k = float(params[0]) * scale_r, float(params[1]) * scale_s
    h = float(params[2]) if form == "hill" else 1.0
    pred = response(form, s, rmax, k, h)
    ss_res = float(((r - pred) ** 2).sum())
    ss_tot = float(((r - r.mean()) ** 2).sum())
    return ResponseCurve(form=form, rmax=rmax, k=k, h=h,
                         r2=1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0,
                         rmse=float(np.sqrt(ss_res / s.size)), n=int(s.size))
