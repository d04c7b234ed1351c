"""Fitting the model's parameters to what a bank observed, by simulation (docs/calibration.md,
"How the fit works").

The observations are counts (new customers, and churn where known): each community's
total over the fitted weeks and the city's count in each week. Given parameters theta
(on the log scale), the model's expected counts mu(theta) are not known in closed form and
one simulation of them is noisy and rough in theta (an agent adopts or not; a lucky
adopter's word of mouth carries into later weeks), so finite differences of a few
replications are unreliable: measured, two fits to the same data with other seeds moved
an estimate by 30%. The fit is therefore surrogate-assisted (response-surface
methodology, Box and Draper 2007; the synthetic-likelihood idea of Wood 2010, Nature
466:1102, with a linear mean):

1. around a centre c, N design points theta_i = c + h z_i (a Latin hypercube, z in
   [-1, 1]^p, folded over: each z with its mirror -z) are simulated, each as the mean of
   the same R seeds (common random numbers: the differences between points are then the
   parameters' effect, not luck);
2. each count is regressed on d = theta - c and d^2: mu(theta) ~ a + B d + C d^2, which
   smooths the roughness no finite difference escapes; the fold-over keeps every even
   effect (curvature, interactions of two parameters) out of the slopes B, so a
   parameter that moves nothing gets no slope from another's curvature. Slopes no larger
   than their noise are shrunk away (positive-part James-Stein, and a chi-square test
   over all counts of one parameter);
3. the posterior mode on the surrogate, with quasi-Poisson weights W = diag(1 / mu),
   dispersion phi (the Pearson statistic over its degrees of freedom, at least 1) and
   a log-normal prior around each default (prior sd on the log scale), is the next centre;
   the box shrinks to three posterior sd, and the rounds stop when the centre moves
   less than a quarter of a posterior sd inside the box (at most ``rounds``); a fit
   stopped by the count says so (``Fit.converged``, ``Fit.moved``): its estimate is the
   last round's mode, and the interval does not hold how far the next round would move
   it (on the sample city's synthetic bank the rounds kept moving it 1 to 5 posterior
   sd over ten rounds, without drifting: the surrogate's Monte Carlo noise).

The uncertainty is the simulated-moments sandwich (Gourieroux and Monfort 1996,
"Simulation-Based Econometric Methods", ch. 2): with A = B' W B / phi + diag(1 / sd^2)
(B in log-theta terms at the mode),

    Cov(theta) = A^-1 (B' W S W B / phi^2) A^-1 + A^-1 P A^-1,   S = kappa Sigma,

Sigma the model's own covariance of the counts at the estimate, from K further runs with
seeds of their own (it holds the correlation of the weeks and each run's own draw of
residents), P the prior's precision (its share keeps an uninformed parameter at its
prior's width), and kappa the bank's Pearson scatter around the surrogate over the
model's own: the bank's noise plus the surrogate's (the R seeds' shared luck), so at
least 1/R; above 1 + 1/R it holds what the model does not explain, below 1 the model's
own noise is larger than the bank's (an agent standing for several residents). The
Laplace approximation alone (counts taken as independent, A^-1) was measured 2-3 times
too narrow: weekly counts are correlated and each community total is counted twice (in
its total and in the city's weeks).

All parameters are fitted together. One whose posterior standard deviation is more than
IDENTIFIED_SHRINK of its prior's is not identified by the data: it stays close to its
prior, is said so, and keeps nearly its prior's width in the covariance, so what the data
leave unknown about it still widens the other estimates and the forecasts drawn from
them (fixing it at the prior would pretend it known).

Why not rejection ABC or a neural posterior: a city's counts are sums over thousands of
residents, close to Gaussian around mu, so a local quadratic surrogate with a Gaussian
likelihood is accurate near the mode; a fit needs a few hundred runs (measured 264-600)
where ABC needs many thousands.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import least_squares
from scipy.stats import qmc

from simulation.errors import SimulationError
from simulation.model import CommunityMarketModel
from simulation.params import SimulationParams, with_values
from simulation.population import Venues
from simulation.replications import replication_seeds

__all__ = ["IDENTIFIED_SHRINK", "Fit", "Moments", "Parameter", "fit_parameters",
           "observed_counts",
           "simulated_counts", "until_week", "with_values"]

#: A parameter is identified when the data leave at most this share of its prior's
#: standard deviation (on the log scale).
IDENTIFIED_SHRINK = 0.5
#: The first design box's half-width on the log scale (a parameter from 0.5x to 2x).
FIRST_BOX = 0.7
#: The smallest box (a parameter within +-15%): the surrogate's slopes need a spread.
SMALLEST_BOX = 0.15
#: The rounds stop when the estimate moves less than this many posterior sd (inside
#: the box): a move the estimate's own uncertainty dwarfs.
SETTLED = 0.25


@dataclass(frozen=True)
class Parameter:
    """One parameter to fit: its name (a :class:`SimulationParams` field such as
    ``base_adoption``, or ``channels.<channel>.<field>``), its prior median (the default)
    and the prior's standard deviation on the log scale, and its upper bound."""

    name: str
    prior: float
    prior_sd: float = 1.0
    upper: float | None = None


