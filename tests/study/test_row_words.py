"""The per-row study's words (study/row_words.py): shares as percentages with their intervals,
and without one."""

from ebm_study.measures.stability import Estimate
from ebm_study.study.row_words import percent, plural


def test_a_share_is_a_percentage_rounded_to_its_interval_or_said_to_have_none():
    assert percent(Estimate(0.00704, 0.00562, 0.00846)) == "0.70% (0.56–0.85%)"
    assert percent(Estimate(0.0105)) == "1.05% (no interval)"
    assert percent(Estimate(0.54, 0.45, 0.64)) == "54% (45–64%)"


def test_one_is_not_plural():
    assert plural(1, "row") == "1 row" and plural(3, "reason") == "3 reasons"
