"""The one way every check names a known mistake (autograder.mistakes) and the comparison helpers the three
assignments share (autograder.checking): what a failure says, in which order mistakes are tried, which replays are
skipped."""
from __future__ import annotations

import numpy as np
import pytest

from autograder.checking import CheckFailure, as_tuple, close, closeness, f32
from autograder.mistakes import AnyOf, Convention, Mistake, catalogue, fail_as, fail_with, handout, recognise

RULE = Convention("rule", "the check's rule", "Section A")
OWN = Convention("own", "the mistake's own rule", "Section B")


def _failure(call) -> CheckFailure:
    with pytest.raises(CheckFailure) as failure:
        call()
    return failure.value


def test_a_mistake_says_its_words_and_its_section_and_is_named_by_its_title():
    mistake = Mistake("ignores_lr", "trained with lr={used:g}, not {given:g}", "Exercise 2", title="the wrong lr")
    assert mistake.hint == "trained with lr={used:g}, not {given:g} (handout: Exercise 2)"
    assert mistake.filled(used=0.1, given=0.05).hint == "trained with lr=0.1, not 0.05 (handout: Exercise 2)"
    assert mistake.label == "the wrong lr" and Mistake("plain", "x", "S").label == "plain"
    assert str(RULE) == f"the check's rule {handout('Section A')}" == "the check's rule (handout: Section A)"


def test_fail_as_shows_the_mistake_with_its_own_rule_else_the_checks():
    failure = _failure(lambda: fail_as(Mistake("m", "said {x}", "S", title="T"), "E", "seen", convention=RULE, x=1))
    assert (failure.expected, failure.seen, failure.hint, failure.mistake, failure.convention) == (
        "E", "seen", "said 1 (handout: S)", "T", str(RULE))
    failure = _failure(lambda: fail_as(Mistake("m", "said", "S", convention=OWN), "E", "seen", convention=RULE))
    assert (failure.mistake, failure.convention) == ("m", str(OWN))


def test_fail_with_falls_back_on_the_checks_hint_and_rule():
    failure = _failure(lambda: fail_with("E", "seen", None, otherwise="look again", convention=RULE))
    assert (failure.hint, failure.mistake, failure.convention) == ("look again", "", str(RULE))
    failure = _failure(lambda: fail_with("E", "seen", None, otherwise="look again"))
    assert failure.convention == ""
    failure = _failure(lambda: fail_with("E", "seen", Mistake("m", "said", "S"), otherwise="look again"))
    assert (failure.hint, failure.mistake) == ("said (handout: S)", "m")


def _impossible(value):
    raise ValueError("cannot happen with these inputs")


def test_recognise_names_the_first_mistake_whose_replay_reproduces_what_was_seen():
    found = catalogue(Mistake("never", "", "S", replay=lambda v: None),
                      Mistake("impossible", "", "S", replay=_impossible),
                      Mistake("divides", "", "S", replay=lambda v: v / 0 if isinstance(v, int) else v * 0),
                      Mistake("double", "", "S", replay=lambda v: 2 * v),
                      Mistake("also_double", "", "S", replay=lambda v: v + v))
    same = closeness(1e-12, 0.0)
    assert list(found) == ["never", "impossible", "divides", "double", "also_double"]
    assert recognise(6, found, lambda m: m.replay(3), same).name == "double"
    assert recognise(7, found, lambda m: m.replay(3), same) is None
    # any iterable of suspects, in its order
    assert recognise(6, reversed(list(found.values())), lambda m: m.replay(3), same).name == "also_double"


def test_recognise_tries_every_form_of_an_any_of_and_takes_a_list_as_one_value():
    eps = Mistake("own_eps", "", "S", replay=AnyOf((1.0, 2.0, 3.0)))
    assert recognise(2.0, [eps], lambda m: m.replay, lambda s, c: s == c) is eps
    losses = Mistake("losses", "", "S", replay=[1.0, 2.0])
    same = closeness(1e-12, 0.0)
    assert recognise(np.array([1.0, 2.0]), [losses], lambda m: m.replay, same) is losses
    assert recognise(np.array([2.0]), [losses], lambda m: m.replay, same) is None


def test_close_wants_the_same_shape_unless_told_otherwise():
    assert close([1.0, 2.0], np.array([1.0, 2.0 + 1e-9]), rtol=1e-6, atol=0.0)
    assert not close([[1.0, 2.0]], [1.0, 2.0], rtol=1e-6, atol=0.0)
    assert close([[1.0, 2.0]], [1.0, 2.0], rtol=1e-6, atol=0.0, shape=False)
    assert not close([1.0, 2.0, 3.0], [1.0, 2.0], rtol=1e-6, atol=0.0, shape=False)
    assert not close("not numbers", [1.0], rtol=1e-6, atol=0.0)
    assert closeness(0.0, 0.5)(1.0, 1.4) and not closeness(0.0, 0.5)(1.0, 1.6)


def test_f32_and_as_tuple():
    assert f32(0.1) == np.float32(0.1) and f32([0.1]).dtype == np.float64
    assert as_tuple((1, 2), 2, expected="a pair", hint="h") == (1, 2)
    failure = _failure(lambda: as_tuple((1, 2, 3), 2, expected="a pair (a, b)", hint="return a, b"))
    assert (failure.expected, failure.seen, failure.hint) == ("a pair (a, b)", "tuple of length 3: [1, 2, 3]",
                                                              "return a, b")
