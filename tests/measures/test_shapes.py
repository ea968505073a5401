"""Shape agreement on constructed shapes with known answers: the same, mirrored, unrelated; and
what every class shares drops out."""

import math

import numpy as np
import pytest

from ebm_study.measures import shapes


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


def test_several_classes_agree_whatever_is_added_to_every_class():
    """Adding one function to every class's scores changes no probability: the same shape."""
    rng = np.random.default_rng(0)
    shape = rng.normal(size=(200, 3))
    common = rng.normal(size=(200, 1)) * 5
    centred = [s - s.mean(axis=1, keepdims=True) for s in (shape, shape + common)]
    assert shapes.agreement(np.array(centred)) == pytest.approx(1.0)
    assert shapes.agreement(np.array([centred[0], -centred[0]])) == pytest.approx(-1.0)
