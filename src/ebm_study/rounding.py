"""Numbers as people read them: a value with an interval shows the digits the interval
supports, and no more (0.9834 (0.9807–0.9861); 0.46 (0.29–0.62)); a value without one, three
significant digits. Trailing zeros are kept: 0.40 says the second digit is known. Metrics and
the study's own computations keep full precision; only what is printed, written in words, or
put in a table for reading goes through here."""

from __future__ import annotations

import math

# The interval's width is shown to two significant digits, the value and its ends to the same
# decimal place: the usual rule for a measured value with its uncertainty (the Particle Data
# Group's, and the Guide to the Expression of Uncertainty in Measurement's 7.2.6).
WIDTH_DIGITS = 2
MAX_DECIMALS = 6  # a width near 0 (all runs alike) would otherwise ask for 15 digits


def _finite(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def decimals(low: object, high: object) -> int | None:
    """The decimal places a value with the interval [low, high] is shown to (negative: tens,
    hundreds); None when the interval is missing or has no width (three significant digits
    then)."""
    if not (_finite(low) and _finite(high)) or high <= low:
        return None
    width = float(high) - float(low)
    return min(MAX_DECIMALS, WIDTH_DIGITS - 1 - math.floor(math.log10(width)))


def at(x: float, places: int) -> str:
    """`x` to `places` decimal places (negative: rounded to tens, hundreds), zeros kept."""
    if places <= 0:
        return f"{round(float(x), places):.0f}"
    return f"{float(x):.{places}f}"


def number(x: object) -> str:
    """A value without an interval: 3 significant digits, `n/a` when undefined."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:#.3g}".rstrip(".") if isinstance(x, float) else str(x)


def interval(value: object, low: object, high: object) -> str:
    """`0.46 (0.29–0.62)`: a value with its 95% interval, to the digits the interval supports;
    `0.500 (no interval)` when the value has none (too few runs), `n/a` when the value itself
    is undefined."""
    if low is None or (isinstance(low, float) and math.isnan(low)):
        return f"{number(value)} (no interval)" if _finite(value) else number(value)
    places = decimals(low, high)
    if places is None or not _finite(value):
        return f"{number(value)} ({number(low)}–{number(high)})"
    return f"{at(value, places)} ({at(low, places)}–{at(high, places)})"


def rounded_like(x: object, places: int | None) -> object:
    """A float rounded for a table people read: to `places` (from its interval), or to three
    significant digits without one; anything else as it is."""
    if not isinstance(x, float) or not math.isfinite(x):
        return x
    if places is None:
        return float(f"{x:.3g}")
    # Through the decimal string, correctly rounded: numpy's round(0.32, 1) is
    # 0.30000000000000004, which a JSON table would show as it is.
    return float(at(x, places))
