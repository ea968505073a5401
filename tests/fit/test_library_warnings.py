"""Library warnings are caught while a job fits, kept short, and counted once over a sweep."""

import warnings

from ebm_study.fit import library_warnings


def test_warnings_inside_are_caught_once_each_and_not_printed(recwarn):
    with library_warnings.caught() as said:
        for _ in range(3):
            warnings.warn(
                "Missing values detected. Our visualizations ...", UserWarning, stacklevel=1
            )
        warnings.warn("another", RuntimeWarning, stacklevel=1)
    assert said == [
        "UserWarning: Missing values detected. Our visualizations ...",
        "RuntimeWarning: another",
    ]
    assert len(recwarn) == 0  # nothing reached the outside


def test_a_long_warning_is_cut_after_its_last_whole_sentence():
    text = "First sentence. " + "Second one, a long piece of advice " * 10 + "end."
    assert library_warnings.short(text) == "First sentence."
    assert library_warnings.short("a\nb") == "a"


def test_a_sweeps_warnings_are_counted_by_run():
    per_run = ["UserWarning: a\nUserWarning: b", "UserWarning: a", None, "UserWarning: a"]
    assert library_warnings.tally(per_run) == [("UserWarning: a", 3), ("UserWarning: b", 1)]
