"""The harness's Prometheus loads the SLO rules and keeps exemplars: promtool accepts what it renders."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from folio.core.settings import Settings, load_settings
from folio.ops.services.prometheus import AMTOOL, PROMTOOL, RULE_FILES, PrometheusService
from folio.ops.templates import deploy_template

pytestmark = pytest.mark.unit


@pytest.fixture
def service(clean_env: Path) -> PrometheusService:
    """The Prometheus service over settings whose data folder is the test's own."""
    base = load_settings(env_file=clean_env / "absent.env")
    settings: Settings = base.model_copy(
        update={"services": base.services.model_copy(update={"data_dir": clean_env / "services"})}
    )
    return PrometheusService(settings)


def test_config_loads_every_rule_file_from_the_data_folder(service: PrometheusService) -> None:
    """rule_files names the data folder's copy of each file in RULE_FILES."""
    config = yaml.safe_load(service.render())
    assert config["rule_files"] == [str(service.rules_dir / name) for name in RULE_FILES]


def test_prometheus_runs_with_exemplar_storage(service: PrometheusService) -> None:
    """The server keeps exemplars (trace ids on latency buckets): the feature flag is on its command line."""
    [spec] = service.processes()
    assert "--enable-feature=exemplar-storage" in spec.argv


def test_promtool_accepts_the_rendered_config_and_its_rules(service: PrometheusService) -> None:
    """`promtool check config` passes on the rendered prometheus.yml with the rules where it points."""
    if not PROMTOOL.is_present():
        pytest.fail(f"{PROMTOOL.command} is missing: install the Debian package {PROMTOOL.package}")
    service.rules_dir.mkdir(parents=True)
    for name in RULE_FILES:
        shutil.copy(deploy_template("prometheus", "rules", name), service.rules_dir / name)
    service.config_file.write_text(service.render())
    result = subprocess.run(
        [PROMTOOL.command, "check", "config", str(service.config_file)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for name in RULE_FILES:  # each rule file found where the config points, and checked
        assert f"Checking {service.rules_dir / name}\n  SUCCESS: " in result.stdout


def amtool(*args: str) -> subprocess.CompletedProcess[str]:
    """Run Debian's amtool, which `folio services up` installs with Prometheus (absent: a failure)."""
    assert AMTOOL.is_present(), (
        f"{AMTOOL.command} is missing: run `folio services up` (Debian {AMTOOL.package})"
    )
    return subprocess.run([AMTOOL.command, *args], capture_output=True, text=True, check=False, timeout=60)


def test_alertmanager_config_is_valid() -> None:
    """`amtool check-config` accepts deploy/prometheus/alertmanager.yml, with its two receivers."""
    result = amtool("check-config", str(deploy_template("prometheus", "alertmanager.yml")))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
    assert "2 receivers" in result.stdout


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["severity=page", "slo=checkout-latency"], "on-call-pager"),
        (["severity=ticket", "slo=search-latency"], "slo-tickets"),
        (["alertname=Unknown"], "slo-tickets"),
    ],
)
def test_alertmanager_routes_pages_and_tickets_apart(labels: list[str], receiver: str) -> None:
    """A page reaches the on-call pager; a ticket, and anything unexpected, the ticket queue."""
    config = deploy_template("prometheus", "alertmanager.yml")
    result = amtool("config", "routes", "test", f"--config.file={config}", *labels)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == receiver
