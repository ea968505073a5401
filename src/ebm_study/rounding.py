"""Numbers as people read them: a value with an interval shows the digits the interval
supports, and no more (0.9834 (0.9807–0.9861); 0.46 (0.29–0.62)); a value without one, three
significant digits. Trailing zeros are kept: 0.40 says the second digit is known. Metrics and
the study's own computations keep full precision; only what is printed, written in words, or
put in a table for reading goes through here."""

from __future__ import annotations

import math
from numbers import Integral, Real

# The interval's width is shown to two significant digits, the value and its ends to the same
# decimal place: the usual rule for a measured value with its uncertainty (the Particle Data
# Group's, and the Guide to the Expression of Uncertainty in Measurement's 7.2.6).
WIDTH_DIGITS = 2
# Past this many decimals fixed places say less than significant digits (a value near 1e-7),
# and an interval narrower than its ends' rounding noise (all runs alike) has no width at all.
MAX_DECIMALS = 6
NOISE = 1e-9


def _finite(x: object) -> bool:
    return isinstance(x, Real) and not isinstance(x, bool) and math.isfinite(x)


def decimals(low: object, high: object) -> int | None:
    """The decimal places a value with the interval [low, high] is shown to (negative: tens,
    hundreds); None, for three significant digits, when the interval is missing, has no width
    beyond float noise, or would need more than MAX_DECIMALS places."""
    if not (_finite(low) and _finite(high)):
        return None
    width = float(high) - float(low)
    if width <= NOISE * max(1.0, abs(float(low)), abs(float(high))):
        return None
    places = WIDTH_DIGITS - 1 - math.floor(math.log10(width))
    return places if places <= MAX_DECIMALS else None


def at(x: float, places: int) -> str:
    """`x` to `places` decimal places (negative: rounded to tens, hundreds), zeros kept."""
    # + 0.0: -0.004 to two places is 0.00, not -0.00.
    if places <= 0:
        return f"{round(float(x), places) + 0.0:.0f}"
    return f"{round(float(x), places) + 0.0:.{places}f}"


def number(x: object) -> str:
    """A value without an interval: 3 significant digits, `n/a` when undefined."""
    if x is None or (isinstance(x, Real) and not math.isfinite(x)):
        return "n/a"
    if isinstance(x, Integral):
        return str(x)
    if not isinstance(x, Real):
        return str(x)
    if abs(x) >= 1000:  # 1234, not 1.23e+03: whole units are digits a reader has
        return f"{round(float(x)) + 0:d}"
    return f"{float(x) + 0.0:#.3g}".rstrip(".")  # + 0.0: no -0.00


def interval(value: object, low: object, high: object) -> str:
    """`0.46 (0.29–0.62)`: a value with its 95% interval, to the digits the interval supports;
    `0.500 (no interval)` when the value has none (too few runs), `n/a` when the value itself
    is undefined."""
    if not (_finite(low) and _finite(high)):
        return f"{number(value)} (no interval)" if _finite(value) else number(value)
    places = decimals(low, high)
    if places is None or not _finite(value):
        return f"{number(value)} ({number(low)}–{number(high)})"
    return f"{at(value, places)} ({at(low, places)}–{at(high, places)})"


def like(x: object, low: object, high: object) -> str:
    """`x` to the digits the interval [low, high] supports (a value beside one with that
    interval: Phi of the single terms beside the groups'), else three significant digits."""
    places = decimals(low, high)
    return at(x, places) if places is not None and _finite(x) else number(x)


def rounded_like(x: object, places: int | None) -> object:
    """A float rounded for a table people read: to `places` (from its interval), or to three
    significant digits without one; anything else as it is."""
    if not isinstance(x, Real) or isinstance(x, Integral) or not math.isfinite(x):
        return x
    if places is None:
        if abs(x) >= 1000 or float(x).is_integer():  # a rank, a count: never to tens
            return float(round(float(x))) + 0.0
        return float(f"{x:.3g}") + 0.0
    # Through the decimal string, correctly rounded: numpy's round(0.32, 1) is
    # 0.30000000000000004, which a JSON table would show as it is.
    return float(at(x, places))
