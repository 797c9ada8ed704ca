"""linear_neuron: the probes (trusted code that runs next to the student's) record what the checks rely on and leave
the student's module as they found it. The guarantees every assignment shares are in test_assignments.py."""
from __future__ import annotations

from tests.conftest import KIT_ROOT

ASSIGNMENT = "linear_neuron"


def test_scaler_watch_probe_records_fits_and_restores_the_classes():
    """The probe that watches train_house_model sees every scaler fit and leaves sklearn as it found it."""
    import importlib.util

    import numpy as np
    from sklearn import preprocessing

    from autograder.probes import linear_neuron as probes

    spec = importlib.util.spec_from_file_location("reference_linear_neuron", KIT_ROOT / "reference" / f"{ASSIGNMENT}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    classes = (preprocessing.StandardScaler, preprocessing.MinMaxScaler, preprocessing.RobustScaler,
               preprocessing.MaxAbsScaler)
    before = {(cls, name): cls.__dict__.get(name) for cls in classes for name in ("fit", "partial_fit", "fit_transform")}
    rng = np.random.default_rng(0)
    X_train, X_test = rng.normal(size=(40, 3)), rng.normal(size=(10, 3)) + 100
    y_train, y_test = rng.normal(size=40), rng.normal(size=10)
    watched = probes.watch_scaler_fits(module, X_train, y_train, X_test, y_test, epochs=3)
    assert all(cls.__dict__.get(name) is f for (cls, name), f in before.items())
    assert watched["fits"] and all(np.array_equal(f["rows"], X_train) for f in watched["fits"])
    assert isinstance(watched["result"][0], module.LinearNeuron)

    module.standardize = lambda a, b: (lambda s: (s.transform(a), s.transform(b), s))(
        preprocessing.StandardScaler().fit(np.vstack([a, b])))
    watched = probes.watch_scaler_fits(module, X_train, y_train, X_test, y_test, epochs=3)
    assert any(len(f["rows"]) == 50 for f in watched["fits"])
    assert all(cls.__dict__.get(name) is f for (cls, name), f in before.items())
