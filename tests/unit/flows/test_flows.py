"""Folio's side of the daily flow: settings, the flows process's environment, the harness's Prefect server."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import folio.flows.api
from folio.core.settings import Settings
from folio.entrypoints.cli import build_cli
from folio.flows.api import FlowsEnvironmentMissingError, flows_environment, run_flows_command
from folio.flows.settings import FlowsSettings
from folio.ops.apps import folio_processes
from folio.ops.services import SERVICE_TYPES
from folio.ops.services.prefect import PrefectService

pytestmark = pytest.mark.unit


def with_flows(settings: Settings, **flows: object) -> Settings:
    """``settings`` with ``flows.*`` values changed."""
    return settings.model_copy(update={"flows": settings.flows.model_copy(update=flows)})


def test_the_defaults_point_at_the_checkout_and_the_local_server(settings: Settings) -> None:
    """The flows project is this checkout's flows/ with its .venv; the server is 127.0.0.1:21485 by default.

    The suite's settings may move the port (a newcomer check's clone runs its own block).
    """
    flows = settings.flows
    assert FlowsSettings.model_fields["port"].default == 21485
    assert flows.url == f"http://127.0.0.1:{flows.port}/api"
    assert flows.project_dir == Path(__file__).resolve().parents[3] / "flows"
    assert flows.python == flows.project_dir / ".venv" / "bin" / "python"
    assert flows.schedule_cron == "30 2 * * *"
    assert (flows.project_dir / "uv.lock").is_file()


def test_lite_mode_runs_on_the_ephemeral_server_unless_a_server_is_named(
    settings: Settings, tmp_path: Path
) -> None:
    """Lite: no API URL and a home under <home>/flows; an explicit api_url (or full mode) uses the server."""
    lite = settings.model_copy(update={"home": tmp_path})
    named = with_flows(lite, api_url="http://prefect.example:4200/api")

    ephemeral = flows_environment(lite)
    served = flows_environment(named)
    full = flows_environment(lite, lite=False)

    assert (ephemeral["PREFECT_API_URL"], ephemeral["PREFECT_HOME"]) == (
        "",
        str(tmp_path / "flows" / "prefect"),
    )
    assert served["PREFECT_API_URL"] == "http://prefect.example:4200/api"
    assert full["PREFECT_HOME"] == str((settings.services.data_dir / "prefect" / "home").absolute())
    assert {env["FOLIO_PYTHON"] for env in (ephemeral, served, full)} == {sys.executable}


def test_folio_up_serves_the_flow_in_full_mode_only(settings: Settings) -> None:
    """Full mode supervises `flows` (python -m folio_flows serve, on the server); lite mode does not."""
    specs = {spec.name: spec for spec in folio_processes(settings, {"FOLIO_X": "1"})}
    flows = specs["flows"]

    assert list(flows.argv) == [str(settings.flows.python), "-m", "folio_flows", "serve"]
    assert flows.env["PREFECT_API_URL"] == settings.flows.url
    assert (flows.env["FOLIO_PYTHON"], flows.env["FOLIO_X"]) == (sys.executable, "1")
    assert flows.env["FOLIO_FLOWS_SCHEDULE_CRON"] == "30 2 * * *"
    assert "flows" not in {spec.name for spec in folio_processes(settings, {}, lite=True)}


def test_the_harness_runs_prefect_from_the_flows_environment(settings: Settings) -> None:
    """`prefect server start` on flows.host:port, home in the data folder; nothing for an external server."""
    service = PrefectService(settings)
    [spec] = service.processes()

    assert PrefectService in SERVICE_TYPES
    prefect = str(settings.flows.python.with_name("prefect"))
    port = settings.flows.port
    assert list(spec.argv) == [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    assert spec.ports == {"flows.port": port}
    assert spec.env["PREFECT_HOME"] == str(service.data_dir / "home")
    assert service.endpoints()["ui"] == f"http://127.0.0.1:{port}"
    assert PrefectService(with_flows(settings, api_url="http://elsewhere:4200/api")).processes() == []


def test_a_missing_flows_environment_is_a_problem_naming_the_fix(settings: Settings, tmp_path: Path) -> None:
    """No flows/.venv: nothing runs, the problem (and the CLI's one line) says how to make it."""
    missing = with_flows(settings, project=tmp_path / "flows")

    with pytest.raises(FlowsEnvironmentMissingError, match="folio services up prefect"):
        run_flows_command(missing, ["run"])


def test_the_cli_reports_a_missing_environment_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`folio flows run` with no flows environment exits 1 with an error line, no traceback."""
    monkeypatch.setenv("FOLIO_HOME", str(tmp_path))
    monkeypatch.setenv("FOLIO_FLOWS_PROJECT", str(tmp_path / "nowhere"))

    result = CliRunner().invoke(build_cli(), ["flows", "run", "--date", "2026-12-01"])

    assert result.exit_code == 1
    assert "folio services up prefect" in result.output
    assert "Traceback" not in result.output


def test_public_surface() -> None:
    """folio.flows.api exports exactly what other packages may use."""
    assert sorted(folio.flows.api.__all__) == [
        "FlowRunFailedError",
        "FlowsEnvironmentMissingError",
        "PrefectUnavailableError",
        "flows_environment",
        "run_flows_command",
    ]
