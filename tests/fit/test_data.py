"""Data sets load as the config names them, and the split is stratified and seeded."""

import re

import pandas as pd
import pytest
from omegaconf import OmegaConf

from ebm_study.errors import UserError
from ebm_study.fit import data


def csv_cfg(path, target="label"):
    return OmegaConf.create({"name": "mine", "source": "csv", "path": str(path), "target": target})


def test_breast_cancer_is_the_bundled_copy():
    table = data.load(OmegaConf.create({"name": "breast_cancer", "source": "sklearn"}))
    assert table.X.shape == (569, 30)
    assert sorted(table.y.unique()) == [0, 1]
    assert "worst radius" in table.X.columns


def test_split_is_stratified_and_seeded():
    table = data.load(OmegaConf.create({"name": "breast_cancer", "source": "sklearn"}))
    a = data.split(table, 0.2, True, seed=3)
    b = data.split(table, 0.2, True, seed=3)
    c = data.split(table, 0.2, True, seed=4)
    assert len(a.X_test) == 114 and len(a.X_train) == 455
    assert a.X_test.index.equals(b.X_test.index)
    assert not a.X_test.index.equals(c.X_test.index)
    # Stratified: class shares of train and test agree to within one row.
    assert abs(a.y_test.mean() - table.y.mean()) < 1 / len(a.y_test)


def test_a_users_csv_loads_with_its_target_column(tmp_path):
    path = tmp_path / "mine.csv"
    pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.1, 0.2, 0.3], "label": [0, 1, 0]}).to_csv(
        path, index=False
    )
    table = data.load(csv_cfg(path))
    assert list(table.X.columns) == ["a", "b"]
    assert table.y.tolist() == [0, 1, 0]
    assert table.source == str(path.resolve())


def test_missing_csv_names_the_path(tmp_path):
    with pytest.raises(UserError, match=r"data.path=.*nope.csv.* is not a file"):
        data.load(csv_cfg(tmp_path / "nope.csv"))


def test_missing_target_names_it_and_the_columns(tmp_path):
    path = tmp_path / "mine.csv"
    pd.DataFrame({"a": [1], "b": [2]}).to_csv(path, index=False)
    with pytest.raises(UserError, match=r"data.target='label' is not a column .* columns: a, b"):
        data.load(csv_cfg(path))


def test_empty_csv_is_refused(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(UserError, match="not a readable CSV"):
        data.load(csv_cfg(path))


def test_a_csv_with_a_header_but_no_rows_is_refused(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("a,b,label\n")
    with pytest.raises(UserError, match=r"data.path=.*header.csv.* has a header but no rows"):
        data.load(csv_cfg(path))


def test_read_csv_names_the_setting_it_came_from(tmp_path):
    path = tmp_path / "binary.csv"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(UserError, match=r"^--input=.*binary.csv' is not a readable CSV: "):
        data.read_csv(path, "--input")
    with pytest.raises(UserError, match=r"^--input=.*nope.csv' is not a file"):
        data.read_csv(tmp_path / "nope.csv", "--input")


def test_the_delimiter_is_detected_or_given(tmp_path):
    frame = pd.DataFrame({"a": [1.5, 2.5, 3.5], "b": [1, 2, 3], "label": [0, 1, 0]})
    frame.to_csv(tmp_path / "semi.csv", sep=";", index=False)
    frame.to_csv(tmp_path / "tab.tsv", sep="\t", index=False)
    semi = data.load(csv_cfg(tmp_path / "semi.csv"))
    assert list(semi.X.columns) == ["a", "b"] and semi.X["a"].tolist() == [1.5, 2.5, 3.5]
    assert list(data.load(csv_cfg(tmp_path / "tab.tsv")).X.columns) == ["a", "b"]
    given = OmegaConf.merge(csv_cfg(tmp_path / "tab.tsv"), {"sep": "tab"})
    assert list(data.load(given).X.columns) == ["a", "b"]


def test_a_file_that_reads_as_one_column_says_so(tmp_path):
    (tmp_path / "odd.csv").write_text("a:b:label\n1:2:0\n3:4:1\n")
    with pytest.raises(UserError, match="reads as one column .'a:b:label'.*set data.sep to it"):
        data.load(csv_cfg(tmp_path / "odd.csv"))
    given = OmegaConf.merge(csv_cfg(tmp_path / "odd.csv"), {"sep": ":"})
    assert list(data.load(given).X.columns) == ["a", "b"]


def test_the_positive_class_is_the_larger_label_unless_stated():
    y = pd.Series(["no", "yes", "yes", "no"])
    assert data.positive_label(y) == "yes"
    assert data.positive_label(y, "no") == "no"
    assert data.positive_label(pd.Series([0, 1, 1]), "0") == 0  # the command line's text
    assert data.positive_label(pd.Series([0, 1, 2])) is None  # three classes: macro averages
    with pytest.raises(UserError, match=r"positive_class='maybe' is not a class .*'no', 'yes'"):
        data.positive_label(y, "maybe")


def test_columns_are_dropped_dates_read_as_decimal_years_and_missing_targets_left_out(tmp_path):
    path = tmp_path / "mine.csv"
    pd.DataFrame(
        {
            "name": ["Ann", "Bob", "Cy", "Di"],
            "when": ["2013-01-01", "2013-07-02 12:00", None, "2016-12-31 23:59:59"],
            "a": [1.0, 2.0, 3.0, 4.0],
            "label": [0, 1, None, 1],
        }
    ).to_csv(path, index=False)
    options = {"drop": ["name"], "dates": ["when"], "drop_missing_target": True}
    table = data.load(OmegaConf.merge(csv_cfg(path), options))
    assert list(table.X.columns) == ["when", "a"]
    assert table.rows_dropped == 1 and table.y.tolist() == [0, 1, 1]
    # The middle of 2013 (day 183 of 365 at noon) and the last second of a leap year.
    assert table.X["when"].tolist() == pytest.approx(
        [2013.0, 2013 + 182.5 / 365, 2017 - 1 / 31622400]
    )
    kept = data.load(OmegaConf.merge(csv_cfg(path), {"dates": ["when"]}))
    assert kept.rows_dropped == 0 and kept.y.isna().sum() == 1  # the validator refuses it


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"drop": ["nope"]}, "data.drop names no column: nope; columns: when, a"),
        ({"dates": ["label"]}, "data.dates=['label'] names the target, 'label'"),
        ({"dates": ["a"]}, "data.dates: column 'a' is numeric already (1.0)"),
        ({"drop": ["a", "when"]}, "data.drop=['a', 'when'] leaves no feature columns"),
        ({"drop": ["a"], "dates": ["a"]}, "data.drop and data.dates both name a"),
    ],
)
def test_bad_column_options_name_the_value(tmp_path, options, message):
    path = tmp_path / "mine.csv"
    pd.DataFrame({"when": ["2013-01-01", "x"], "a": [1.0, 2.0], "label": [0, 1]}).to_csv(
        path, index=False
    )
    with pytest.raises(UserError, match=re.escape(message)):
        data.load(OmegaConf.merge(csv_cfg(path), options))
    with pytest.raises(
        UserError, match=r"data.dates: column 'when' holds 'x', not a date \(1 of 2"
    ):
        data.load(OmegaConf.merge(csv_cfg(path), {"dates": ["when"]}))


