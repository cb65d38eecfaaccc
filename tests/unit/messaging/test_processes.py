"""The RabbitMQ workers `folio up` supervises: `messaging.replicas` of them, none in lite mode."""

from __future__ import annotations

import pytest

from folio.core.settings import Settings
from folio.messaging.settings import MessagingSettings
from folio.ops.apps import folio_processes

pytestmark = pytest.mark.unit


def _workers(settings: Settings, *, lite: bool = False) -> dict[str, list[str]]:
    specs = folio_processes(settings, {"FOLIO_X": "1"}, lite=lite)
    return {spec.name: list(spec.argv[1:]) for spec in specs if spec.name.startswith("worker-")}


def test_each_replica_is_a_worker_process_stopped_after_its_grace_period(settings: Settings) -> None:
    """Two replicas by default, each `python -m folio.entrypoints.worker`, stopped after its grace period."""
    assert _workers(settings) == {
        "worker-1": ["-m", "folio.entrypoints.worker"],
        "worker-2": ["-m", "folio.entrypoints.worker"],
    }
    spec = next(spec for spec in folio_processes(settings, {"FOLIO_X": "1"}) if spec.name == "worker-2")
    assert spec.env["FOLIO_SERVICE_NAME"] == "worker-2"
    assert spec.env["FOLIO_X"] == "1"
    assert spec.stop_timeout_s > settings.messaging.shutdown_grace_s
    # Ready once its metrics answer, on the port after worker-1's.
    assert spec.ports == {"messaging.metrics_port + 1 (worker-2)": settings.messaging.metrics_port + 1}


def test_replicas_come_from_the_settings_and_lite_mode_runs_none(settings: Settings) -> None:
    """messaging.replicas = 1 runs one worker, 0 none; lite mode has no broker, so no worker."""
    one = settings.model_copy(update={"messaging": MessagingSettings(replicas=1)})
    none = settings.model_copy(update={"messaging": MessagingSettings(replicas=0)})
    assert list(_workers(one)) == ["worker-1"]
    assert _workers(none) == {}
    assert _workers(settings, lite=True) == {}
