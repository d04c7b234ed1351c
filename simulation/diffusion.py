"""Validation against theory: the engine with only mass media and word of mouth."""

from __future__ import annotations

import numpy as np

from simulation.engine import TieShares, adoption_substep
from simulation.errors import SimulationError
from simulation.ties import Network, erdos_renyi_ties, small_world_ties

__all__ = ["diffusion_model"]


def diffusion_model(n: int, *, p: float, q: float, network: Network = "complete",
                    mean_degree: float | None = None, seed: int | None = None,
                    weeks: int = 52, substeps: int = 7) -> np.ndarray:
    """Run the adoption mechanism alone: mass media p and word of mouth q per week.

    Each week a non-adopter adopts with hazard p + q x (adopted share of its ties),
    applied in ``substeps`` substeps. On a complete network the mean over seeds follows
    the closed-form Bass curve (:func:`simulation.engine.bass_curve`).

    Parameters
    ----------
    n
        Residents (>= 2).
    p, q
        Innovation (mass media) and imitation (word of mouth) rates per week, >= 0.
    network
        ``"complete"``, ``"erdos_renyi"`` or ``"small_world"`` (Watts-Strogatz, 10% rewired).
    mean_degree
        Ties per resident for the sparse networks (default 10).
    seed
        Seed of the random generator; the same seed gives the same curve.

    Returns
    -------
    numpy.ndarray
        Cumulative adopted share at weeks 0..weeks (``weeks + 1`` values, starting at 0).
    """
    problems = []
    if n < 2:
        problems.append(f"n = {n}: expected at least 2 residents")
    if not 0 <= p <= 1:
        problems.append(f"p = {p}: expected a rate per week in [0, 1]")
    if q < 0:
        problems.append(f"q = {q}: expected a rate per week >= 0")
    if weeks < 1 or substeps < 1:
        problems.append(f"weeks = {weeks}, substeps = {substeps}: expected at least 1")
    if network not in ("complete", "erdos_renyi", "small_world"):
        problems.append(f"network = {network!r}: expected 'complete', 'erdos_renyi' or "
                        "'small_world'")
    if problems:
        raise SimulationError("; ".join(problems))
    rng = np.random.default_rng(seed)
    degree = 10 if mean_degree is None else mean_degree
    if network == "erdos_renyi":
        ties = erdos_renyi_ties(n, degree, rng)
    elif network == "small_world":
        ties = small_world_ties(n, int(degree), rng)
    else:
        ties = None
    adopted = np.zeros(n, dtype=bool)
    shares = TieShares(ties, adopted)
    curve = np.zeros(weeks + 1)
    for week in range(1, weeks + 1):
        clock = rng.standard_exponential(n, dtype=np.float32)
        for _ in range(substeps):
            new = adoption_substep(adopted, p, q, shares, clock, substeps)
            adopted |= new
            shares.change(np.flatnonzero(new), +1.0)
        curve[week] = adopted.mean()
    return curve
