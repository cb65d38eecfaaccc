"""The SLO rules: the committed file is what the objectives render, promtool accepts and unit-tests it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from folio.ops.services.prometheus import PROMTOOL
from folio.slo.objectives import OBJECTIVES, Objective
from folio.slo.rules import BURN_RATE_ALERTS, main, render_rules

pytestmark = pytest.mark.unit

REPO_ROOT = Path(__file__).resolve().parents[3]
RULES = REPO_ROOT / "deploy" / "prometheus" / "rules" / "slo.rules.yml"
RULE_TESTS = Path(__file__).with_name("slo.test.yml")


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    """Run Debian's promtool (the harness's ``prometheus`` package) with ``args``."""
    if not PROMTOOL.is_present():
        pytest.fail(f"{PROMTOOL.command} is missing: `folio services install` installs {PROMTOOL.package}")
    return subprocess.run([PROMTOOL.command, *args], capture_output=True, text=True, check=False, timeout=60)


def test_committed_rules_are_what_the_objectives_render() -> None:
    """deploy/prometheus/rules/slo.rules.yml is current: `python -m folio.slo.rules` would write the same."""
    assert main([str(RULES), "--check"]) == 0, "run: uv run python -m folio.slo.rules " + str(RULES)


def test_check_reports_a_stale_rules_file(tmp_path: Path) -> None:
    """--check fails on a file that differs, and writing makes it pass."""
    stale = tmp_path / "slo.rules.yml"
    stale.write_text("groups: []\n")
    assert main([str(stale), "--check"]) == 1
    assert main([str(stale)]) == 0
    assert stale.read_text() == render_rules()


def test_promtool_accepts_the_rules() -> None:
    """`promtool check rules` passes: every objective's ratios, budgets and the four burn-rate alerts."""
    result = promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    windows = 7 + 1  # the alerts' windows plus the 30-day one
    expected = len(OBJECTIVES) * (1 + windows) + 1 + len(BURN_RATE_ALERTS)
    assert f"SUCCESS: {expected} rules found" in result.stdout


def test_promtool_rule_unit_tests_pass() -> None:
    """`promtool test rules` passes: a deliberately slowed checkout fires the latency alerts."""
    result = promtool("test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_an_objective_needs_exactly_one_kind_of_events() -> None:
    """An objective with both (or neither) bad and good events, or a target outside (0, 1), is refused."""
    with pytest.raises(ValueError, match="exactly one"):
        Objective(name="x", title="X", sli="x", target=0.9, events="a", bad_events="b", good_events="c")
    with pytest.raises(ValueError, match="exactly one"):
        Objective(name="x", title="X", sli="x", target=0.9, events="a")
    with pytest.raises(ValueError, match="strictly between"):
        Objective(name="x", title="X", sli="x", target=1.0, events="a", bad_events="b")
