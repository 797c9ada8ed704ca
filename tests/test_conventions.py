"""The conventions audit (issue 13): every check declares in grading.yml the handout conventions it enforces, each
convention is stated in its handout section, hidden checks enforce nothing that no visible check of their exercise
enforces, no convention is dead, and docs/conventions.md is what the generator writes."""
from __future__ import annotations

import copy
import importlib

import pytest
import yaml

from autograder import config as cfg
from autograder import conventions as audit
from autograder.mistakes import Convention
from tests.conftest import KIT_ROOT

CONFIG = cfg.load()
RAW_TEXT = (KIT_ROOT / "grading.yml").read_text()
ASSIGNMENTS = list(CONFIG.assignments)


def _handout(name: str) -> str:
    return (KIT_ROOT / "assignments" / name / "README.md").read_text()


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_check_declares_what_it_enforces_and_hidden_ones_enforce_something(name):
    lines = RAW_TEXT.splitlines()
    for check in CONFIG.assignments[name].checks():
        assert check.enforces is not None, f"{check.id}: no `enforces` in grading.yml"
        if check.hidden:
            assert check.enforces, f"{check.id}: a hidden check must name the conventions it enforces"
        elif not check.enforces:  # a pure property check: allowed only with a comment on its line saying why
            line = next(line for line in lines if f" {check.id}:" in line)
            assert "#" in line, f"{check.id}: an empty `enforces` needs a comment in grading.yml saying why"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_convention_is_stated_in_its_handout_section(name):
    handout = _handout(name)
    for convention in audit.conventions(name).values():
        text = audit.section_text(handout, convention.section)
        assert text is not None, f"{name}: {convention.name}'s section {convention.section!r} is not in the handout"
        assert convention.stated.strip(), f"{name}: {convention.name} has no `stated` phrase"
        assert audit.normalised(convention.stated) in audit.normalised(text), \
            f"{name}: {convention.name}: {convention.stated!r} is not in the handout's {convention.section!r}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_hidden_checks_enforce_only_what_a_visible_check_of_their_exercise_enforces(name):
    for exercise in CONFIG.assignments[name].exercises.values():
        visible = {c for check in exercise.checks.values() if not check.hidden for c in check.enforces or ()}
        for check in exercise.checks.values():
            if check.hidden:
                alone = set(check.enforces or ()) - visible
                assert not alone, f"{name} {exercise.id}: {check.id} alone enforces {sorted(alone)}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_convention_is_enforced_by_some_check(name):
    used = {c for check in CONFIG.assignments[name].checks() for c in check.enforces or ()}
    dead = set(audit.conventions(name)) - used
    assert not dead, f"{name}: conventions no check enforces: {sorted(dead)}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_config_reads_exactly_the_conventions_the_module_defines(name):
    source = (KIT_ROOT / "assignments" / name / "mistakes.py").read_text()
    assert set(cfg.convention_names(source)) == set(audit.conventions(name))


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_conventions_checks_py_cites_are_declared_by_some_check(name):
    """A Convention that checks.py passes as a failure's rule is one that some check declares in grading.yml."""
    source = (KIT_ROOT / "assignments" / name / "checks.py").read_text()
    module = importlib.import_module(f"assignments.{name}.mistakes")
    cited = {value.name for attr, value in vars(module).items()
             if isinstance(value, Convention) and f"mistakes.{attr}" in source}
    declared = {c for check in CONFIG.assignments[name].checks() for c in check.enforces or ()}
    assert cited, f"{name}: checks.py cites no Convention"
    assert cited <= declared, f"{name}: checks.py cites conventions no check declares: {sorted(cited - declared)}"


def test_docs_conventions_md_is_the_generated_audit():
    assert audit.DOC.read_text() == audit.render(), \
        "docs/conventions.md drifted from grading.yml and mistakes.py: run `python -m autograder.conventions`"


# -- the config loader validates the marker ----------------------------------------------------------------------

def _first_check_line(text: str) -> tuple[int, str]:
    lines = text.splitlines()
    n = next(i for i, line in enumerate(lines) if "enforces: [" in line)
    return n, lines[n]


def test_an_unknown_convention_fails_at_load_with_file_and_line(tmp_path):
    n, line = _first_check_line(RAW_TEXT)
    first = line.split("enforces: [", 1)[1].split("]")[0].split(",")[0].strip()
    lines = RAW_TEXT.splitlines()
    lines[n] = line.replace(f"enforces: [{first}", f"enforces: [{first}x", 1)
    path = tmp_path / "grading.yml"
    path.write_text("\n".join(lines))
    with pytest.raises(cfg.ConfigError) as err:
        cfg.load(path)
    assert f"{path}:{n + 1}:" in str(err.value) and f"{first}x" in str(err.value)
    assert f"did you mean {first!r}" in str(err.value)


@pytest.mark.parametrize("value, says", [("update", "list of convention names"), ([1], "list of convention names"),
                                         (["update", "update"], "listed twice")])
def test_a_malformed_enforces_is_rejected(value, says):
    raw = yaml.safe_load(RAW_TEXT)
    raw = copy.deepcopy(raw)
    checks = raw["assignments"]["linear_neuron"]["exercises"]["ex2"]["checks"]
    checks[next(iter(checks))]["enforces"] = value
    with pytest.raises(cfg.ConfigError, match=says):
        cfg.parse(raw)


def test_enforces_is_read_into_the_check_config():
    check = CONFIG.assignments["linear_neuron"].check("test_fit_1d_one_step_follows_the_update_rule")
    assert "update" in check.enforces and all(isinstance(n, str) for n in check.enforces)


def test_section_text_finds_a_labelled_item_and_refuses_a_missing_one():
    handout = "# T\n\n## Conventions\n\n- **Alpha:** one rule.\n- **Beta:** another.\n\n### Exercise 1: x\nbody\n"
    assert "one rule" in audit.section_text(handout, "Conventions, 'Alpha'")
    assert "another" not in audit.section_text(handout, "Conventions, 'Alpha'")
    assert audit.section_text(handout, "Exercise 1").strip() == "body"
    assert audit.section_text(handout, "Conventions, 'Gamma'") is None
    assert audit.section_text(handout, "Exercise 2") is None