def test_a_parquet_file_reads_as_a_csv_does(tmp_path):
    frame = pd.DataFrame({"a": [1.5, 2.5, 3.5], "colour": ["r", "g", "b"], "label": [0, 1, 0]})
    frame.to_parquet(tmp_path / "mine.parquet")
    frame.to_csv(tmp_path / "mine.csv", index=False)
    parquet = data.load(csv_cfg(tmp_path / "mine.parquet"))
    csv = data.load(csv_cfg(tmp_path / "mine.csv"))
    assert parquet.X.equals(csv.X) and parquet.y.equals(csv.y) and parquet.name == "mine"
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(UserError, match=r"^--input=.*bad.parquet' is not a readable Parquet"):
        data.read_table(tmp_path / "bad.parquet", "--input")


def test_text_columns_are_told_apart_ids_and_dates_from_categories():
    names = pd.Series([f"person {i}" for i in range(50)])
    assert data.id_like(names) and not data.dates_like(names)
    dates = pd.Series(["2013-01-05", "2014-02-03"] * 25)
    assert data.dates_like(dates) and not data.id_like(dates)
    colours = pd.Series(["red", "blue"] * 25)
    assert not data.id_like(colours) and not data.dates_like(colours)
    assert not data.dates_like(pd.Series(["May", "June"] * 25))  # a month name: a category


def test_labels_with_gaps_are_whole_numbers_again_and_a_bare_name_is_one_column(tmp_path):
    path = tmp_path / "mine.csv"
    pd.DataFrame(
        {"id": ["a", "b", "c", "d"], "x": [1.0, 2.0, 3.0, 4.0], "label": [0, 1, None, 1]}
    ).to_csv(path, index=False)
    table = data.load(OmegaConf.merge(csv_cfg(path), {"drop": "id", "drop_missing_target": True}))
    assert list(table.X.columns) == ["x"]
    assert table.y.dtype == "int64" and data.positive_label(table.y, "1") == 1


def test_dates_read_in_utc_and_codes_or_times_are_no_dates():
    zoned = pd.Series(["2021-03-27T12:00:00+01:00", "2021-07-01T00:00:00+02:00"])
    assert data.decimal_year(zoned, "d").tolist() == pytest.approx(
        [2021 + (85 + 11 / 24) / 365, 2021 + (180 + 22 / 24) / 365]  # 22:00 UTC on June 30
    )
    stamps = pd.Series(pd.to_datetime(["2020-07-02"]).tz_localize("Europe/Berlin"))
    assert data.dates_like(stamps)
    for codes in (["M1", "M2"], ["10:30", "11:00"], ["2-4", "3-5"], ["Jan 5", "Feb 6"]):
        assert not data.dates_like(pd.Series(codes * 20)), codes
        with pytest.raises(UserError, match="not a date"):
            data.decimal_year(pd.Series(codes), "d")
