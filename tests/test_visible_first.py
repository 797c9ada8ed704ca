"""Visible first (issue 13): a mistake that loses hidden points must also fail a visible check of the same
exercise, so that a student learns of it from `make grade` before submitting.

The property is checked on every bug-zoo mutant by
:func:`tests.test_bugzoo.test_mutant_loses_points_in_its_exercise_and_visibly_first` (which already judges each
mutant by its exercise's checks, hidden ones included: the zoo is judged once), through
:func:`assert_visible_first` below; this file tests the property itself on made-up verdicts."""
from __future__ import annotations

from types import SimpleNamespace

import pytest


def visible_first_violation(name: str, results: list) -> str | None:
    """None when ``results`` (one exercise's check results, hidden included) respect visible first: either no
    hidden check fails, or some visible check fails too. Otherwise the message that names the mutant and the
    hidden checks that alone catch it."""
    hidden_failed = [r.check_id for r in results if r.hidden and not r.passed]
    visible_failed = [r.check_id for r in results if not r.hidden and not r.passed]
    if not hidden_failed or visible_failed:
        return None
    visible = sum(not r.hidden for r in results)
    return (f"visible first: {name} loses hidden points in {', '.join(hidden_failed)} while all {visible} visible "
            "checks of its exercise pass: add a visible sibling (the same property on the public data or fixed "
            "inputs), or make the check visible")


def assert_visible_first(name: str, results: list) -> None:
    message = visible_first_violation(name, results)
    assert message is None, message


def _result(check_id: str, hidden: bool, passed: bool):
    return SimpleNamespace(check_id=check_id, hidden=hidden, passed=passed)


@pytest.mark.parametrize("results, ok", [
    ([_result("v", False, True), _result("h", True, True)], True),
    ([_result("v", False, False), _result("h", True, True)], True),
    ([_result("v", False, False), _result("h", True, False)], True),
    ([_result("v", False, True), _result("h", True, False)], False),
    ([_result("h", True, False)], False),
])
def test_visible_first_flags_a_mistake_only_hidden_checks_catch(results, ok):
    message = visible_first_violation("some_mutant", results)
    assert (message is None) == ok
    if not ok:
        assert "some_mutant" in message and "loses hidden points in h " in message
