"""backprop: the probes (trusted code that runs next to the student's) record what the checks rely on and leave
the student's module as they found it. The guarantees every assignment shares are in test_assignments.py."""
from __future__ import annotations

import importlib.util

import numpy as np

from tests.conftest import KIT_ROOT

ASSIGNMENT = "backprop"


def _reference_module():
    spec = importlib.util.spec_from_file_location("reference_backprop", KIT_ROOT / "reference" / f"{ASSIGNMENT}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sigmoid_probe_reports_overflow_and_leaves_the_error_state_alone():
    from assignments.backprop import probes

    module = _reference_module()
    before = np.geterr()
    clean = probes.sigmoid_strictly(module, np.array([-1000.0, 0.0, 1000.0]))
    assert clean["problem"] is None and clean["warnings"] == []
    assert clean["value"].tolist() == [0.0, 0.5, 1.0]
    module.sigmoid = lambda z: 1.0 / (1.0 + np.exp(-np.asarray(z)))
    naive = probes.sigmoid_strictly(module, np.array([-1000.0, 0.0, 1000.0]))
    assert naive["value"] is None and "overflow" in naive["problem"]
    assert np.geterr() == before


def test_minibatch_probe_records_the_rows_and_restores_the_methods():
    from assignments.backprop import probes

    module = _reference_module()
    net = module.NeuralNetworkMiniBatch([2, 3, 1])
    X = np.random.default_rng(0).normal(size=(7, 2))
    y = (X[:, :1] > 0).astype(float)
    record = probes.record_minibatch_training(module, net, X, y, epochs=2, lr=0.5, batch_size=3)
    backward = [rows for kind, rows in record["events"] if kind == "backward"]
    assert [len(rows) for rows in backward] == [3, 3, 1, 3, 3, 1]
    assert sorted(sum(backward[:3], [])) == list(range(7)) and sorted(sum(backward[3:], [])) == list(range(7))
    assert record["history"].shape == (2,)
    assert "forward" not in net.__dict__ and "backward" not in net.__dict__
    assert probes.set_params(module, net, {"W1": np.ones((2, 3))}) is None and net.params["W1"].sum() == 6
