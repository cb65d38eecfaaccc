"""Running Folio on one machine: the real servers and Folio's own processes.

Key contracts:
- A process is declared once, as a ``ProcessSpec`` (argv, health check, restart
  policy, log file). ``folio services`` launches specs detached with PID files;
  ``folio up`` runs them under the ``Supervisor`` in the foreground.
- A server (PostgreSQL, Redis, ...) is a ``Service``: how to install it, prepare its
  data, the processes it runs and what it needs once ready. Every step is
  idempotent; everything binds 127.0.0.1 and lives under ``services.data_dir``.
- Only processes Folio started are ever stopped, by the PID it recorded, after
  checking that PID still runs the command it started.
"""
