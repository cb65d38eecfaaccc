"""The flows' problems (docs/errors.md): no flows environment, no Prefect server, a failed run."""

from __future__ import annotations

from folio.core.errors import FolioError, ServiceUnavailableError

__all__ = ["FlowRunFailedError", "FlowsEnvironmentMissingError", "PrefectUnavailableError"]


class FlowsEnvironmentMissingError(
    FolioError, code="flows-environment-missing", title="The flows environment is not installed", status=503
):
    """No ``flows/.venv``: ``folio services up prefect`` (or ``uv sync --project flows``) makes it."""


class PrefectUnavailableError(ServiceUnavailableError, code="prefect-unavailable", title="Prefect is down"):
    """Full mode, and the Prefect server does not answer its health check."""


class FlowRunFailedError(FolioError, code="flow-run-failed", title="The flow run failed", status=500):
    """The run ended Failed or Crashed: its message says why; a failed check has a report artifact."""
