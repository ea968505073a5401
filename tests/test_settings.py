"""The study's settings: conf/ holds the defaults, one validator names the bad value wherever it
comes from (config, a command line, tags), and a sweep's tags give them back."""

import re

import pytest

from ebm_study import settings
from ebm_study.errors import UserError
from ebm_study.settings import StudySettings

GOOD = StudySettings(top_k=5, terms="all", rbo_p=0.8)


def test_the_defaults_come_from_conf(make_cfg):
    assert settings.from_config(make_cfg(tiny=False)) == GOOD
    assert settings.from_config(make_cfg("top_k=3", "study.terms=mains")).top_k == 3


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"top_k": 0}, "top_k=0 must be a whole number >= 1"),
        ({"top_k": 2.5}, "top_k=2.5 must be a whole number >= 1"),
        ({"top_k": True}, "top_k=True must be a whole number >= 1"),
        ({"terms": "pairs"}, "study.terms='pairs' is unknown; allowed: all, mains"),
        ({"rbo_p": 1.0}, "study.rbo_p=1.0 must be a number between 0 and 1 (exclusive)"),
        ({"rbo_p": float("nan")}, "study.rbo_p=nan must be a number between 0 and 1"),
        ({"rbo_p": "high"}, "study.rbo_p='high' must be a number between 0 and 1"),
    ],
)
def test_a_bad_setting_is_named_with_what_is_allowed(values, message):
    with pytest.raises(UserError, match="^" + re.escape(message)):
        StudySettings(**{"top_k": 5, "terms": "all", "rbo_p": 0.8, **values})


def test_the_config_is_checked_with_the_same_words(make_cfg):
    with pytest.raises(UserError, match=r"^study.terms='pairs' is unknown; allowed: all, mains"):
        settings.from_config(make_cfg("study.terms=pairs"))


def test_a_command_line_change_is_named_as_the_user_typed_it():
    names = {"top_k": "--top-k", "terms": "--terms", "rbo_p": "--rbo-p"}
    assert GOOD.replace(names, top_k=3, terms=None).top_k == 3
    assert GOOD.replace(names, top_k=None) == GOOD
    with pytest.raises(UserError, match=r"^--top-k=0 must be a whole number >= 1$"):
        GOOD.replace(names, top_k=0)


def test_tags_round_trip_and_missing_tags_fall_back():
    chosen = StudySettings(
        top_k=3,
        terms="mains",
        rbo_p=0.9,
        corr_threshold=None,
        metric="rmse",
        min_stability=0.5,
        reliable=0.8,
        near_best=0.01,
        top_reasons=2,
        reference_rows=50,
        reference="rows.csv",
    )
    assert chosen.to_tags() == {
        "study.top_k": "3",
        "study.terms": "mains",
        "study.rbo_p": "0.9",
        "study.corr_threshold": "None",
        "study.objective": "nogueira",
        "study.metric": "rmse",
        "study.min_stability": "0.5",
        "study.reliable": "0.8",
        "study.near_best": "0.01",
        "study.top_reasons": "2",
        "study.reference_rows": "50",
        "study.reference": "rows.csv",
    }
    assert settings.from_tags(chosen.to_tags(), fallback=lambda: pytest.fail("not needed")) == (
        chosen
    )
    only_k = settings.from_tags({"study.top_k": "4"}, fallback=lambda: GOOD)
    assert only_k == StudySettings(top_k=4, terms="all", rbo_p=0.8)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("objective", "phi", r"^study.objective=.phi. is unknown; allowed: nogueira, nogueira_co"),
        (
            "metric",
            "auc",
            r"^study.metric='auc' is not a metric runs log; allowed: accuracy, average_precision,",
        ),
        ("min_stability", 2.0, r"^study.min_stability=2.0 must be a number between -1 and 1"),
        ("reliable", 1.0, r"^study.reliable=1.0 must be a number between 0 and 1 \(exclusive\)"),
        ("reliable", True, r"^study.reliable=True must be a number between 0 and 1"),
        ("near_best", -0.01, r"^study.near_best=-0.01 must be a number >= 0 \(in the metric's"),
        ("near_best", "0.01", r"^study.near_best='0.01' must be a number >= 0"),
        ("top_reasons", 0, r"^study.top_reasons=0 must be a whole number >= 1$"),
        ("top_reasons", 2.5, r"^study.top_reasons=2.5 must be a whole number >= 1$"),
        ("reference_rows", 1, r"^study.reference_rows=1 must be a whole number >= 2$"),
        ("reference", "", r"^study.reference='' must be the path of a CSV or Parquet file"),
    ],
)
def test_the_pareto_settings_are_checked(key, value, message):
    with pytest.raises(UserError, match=message):
        GOOD.replace(**{key: value})


def test_phi_c_as_the_objective_needs_near_twin_groups(make_cfg):
    with pytest.raises(UserError) as err:
        settings.from_config(make_cfg("study.objective=nogueira_corr", "study.corr_threshold=null"))
    assert str(err.value) == (
        "study.objective='nogueira_corr' needs near-twin groups, but study.corr_threshold=None "
        "switches them off: set it (0.9), or study.objective=nogueira"
    )
    assert settings.from_config(make_cfg("study.objective=nogueira_corr")).corr_threshold == 0.9


def test_a_reference_file_is_recorded_by_its_absolute_path(make_cfg, tmp_path, monkeypatch):
    """The parent's tag names the file wherever the study is recomputed from."""
    monkeypatch.chdir(tmp_path)
    assert settings.from_config(make_cfg("study.reference=rows.csv")).reference == str(
        tmp_path / "rows.csv"
    )
    assert GOOD.replace(reference="x/rows.csv").reference == str(tmp_path / "x" / "rows.csv")
    assert settings.from_config(make_cfg()).reference is None
