"""linear_neuron: the probes (trusted code that runs next to the student's) only read data back for the checks,
which judge it themselves. The guarantees every assignment shares are in test_assignments.py."""
from __future__ import annotations

import numpy as np

from autograder.probes import linear_neuron as probes


def test_sample_probe_reads_entries_of_a_kept_result_without_judging():
    """sample_of reads the requested entries of an array (or of anything NumPy turns into one) and says what it
    got; it never compares them with anything."""
    out = np.arange(10.0) * 2
    facts = probes.sample_of(None, out, np.array([0, 3, 9]))
    assert facts["type"] == "ndarray" and facts["shape"] == [10]
    assert np.array_equal(facts["values"], [0.0, 6.0, 18.0])
    facts = probes.sample_of(None, [1.0, 2.0, 3.0], np.array([2]))  # a list from a Python loop still reads
    assert facts["type"] == "list" and np.array_equal(facts["values"], [3.0])
    assert probes.sample_of(None, np.zeros((2, 5)), np.array([1]))["values"] is None  # wrong shape: no values
    assert probes.sample_of(None, object(), np.array([0]))["shape"] is None
    assert probes.sample_of(None, np.zeros(3), np.array([7]))["values"] is None   # too short
