"""How much a calibration fits, defined once for the fit (scenarios.calibrate) and the
command line (which must not import pandas to start)."""

from __future__ import annotations

__all__ = ["MIN_FITTED_WEEKS", "ROUNDS"]

#: The fit's most rounds of design, surrogate and mode (simulation.fit_parameters).
ROUNDS = 4
#: The fewest weeks a calibration fits (fewer tell organic adoption from word of mouth
#: too poorly: an assumption).
MIN_FITTED_WEEKS = 8
