"""Social ties between residents as a row-normalized sparse matrix.

Row i of the matrix gives the weight of each of i's ties (summing to 1), so that
``W @ adopted`` is each resident's adopted share of ties: the word-of-mouth signal.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.sparse import csr_matrix

from simulation.errors import SimulationError

__all__ = ["Network", "erdos_renyi_ties", "row_normalize", "small_world_ties",
           "ties_from_pairs"]

Network = Literal["complete", "erdos_renyi", "small_world"]


def row_normalize(adjacency: csr_matrix) -> csr_matrix:
    """Scale each row to sum to 1 (rows without ties stay empty)."""
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    scale = np.divide(1.0, degree, out=np.zeros_like(degree, dtype=np.float64),
                      where=degree > 0)
    out = csr_matrix(adjacency.multiply(scale[:, None]))
    out.eliminate_zeros()
    return out


def ties_from_pairs(a: np.ndarray, b: np.ndarray, n: int) -> csr_matrix:
    """Undirected ties between residents a[k] and b[k]: self-ties dropped, repeated pairs
    counted once, each resident's ties weighted equally."""
    keep = a != b
    a, b = a[keep], b[keep]
    adjacency = csr_matrix((np.ones(2 * a.size), (np.concatenate([a, b]),
                                                  np.concatenate([b, a]))), shape=(n, n))
    adjacency.data[:] = 1.0  # duplicates were summed: a tie is a tie
    return row_normalize(adjacency)


def erdos_renyi_ties(n: int, mean_degree: float, rng: np.random.Generator) -> csr_matrix:
    """Undirected random ties, each pair with probability mean_degree / (n - 1).

    Drawn as a binomial number of edges with uniformly random ends (self-ties and
    duplicates dropped), which is the G(n, p) model up to those few drops.
    """
    if not 0 < mean_degree < n:
        raise SimulationError(f"mean_degree = {mean_degree}: expected between 0 and n = {n}")
    m = rng.binomial(n * (n - 1) // 2, mean_degree / (n - 1))
    a = rng.integers(0, n, size=m)
    b = rng.integers(0, n, size=m)
    return ties_from_pairs(a, b, n)


def small_world_ties(n: int, mean_degree: int, rng: np.random.Generator, *,
                     rewire: float = 0.1) -> csr_matrix:
    """Watts-Strogatz ties: a ring where each resident knows ``mean_degree / 2`` neighbours
    on each side, each tie rewired to a random resident with probability ``rewire``."""
    k = int(mean_degree) // 2
    if mean_degree != 2 * k or k < 1 or 2 * k >= n:
        raise SimulationError(f"mean_degree = {mean_degree}: expected an even number from 2 "
                              f"to {n - 1}")
    if not 0 <= rewire <= 1:
        raise SimulationError(f"rewire = {rewire}: expected a probability in [0, 1]")
    a = np.repeat(np.arange(n), k)
    b = (a + np.tile(np.arange(1, k + 1), n)) % n
    moved = rng.random(a.size) < rewire
    b[moved] = rng.integers(0, n, size=int(moved.sum()))
    return ties_from_pairs(a, b, n)
