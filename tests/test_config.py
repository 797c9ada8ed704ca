"""grading.yml is validated as it loads: points cannot silently drop out of the total."""
from __future__ import annotations

import copy

import pytest
import yaml

from autograder import config as cfg
from tests.conftest import KIT_ROOT

RAW = yaml.safe_load((KIT_ROOT / "grading.yml").read_text())


def a_check(raw: dict) -> tuple[str, str, str]:
    for name, a in raw["assignments"].items():
        for ex_id, ex in a["exercises"].items():
            for check_id in ex["checks"]:
                return name, ex_id, check_id
    raise AssertionError("grading.yml has no check")


def test_the_kit_config_loads_and_totals_add_up():
    config = cfg.load()
    for a in config.assignments.values():
        assert sum(c.points for c in a.checks()) == pytest.approx(a.total_points)


@pytest.mark.parametrize("mutate, says", [
    (lambda r, a, e, c: r.update(surprise=1), "unknown key"),
    (lambda r, a, e, c: r["assignments"][a].update(pionts=3), "unknown key"),
    (lambda r, a, e, c: r["assignments"][a]["exercises"][e]["checks"][c].update(visibility="secret"), "visibility"),
    (lambda r, a, e, c: r["assignments"][a]["exercises"][e]["checks"][c].update(points=-1), "non-negative"),
    (lambda r, a, e, c: r["assignments"][a].update(total_points=r["assignments"][a]["total_points"] + 1), "add up"),
    (lambda r, a, e, c: r["assignments"].update(quantum={}), "no folder assignments/quantum"),
], ids=["top-key", "assignment-key", "visibility", "negative-points", "total", "assignment-name"])
def test_invalid_config_is_rejected_with_its_path(mutate, says):
    raw = copy.deepcopy(RAW)
    mutate(raw, *a_check(raw))
    with pytest.raises(cfg.ConfigError, match=says):
        cfg.parse(raw)


def test_checks_and_config_must_match_both_ways():
    config = cfg.parse(RAW)
    name, _, check_id = a_check(RAW)
    assignment = config.assignments[name]
    ids = {c.id for c in assignment.checks()}
    cfg.match_checks(assignment, ids)
    with pytest.raises(cfg.ConfigError, match="do not exist"):
        cfg.match_checks(assignment, ids - {check_id})
    with pytest.raises(cfg.ConfigError, match="no entry"):
        cfg.match_checks(assignment, ids | {"test_unlisted_check"})


def test_grading_refuses_a_check_without_points(tmp_path, submission):
    raw = copy.deepcopy(RAW)
    name, ex_id, check_id = a_check(raw)
    points = raw["assignments"][name]["exercises"][ex_id]["checks"].pop(check_id)["points"]
    raw["assignments"][name]["total_points"] -= points
    path = tmp_path / "grading.yml"
    path.write_text(yaml.safe_dump(raw))
    import subprocess, sys
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", "--assignment", name, "--config", str(path),
                           "--results", str(tmp_path / "r.json")], cwd=KIT_ROOT, capture_output=True, text=True)
    assert proc.returncode != 0 and check_id in proc.stderr


# -- typed, validated thresholds (issue 12) -------------------------------------------------------------------

def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


def _a_threshold(raw: dict) -> tuple[str, str]:
    for name, a in raw["assignments"].items():
        for key in a.get("thresholds") or {}:
            return name, key
    raise AssertionError("grading.yml has no threshold")


def test_a_misspelt_threshold_in_grading_yml_fails_at_load_with_file_and_line(tmp_path):
    text = (KIT_ROOT / "grading.yml").read_text()
    name, key = _a_threshold(RAW)
    wrong = key[:-1] + "x"
    path = tmp_path / "grading.yml"
    path.write_text(text.replace(f"      {key}:", f"      {wrong}:", 1))
    line = _line_of(path.read_text(), f"      {wrong}:")
    with pytest.raises(cfg.ConfigError) as err:
        cfg.load(path)
    message = str(err.value)
    assert f"{path}:{line}: assignments.{name}.thresholds.{wrong}" in message
    assert "no code" in message and f"did you mean {key!r}" in message
    assert f"reads threshold {key!r}" in message and f"assignments/{name}/" in message


