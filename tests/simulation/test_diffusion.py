"""The adoption mechanism against the closed-form Bass curve, and its building blocks."""

from __future__ import annotations

import numpy as np
import pytest

from geo import InputError
from simulation import (
    SimulationError,
    adopted_share_of_ties,
    bass_curve,
    diffusion_model,
    erdos_renyi_ties,
    small_world_ties,
)


def test_bass_on_a_complete_network_within_two_points() -> None:
    """Issue 4's acceptance: p = 0.01, q = 0.3, 10,000 residents, 20 seeds, 52 weeks."""
    curves = np.array([diffusion_model(10_000, p=0.01, q=0.3, seed=s) for s in range(20)])
    gap = np.abs(curves.mean(axis=0) - bass_curve(52, p=0.01, q=0.3))
    assert gap.max() < 0.02, f"largest gap {gap.max():.4f} at week {gap.argmax()}"


def test_bass_closed_form_by_hand() -> None:
    assert bass_curve(0, p=0.03, q=0.4)[0] == 0.0
    # F(t) for p = 0.03, q = 0.4 at t = 5: (1 - e^-2.15) / (1 + (40/3) e^-2.15)
    e = np.exp(-0.43 * 5)
    assert bass_curve(np.array([5.0]), p=0.03, q=0.4)[0] == pytest.approx(
        (1 - e) / (1 + 0.4 / 0.03 * e))
    # with q = 0 it is the exponential of pure innovation
    assert bass_curve(np.array([10.0]), p=0.05, q=0.0)[0] == pytest.approx(1 - np.exp(-0.5))


def test_without_word_of_mouth_the_share_is_exponential() -> None:
    curves = np.array([diffusion_model(5_000, p=0.05, q=0.0, network="small_world", seed=s)
                       for s in range(5)])
    expected = 1 - np.exp(-0.05 * np.arange(53))
    assert np.abs(curves.mean(axis=0) - expected).max() < 0.01


def test_same_seed_same_curve_other_seed_differs() -> None:
    for network in ("complete", "erdos_renyi", "small_world"):
        a = diffusion_model(2_000, p=0.01, q=0.3, network=network, seed=5)
        b = diffusion_model(2_000, p=0.01, q=0.3, network=network, seed=5)
        c = diffusion_model(2_000, p=0.01, q=0.3, network=network, seed=6)
        assert np.array_equal(a, b) and not np.array_equal(a, c)
        assert (np.diff(a) >= 0).all() and a[0] == 0 and a[-1] <= 1


def test_sparse_networks_spread_more_slowly_than_the_complete_one() -> None:
    full = np.mean([diffusion_model(5_000, p=0.01, q=0.3, seed=s)[15] for s in range(5)])
    ring = np.mean([diffusion_model(5_000, p=0.01, q=0.3, network="small_world",
                                    mean_degree=4, seed=s)[15] for s in range(5)])
    assert ring < full


def test_ties_are_row_normalized_and_symmetric() -> None:
    rng = np.random.default_rng(0)
    for W in (erdos_renyi_ties(500, 8, rng), small_world_ties(500, 6, rng)):
        sums = np.asarray(W.sum(axis=1)).ravel()
        assert np.allclose(sums[sums > 0], 1.0)
        assert W.diagonal().sum() == 0
        pattern = (W > 0).astype(int)
        assert (pattern != pattern.T).nnz == 0
    ring = small_world_ties(10, 4, rng, rewire=0.0)
    assert sorted(ring[0].indices.tolist()) == [1, 2, 8, 9]
    adopted = np.zeros(10, dtype=bool)
    adopted[[1, 2]] = True
    assert adopted_share_of_ties(adopted, ring)[0] == pytest.approx(0.5)
    assert adopted_share_of_ties(adopted, None)[0] == pytest.approx(2 / 9)


def test_bad_parameters_name_the_field() -> None:
    with pytest.raises(SimulationError, match=r"p = 1.5: expected a rate per week in \[0, 1\]"):
        diffusion_model(100, p=1.5, q=0.3)
    with pytest.raises(InputError, match=r"q = -0\.1"):
        diffusion_model(100, p=0.1, q=-0.1)
    with pytest.raises(SimulationError, match="network = 'lattice'"):
        diffusion_model(100, p=0.1, q=0.1, network="lattice")  # type: ignore[arg-type]
    with pytest.raises(SimulationError, match="mean_degree = 3"):
        diffusion_model(100, p=0.1, q=0.1, network="small_world", mean_degree=3)