def observed_counts(observed: pd.DataFrame, communities: pd.Index, weeks: tuple[int, int],
                    columns: Sequence[str]) -> pd.DataFrame:
    """What the fit compares, from weekly rows (``week``, ``community_id``, ``columns``)
    within ``weeks`` (first, last): each community's total over the weeks, and the city's
    count in each week (``community_id`` ``"*"``). Both are large counts: a community's
    weekly count is a few residents, and a fit to those prefers parameters that overshoot
    (the lumpy small counts weigh more than their totals; measured on the model's own
    data, docs/calibration.md)."""
    first, last = weeks
    rows = observed[(observed["week"] >= first) & (observed["week"] <= last)]
    totals = rows.groupby("community_id")[list(columns)].sum().reindex(communities,
                                                                       fill_value=0.0)
    city = rows.groupby("week")[list(columns)].sum().reindex(range(first, last + 1),
                                                             fill_value=0.0)
    totals.index = pd.MultiIndex.from_product([totals.index, [0]],
                                              names=["community_id", "week"])
    city.index = pd.MultiIndex.from_product([["*"], city.index],
                                            names=["community_id", "week"])
    return pd.concat([totals, city])


def until_week(params: SimulationParams, last: int) -> SimulationParams:
    """``params`` run to week ``last``: campaigns after it left out, a campaign running
    past it cut there with the spend of its weeks before (its weekly spend unchanged)."""
    campaigns = []
    for c in params.campaigns:
        first, end = c.weeks
        if first > last:
            continue
        kept = min(end, last)
        campaigns.append(dataclasses.replace(
            c, weeks=(first, kept), spend=c.spend * (kept - first + 1) / (end - first + 1)))
    return dataclasses.replace(params, weeks=last, campaigns=tuple(campaigns),
                               events=tuple(e for e in params.events if e.week <= last))


def simulated_counts(inputs: pd.DataFrame, params: SimulationParams, seeds: Sequence[int],
                     weeks: tuple[int, int], columns: Sequence[str],
                     venues: Venues | None = None) -> pd.DataFrame:
    """The model's mean over ``seeds`` of ``columns`` (``new_customers``, ``churned``),
    laid out as :func:`observed_counts` does."""
    runs = []
    short = until_week(params, weeks[1])
    for s in seeds:
        runs.append(observed_counts(_weekly(inputs, short, s, columns, venues),
                                    inputs.index, weeks, columns))
    return sum(runs[1:], runs[0]) / len(runs)


def _weekly(inputs: pd.DataFrame, params: SimulationParams, seed: int,
            columns: Sequence[str], venues: Venues | None) -> pd.DataFrame:
    """One run's weekly rows: week, community_id and ``columns``."""
    ts = CommunityMarketModel(inputs, params, seed=seed, venues=venues).run().timeseries()
    return ts.groupby(["week", "community_id"])[list(columns)].sum().reset_index()


@dataclass(frozen=True)
class Moments:
    """Measurements beyond the counts, such as a pilot's readout: ``of`` computes their
    values from one run's weekly rows (week, community_id and the fitted columns),
    ``observed`` holds the bank's values and ``se`` their standard errors. They enter
    the fit as further moments with weights 1 / se^2, and the sandwich covariance takes
    their correlation with the counts from the model's own runs (so the same weeks
    counted in both are not counted twice as independent)."""

    of: Callable[[pd.DataFrame], np.ndarray]
    observed: np.ndarray
    se: np.ndarray