def test_a_misspelt_threshold_in_the_code_fails_with_the_file_and_line_of_the_read(tmp_path):
    config = cfg.load()
    name, key = _a_threshold(RAW)
    folder = tmp_path / name
    folder.mkdir()
    names = sorted(config.assignments[name].thresholds)
    reads = "".join(f"    thresholds[{n!r}]\n" for n in names if n != key)
    (folder / "checks.py").write_text(f"def test_x(thresholds):\n{reads}    return thresholds.{key}_typo\n")
    with pytest.raises(cfg.ConfigError) as err:
        cfg.match_thresholds(config.assignments[name], folder)
    message = str(err.value)
    assert f"assignments/{name}/checks.py:{len(names) + 1}: reads threshold '{key}_typo'" in message
    assert f"thresholds.{key}: declared, but no code" in message
    # every name read (as an item, an attribute or with .get) and nothing else: accepted
    (folder / "checks.py").write_text(f"def test_x(thresholds):\n{reads}    return thresholds.get({key!r})\n")
    cfg.match_thresholds(config.assignments[name], folder)


def test_the_kit_reads_exactly_the_thresholds_it_declares():
    for name, a in cfg.load().assignments.items():
        read, _ = cfg.assignment_reads(KIT_ROOT / "assignments" / name)
        assert set(read) == set(a.thresholds), name


def test_unknown_key_fails_with_its_line(tmp_path):
    text = (KIT_ROOT / "grading.yml").read_text()
    path = tmp_path / "grading.yml"
    path.write_text(text.replace("  check_timeout: 10 ", "  check_timout: 10 ", 1))
    line = _line_of(path.read_text(), "check_timout")
    with pytest.raises(cfg.ConfigError, match=rf"{path}:{line}: .*check_timout: unknown key"):
        cfg.load(path)


def test_thresholds_are_typed_numbers_with_item_and_attribute_access():
    config = cfg.load()
    for a in config.assignments.values():
        for key, value in a.thresholds.items():
            assert type(value) in (int, float) and getattr(a.thresholds, key) == a.thresholds[key] == value
            assert type(value) is type(RAW["assignments"][a.name]["thresholds"][key])   # int stays int
        with pytest.raises(KeyError, match="not set in grading.yml"):
            a.thresholds["no_such_threshold"]
        with pytest.raises(AttributeError, match="not set in grading.yml"):
            a.thresholds.no_such_threshold
        with pytest.raises(AttributeError):
            a.thresholds.anything = 1


@pytest.mark.parametrize("value", [True, "1e-5", None, [1.0], float("nan")])
def test_a_threshold_that_is_not_a_number_is_rejected(value):
    raw = copy.deepcopy(RAW)
    name, key = _a_threshold(raw)
    raw["assignments"][name]["thresholds"][key] = value
    with pytest.raises(cfg.ConfigError, match=rf"assignments\.{name}\.thresholds\.{key}: a threshold is a finite"):
        cfg.parse(raw)


def test_an_explicit_zero_is_kept_not_replaced_by_the_default():
    raw = copy.deepcopy(RAW)
    name, ex_id, check_id = a_check(raw)
    raw["defaults"]["check_timeout"] = 7
    raw["assignments"][name]["check_timeout"] = 0
    raw["assignments"][name]["import_timeout"] = 0
    other = next(c for c in raw["assignments"][name]["exercises"][ex_id]["checks"] if c != check_id)
    raw["assignments"][name]["exercises"][ex_id]["checks"][check_id]["timeout"] = 0
    raw["assignments"][name]["exercises"][ex_id]["checks"][other].pop("timeout", None)
    a = cfg.parse(raw).assignments[name]
    assert a.check(check_id).timeout == 0 and a.check(other).timeout == 0 and a.import_timeout == 0
    raw["assignments"][name].pop("check_timeout")
    assert cfg.parse(raw).assignments[name].check(other).timeout == 7


def test_the_time_budget_is_the_limits_plus_one_startup_margin():
    config = cfg.load()
    names = list(config.assignments)
    a = config.assignments[names[0]]
    assert a.time_budget == a.time_limit + a.import_timeout + cfg.STARTUP_MARGIN_S
    assert config.time_budget(names) == pytest.approx(
        sum(config.assignments[n].time_limit + config.assignments[n].import_timeout for n in names)
        + cfg.STARTUP_MARGIN_S)
    assert config.time_budget() == config.time_budget(names)
