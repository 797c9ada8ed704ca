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
