"""Checks for linear_neuron.py."""
import numpy as np

from autograder.checking import as_float, expect_close


def test_gradient_1d_matches_closed_form(student, rng):
    """gradient_1d equals the batch-average closed form"""
    x = rng.normal(size=20)
    y = 3 * x + 1 + rng.normal(size=20)
    ga, gb = student.gradient_1d(x, y, 0.5, -0.2)
    u = 0.5 * x - 0.2
    expect_close(as_float(ga, "grad_a"), np.mean((u - y) * x), what="grad_a", hint="average (u - y) x over the batch")
    expect_close(as_float(gb, "grad_b"), np.mean(u - y), what="grad_b", hint="average (u - y) over the batch")
