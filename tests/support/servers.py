"""Where the suite's servers are, as the ``FOLIO_*`` variables a ``folio`` run needs to reach them.

A ``folio`` run in another folder, or in-process after ``clean_env`` removed every
``FOLIO_*`` variable, starts from the defaults: the default ports, which belong to
whichever checkout runs its servers there. A checkout that moved its servers
(``scripts/newcomer-check.sh --port-base``) must name them, or its tests meet another
checkout's databases.
"""

from __future__ import annotations

from folio.core.settings import Settings

__all__ = ["postgres_env"]


def postgres_env(settings: Settings) -> dict[str, str]:
    """The variables that point a ``folio`` run at the PostgreSQL of ``settings``, from any folder.

    Its data folder (absolute: it holds the generated role passwords), its host, and the
    ports of its primary and of its replica (reads may go to the replica).
    """
    pg = settings.services.postgres
    return {
        "FOLIO_SERVICES_DATA_DIR": str(settings.services.data_dir.absolute()),
        "FOLIO_SERVICES_POSTGRES_HOST": pg.host,
        "FOLIO_SERVICES_POSTGRES_PORT": str(pg.port),
        "FOLIO_SERVICES_POSTGRES_REPLICA_PORT": str(pg.replica_port),
    }
