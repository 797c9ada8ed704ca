"""Only plain data crosses from student code to the grader, and decoding never runs code."""
from __future__ import annotations

import math

import numpy as np
import pytest

from autograder import wire


@pytest.mark.parametrize("value", [
    None, True, 3, -2**60, 1.5, float("inf"), "text", [1, 2.5, "a"], (1, (2, 3)), {"k": [1, None]},
    np.arange(6, dtype=np.float32).reshape(2, 3), np.array([True, False]), np.zeros((0, 4)),
])
def test_plain_data_round_trips(value):
    back = wire.decode(wire.loads(wire.dumps(wire.encode(value))))
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and back.shape == value.shape and np.array_equal(back, value)
    else:
        assert back == value and type(back) is type(value)


def test_nan_and_numpy_scalars_become_python_floats():
    back = wire.decode(wire.loads(wire.dumps(wire.encode([np.float32(0.5), np.float64("nan"), np.int64(3)]))))
    assert back[0] == 0.5 and math.isnan(back[1]) and back[2] == 3 and type(back[2]) is int


def test_objects_are_refused_or_kept_remote():
    class Sneaky:
        def __eq__(self, other):
            return True
    with pytest.raises(wire.WireError):
        wire.encode(Sneaky())
    handle = wire.Handle(1, "Sneaky")
    assert wire.decode(wire.encode(Sneaky(), handle_of=lambda obj: handle)) == handle


def test_object_and_subclass_arrays():
    with pytest.raises(wire.WireError):
        wire.encode(np.array([object()], dtype=object))

    class Weird(np.ndarray):
        def __eq__(self, other):
            return True
    sent = wire.decode(wire.encode(np.arange(3.0).view(Weird)))
    assert type(sent) is np.ndarray


@pytest.mark.parametrize("message", [
    {"__ndarray__": "AAAA", "dtype": "|O", "shape": [1]},
    {"__ndarray__": "AAAA", "dtype": "<f8", "shape": [5]},
    {"__unknown__": 1},
    {"__tuple__": "not a list"},
])
def test_forged_messages_are_rejected(message):
    with pytest.raises((wire.WireError, TypeError, ValueError)):
        wire.decode(message)


def test_a_zero_dimensional_array_keeps_its_shape():
    """np.array(3.5) arrives as a 0-d array, not as a 1-element vector (a check on shapes must see what was sent)."""
    import json

    import numpy as np

    from autograder import wire
    for value in (np.array(3.5), np.array(2, dtype=np.int64), np.array(True)):
        back = wire.decode(json.loads(json.dumps(wire.encode(value))))
        assert back.shape == () and back.dtype == value.dtype and back == value
