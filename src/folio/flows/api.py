"""The flows context's public surface: running Folio's daily data flow (L4-13) from Folio.

Key contracts (docs/flows.md):

- The flow itself (``folio_flows``, Prefect 3 + GX Core) lives in its own uv project and
  environment (``flows.project``, default ``flows/``; ``flows/.venv``), because Prefect
  cannot share Folio's dependencies. It never imports Folio: its tasks run
  ``$FOLIO_PYTHON -m folio ...``.
- ``run_flows_command(settings, ["run", "--date", ...])`` runs ``python -m folio_flows``
  there with ``flows_environment(settings)``: full mode talks to the Prefect server
  (``flows.url``; ``folio services up prefect``), lite mode to Prefect's ephemeral one.
  It blocks until the run ends; Prefect's logs go to stderr.
- Problems: ``FlowsEnvironmentMissingError`` (503), ``PrefectUnavailableError`` (503),
  ``FlowRunFailedError`` (500, a failed or crashed run; a failed data-quality check has
  the report artifact ``folio-daily-dq-<date>``).
"""

from __future__ import annotations

from folio.flows.errors import FlowRunFailedError, FlowsEnvironmentMissingError, PrefectUnavailableError
from folio.flows.runner import flows_environment, run_flows_command

__all__ = [
    "FlowRunFailedError",
    "FlowsEnvironmentMissingError",
    "PrefectUnavailableError",
    "flows_environment",
    "run_flows_command",
]
