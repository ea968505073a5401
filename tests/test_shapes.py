"""Shape agreement on constructed shapes with known answers, and the bag band of a real EBM."""

import math

import numpy as np
import pytest
from interpret.glassbox import ExplainableBoostingClassifier
from sklearn.datasets import load_breast_cancer

from ebm_study import shapes


def test_identical_shapes_agree_one_mirrors_minus_one_noise_about_zero():
    x = np.linspace(-3, 3, 400)
    shape = np.tanh(x)
    assert shapes.agreement(np.array([shape, shape + 5.0, shape])) == pytest.approx(
        1.0
    )  # offsets drop out
    assert shapes.agreement(np.array([shape, -shape])) == pytest.approx(-1.0)
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(20, 400))
    assert abs(shapes.agreement(noise)) < 0.02
    # A constant shape (the term never used) has no form: left out, not counted as agreement.
    assert shapes.agreement(np.array([shape, np.zeros(400), shape])) == pytest.approx(1.0)
    assert math.isnan(shapes.agreement(np.array([shape, np.zeros(400)])))
    assert shapes.reading(0.95) == "the same form in every run"


def test_a_runs_contributions_and_its_bag_band():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    ebm = ExplainableBoostingClassifier(
        interactions=0, outer_bags=4, max_rounds=300, n_jobs=1, random_state=0
    ).fit(X, y)
    curve = shapes.contributions(ebm, X, "worst radius")
    low, high = shapes.bag_band(ebm, X, "worst radius")
    assert curve.shape == low.shape == (len(X),)
    assert np.all(low <= high + 1e-12)
    assert shapes.contributions(ebm, X, "no such term") is None
    fig = shapes.figure(
        "worst radius", X["worst radius"].to_numpy(), [curve], ["0"], [(low, high)], 1.0
    )
    assert fig.axes[0].get_xlabel() == "worst radius"