@dataclass(frozen=True)
class Fit:
    """The posterior mode (``estimate``, by name), the log-scale covariance of the fitted
    parameters (``names`` its order), each parameter's standard deviation on the log
    scale, which were identified, the dispersion, the fitted counts, the rounds
    (``iterations``) and the runs made."""

    estimate: dict[str, float]
    names: tuple[str, ...]
    covariance: np.ndarray
    sd_log: dict[str, float]
    identified: dict[str, bool]
    dispersion: float
    fitted: pd.DataFrame
    observed: pd.DataFrame
    iterations: int
    simulations: int
    #: The fitted model's values of the further measurements (:class:`Moments`).
    extra_fitted: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    #: How far the last round moved the estimate, in posterior sd, and whether the
    #: rounds stopped because it settled (inside the box, under a quarter of an sd)
    #: rather than at the most rounds.
    moved: float = 0.0
    converged: bool = True


def fit_parameters(inputs: pd.DataFrame, params: SimulationParams, observed: pd.DataFrame,
                   parameters: Sequence[Parameter], *, weeks: tuple[int, int],
                   columns: Sequence[str] = ("new_customers",), design_points: int = 0,
                   replications: int = 4, spread_replications: int = 24, rounds: int = 4,
                   seed: int = 0, venues: Venues | None = None,
                   extra: Moments | None = None,
                   progress: Callable[[str], None] = lambda _: None) -> Fit:
    """Fit ``parameters`` of ``params`` (its campaigns: what the bank spent) to
    ``observed`` over ``weeks`` (see the module docstring): ``design_points`` per round
    (default 8 + 4 per parameter), each the mean of ``replications`` shared seeds, at most
    ``rounds`` rounds; ``spread_replications`` runs measure the model's own scatter;
    ``extra``: further measurements (:class:`Moments`)."""
    if not parameters:
        raise SimulationError("no parameters to fit")
    y = observed_counts(observed, inputs.index, weeks, columns)
    y_vec = y.to_numpy(float).ravel()
    counts = y_vec.size
    if y_vec.sum() <= 0:
        raise SimulationError(f"no {' or '.join(columns)} observed in weeks {weeks[0]} to "
                              f"{weeks[1]}: nothing to fit")
    se_extra = np.zeros(0)
    if extra is not None:
        se_extra = np.asarray(extra.se, dtype=float)
        if se_extra.size != len(extra.observed) or not np.all(se_extra > 0):
            raise SimulationError("each further measurement needs a standard error > 0")
        y_vec = np.concatenate([y_vec, np.asarray(extra.observed, dtype=float)])
    size = len(parameters)
    n = 2 * ((design_points or 8 + 4 * size) // 2)
    theta0 = np.log([p.prior for p in parameters])
    sd = np.array([p.prior_sd for p in parameters])
    upper = np.array([np.log(p.upper) if p.upper else np.inf for p in parameters])
    seeds = replication_seeds(seed, replications + spread_replications)
    shared, own = seeds[:replications], seeds[replications:]
    count = 0

    def simulate(theta: np.ndarray, with_seeds: Sequence[int]) -> np.ndarray:
        nonlocal count
        count += len(with_seeds)
        values = {p.name: float(np.exp(t)) for p, t in zip(parameters, theta, strict=True)}
        short = until_week(with_values(params, values), weeks[1])
        out = np.zeros(y_vec.size)
        for s in with_seeds:
            weekly = _weekly(inputs, short, s, columns, venues)
            got = observed_counts(weekly, inputs.index, weeks, columns).to_numpy(float)
            out[:counts] += got.ravel()
            if extra is not None:
                out[counts:] += np.asarray(extra.of(weekly), dtype=float)
        return out / len(with_seeds)

    def spread(theta: np.ndarray) -> np.ndarray:
        return np.array([simulate(theta, [s]) for s in own])

    centre, box = theta0.copy(), np.minimum(sd, FIRST_BOX)
    design = qmc.LatinHypercube(size, seed=seed)
    done, residuals = 0, np.zeros((0, y_vec.size))
    moved, converged = float("inf"), False
    for done in range(1, rounds + 1):
        half = 2 * design.random(n // 2) - 1  # fold-over: each point and its mirror
        # a box that would cross an upper bound is moved below it (clipped points would
        # lose their mirrors)
        middle = np.minimum(centre, upper - box)
        points = middle + box * np.vstack([half, -half])
        surrogate = _Surrogate.fit(points, np.array([simulate(t, shared) for t in points]),
                                   middle, counts, se_extra)
        mode = _mode(surrogate, y_vec, theta0, sd, upper, start=centre)
        if not residuals.size:  # the model's own scatter, first near the data
            residuals = spread(mode)
        cov, phi = surrogate.covariance(mode, y_vec, sd, residuals, replications)
        post = np.sqrt(np.diag(cov))
        moved = float(np.max(np.abs(mode - centre) / post))
        progress(f"calibration: round {done} of at most {rounds}, {count} simulations, "
                 f"the estimate moved {moved:.1f} posterior sd")
        inside = bool(np.all(np.abs(mode - centre) <= box))
        centre = mode
        box = np.clip(3 * post, SMALLEST_BOX, box)
        if inside and moved < SETTLED:
            converged = True
            break
    residuals = spread(centre)  # and again at the estimate, for its covariance
    cov, phi = surrogate.covariance(centre, y_vec, sd, residuals, replications)
    names = tuple(p.name for p in parameters)
    identified = np.sqrt(np.diag(cov)) <= IDENTIFIED_SHRINK * sd
    fitted_all = surrogate.mean(centre)
    fitted = fitted_all[:counts]
    return Fit(estimate={n: float(np.exp(t)) for n, t in zip(names, centre, strict=True)},
               names=names, covariance=cov,
               sd_log={n: float(np.sqrt(cov[i, i])) for i, n in enumerate(names)},
               identified={n: bool(f) for n, f in zip(names, identified, strict=True)},
               dispersion=phi,
               fitted=pd.DataFrame(fitted.reshape(y.shape), index=y.index, columns=y.columns),
               observed=y, iterations=done, simulations=count,
               extra_fitted=fitted_all[counts:], moved=moved, converged=converged)


@dataclass(frozen=True)
class _Surrogate:
    """mu(theta) ~ a + B d + C d^2, d = theta - centre, fitted to one round's design."""

    centre: np.ndarray
    intercept: np.ndarray
    slopes: np.ndarray  # counts x parameters
    curvature: np.ndarray  # counts x parameters
    misfit: np.ndarray  # each count's residual variance around the regression
    design: np.ndarray  # (X'X)^-1 of the slopes: Cov(slopes of count j) = misfit_j x design
    counts: int  # the first moments are counts (>= 0); the rest further measurements
    se: np.ndarray  # the further measurements' standard errors

    @classmethod
    def fit(cls, points: np.ndarray, runs: np.ndarray, centre: np.ndarray,
            counts: int | None = None, se: np.ndarray | None = None) -> _Surrogate:
        d = points - centre
        x = np.column_stack([np.ones(len(points)), d, d ** 2])
        coef, *_ = np.linalg.lstsq(x, runs, rcond=None)
        size = len(centre)
        dof = max(len(points) - x.shape[1], 1)
        misfit = ((runs - x @ coef) ** 2).sum(axis=0) / dof
        design = np.linalg.pinv(x.T @ x)[1:size + 1, 1:size + 1]
        slopes, curvature = coef[1:size + 1].T, coef[size + 1:].T
        # each slope shrunk by its own noise (b (1 - se^2 / b^2)+, a positive-part
        # shrinkage), and a parameter whose slopes together are no more than their noise
        # (the sum of their F(1, dof) statistics, at two standard deviations) moves nothing
        noise = np.maximum(np.outer(misfit, np.diag(design)), 1e-300)
        # each term is F(1, dof) under "moves nothing": its mean and variance
        mean = dof / (dof - 2) if dof > 2 else 3.0
        var = 2 * dof ** 2 * (dof - 1) / ((dof - 2) ** 2 * (dof - 4)) if dof > 4 else 20.0
        moves = (slopes ** 2 / noise).sum(axis=0) > len(misfit) * mean + 2 * np.sqrt(
            len(misfit) * var)
        keep = np.maximum(1 - noise / np.maximum(slopes ** 2, 1e-300), 0.0) * moves
        counts = runs.shape[1] if counts is None else counts
        return cls(centre, coef[0], slopes * keep, curvature * moves, misfit, design, counts,
                   np.zeros(0) if se is None else se)

    def mean(self, theta: np.ndarray) -> np.ndarray:
        d = theta - self.centre
        out = self.intercept + self.slopes @ d + self.curvature @ d ** 2
        out[:self.counts] = np.maximum(out[:self.counts], 0.0)  # a measurement may be < 0
        return out

    def weights(self, m: np.ndarray, phi: float) -> np.ndarray:
        """Quasi-Poisson 1 / mu for the counts; phi / se^2 for the further measurements
        (divided by phi where the counts are, they weigh 1 / se^2)."""
        return np.concatenate([1 / np.maximum(m[:self.counts], 1.0), phi / self.se ** 2])

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        """d mu / d theta (log scale)."""
        return self.slopes + 2 * self.curvature * (theta - self.centre)

    def covariance(self, theta: np.ndarray, y: np.ndarray, sd: np.ndarray,
                   runs: np.ndarray, replications: int) -> tuple[np.ndarray, float]:
        """The sandwich covariance at ``theta`` (module docstring) and the dispersion;
        ``runs`` the model's counts from seeds of their own, one run per row."""
        m = self.mean(theta)
        c = self.counts
        phi = _dispersion(y[:c], m[:c], len(theta))
        w = self.weights(m, phi)
        jac = self.jacobian(theta)
        scatter = runs - runs.mean(axis=0)
        model_pearson = float((scatter[:, :c] ** 2 * w[:c]).sum(axis=1).mean()) * len(
            runs) / max(len(runs) - 1, 1)
        # the bank's scatter around the surrogate (its own noise and the surrogate's)
        # against the model's: S = kappa Sigma, at least the surrogate's share 1/R (the
        # model's noise exceeds the bank's when an agent stands for several residents)
        kappa = max(float(((y[:c] - m[:c]) ** 2 * w[:c]).sum()) / max(model_pearson, 1e-12),
                    1 / replications)
        a = (jac.T * w) @ jac / phi + np.diag(1 / sd ** 2)
        scores = scatter * w @ jac / phi
        middle = kappa * (scores.T @ scores) / max(len(runs) - 1, 1)
        inverse = np.linalg.inv(a)
        return inverse @ middle @ inverse + _prior_part(inverse, sd), phi


def _prior_part(inverse: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """The prior's share of the posterior covariance, A^-1 P A^-1: a parameter the data do
    not inform keeps its prior's width (the sandwich alone would give it none)."""
    return inverse @ np.diag(1 / sd ** 2) @ inverse


def _dispersion(y: np.ndarray, m: np.ndarray, fitted: int) -> float:
    w = 1 / np.maximum(m, 1.0)
    return max(float(((y - m) ** 2 * w).sum()) / max(y.size - fitted, 1), 1.0)


def _mode(surrogate: _Surrogate, y: np.ndarray, theta0: np.ndarray, sd: np.ndarray,
          upper: np.ndarray, start: np.ndarray) -> np.ndarray:
    """The posterior mode on the surrogate (weights and dispersion iterated three times)."""
    theta = start.copy()
    c = surrogate.counts
    for _ in range(3):
        m = surrogate.mean(theta)
        phi = _dispersion(y[:c], m[:c], len(theta))
        w = surrogate.weights(m, phi)

        def residuals(t: np.ndarray, w: np.ndarray = w, phi: float = phi) -> np.ndarray:
            return np.concatenate([(y - surrogate.mean(t)) * np.sqrt(w / phi),
                                   (t - theta0) / sd])

        hi = upper
        lo = theta0 - 6 * sd
        x0 = np.clip(theta, lo + 1e-9, np.minimum(hi, theta0 + 6 * sd) - 1e-9)
        theta = least_squares(residuals, x0, bounds=(lo, np.minimum(hi, theta0 + 6 * sd)),
                              method="trf").x
    return theta
