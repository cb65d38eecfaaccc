"""PostgreSQL 15 from Debian: a primary and a streaming read replica, run as ``postgres``.

Layout under ``data_dir`` (``<services.data_dir>/postgres/``)::

    primary/   replica/     data directories (owner postgres, mode 0700)
    run/primary/ run/replica/  unix socket folders, so nothing clashes with
                            /var/run/postgresql or Debian's own cluster on 5432
    auth/replication.pgpass  generated password of the replication role (0600)
    auth/roles.toml          generated passwords of the owner and app roles (0600)
    logs/  run/*.pid         Folio's logs and PID files

Roles, created idempotently once the primary is ready:

- ``folio_replicator``: LOGIN REPLICATION, a random password kept in ``auth/``;
  the replica streams as it (``primary_conninfo`` with ``passfile``).
- the owner role (``services.postgres.owner_user``, ``folio_owner``): owns the
  database and what migrations create (``folio db upgrade`` connects as it), LOGIN
  with ``services.postgres.owner_password`` or, unset, a password generated at first
  start into ``auth/roles.toml`` (0600; the app role's likewise); tables it owns are subject to
  row-level security for every other role.
- the application role (``services.postgres.app_user``): LOGIN, NOSUPERUSER,
  NOBYPASSRLS, NOCREATEDB, NOCREATEROLE, with CONNECT and TEMPORARY on the database.
  It may use schema ``public`` but not CREATE in it (only migrations change the
  schema); default privileges give it SELECT/INSERT/UPDATE/DELETE on tables the
  owner creates. Migrations connect as the owner, so the application role owns no
  migrated table (an owner could take its table out of row-level security); every
  start hands ``alembic_version`` to the owner, for databases first migrated as the
  application role.

Admin SQL runs through ``psql`` over the primary's unix socket as the ``postgres``
OS user (peer authentication); nothing but the application and replication roles
authenticates over TCP, and only from ``services.postgres.host`` (127.0.0.1).
The replica is cloned with ``pg_basebackup`` on its first start, and cloned again
when the primary was re-initialised (its system identifier changed).
"""

from __future__ import annotations

import ipaddress
import secrets
import shutil
import signal
from collections.abc import Callable
from pathlib import Path

from folio.core.settings.services import PostgresSettings
from folio.ops.health import command_probe
from folio.ops.process import ProcessError, ProcessSpec
from folio.ops.secrets import ensure_generated
from folio.ops.service import AptPackage, Requirement, Service
from folio.ops.services.accounts import SystemAccount

REPLICATION_ROLE = "folio_replicator"
_OS_USER = "postgres"
_INCLUDE_LINE = "include 'folio.conf'  # added by Folio: its settings live there"
_SOCKET_PATH_MAX = 107  # sun_path limit on Linux, minus the terminating NUL


def quote_ident(name: str) -> str:
    """``name`` as a SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """``value`` as a SQL string literal (standard_conforming_strings is on)."""
    return "'" + value.replace("'", "''") + "'"


def _conf_string(value: str) -> str:
    """``value`` as a quoted postgresql.conf string; refuses characters it would escape."""
    if "'" in value or "\\" in value or "\n" in value:
        raise ProcessError(f"cannot put {value!r} in postgresql.conf: quotes and backslashes are unsupported")
    return f"'{value}'"


def _create_unless_exists(statement: str, exists_query: str) -> str:
    r"""A psql line running the SQL that ``statement`` builds unless ``exists_query`` finds a row.

    CREATE DATABASE cannot run inside a DO block, so psql's ``\gexec`` does the branching.
    Both arguments must be built from ``quote_literal``/``quote_ident`` output only.
    """
    return f"SELECT {statement} WHERE NOT EXISTS ({exists_query}) \\gexec"


def _hba_address(host: str) -> str:
    """The pg_hba address matching connections to ``host``."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "samehost"
    return f"{address}/{address.max_prefixlen}"


def ensure_generated_passwords(cfg: PostgresSettings) -> None:
    """Generate a password for each role the settings leave unset, once per installation.

    They are kept in ``cfg.roles_file`` (TOML, mode 0600, beside the data), where every
    process that reads the settings finds them; a password already there is kept.
    """
    if cfg.roles_file is None:
        raise ProcessError("services.postgres has no roles file: build it through ServicesSettings")
    unset = [
        role for role, value in (("app", cfg.app_password), ("owner", cfg.owner_password)) if value is None
    ]
    ensure_generated(cfg.roles_file, unset, what="PostgreSQL role passwords")


class PostgresService(Service):
    """``postgres`` from Debian's postgresql-15: ``primary`` and, when enabled, ``replica``."""

    name = "postgres"
    summary = "PostgreSQL 15 (primary + streaming read replica)"

    @property
    def bin_dir(self) -> Path:
        """Where the PostgreSQL 15 programs live."""
        return self.settings.services.postgres.bin_dir

    def data_path(self, process: str) -> Path:
        """The data directory of ``primary`` or ``replica``."""
        return self.data_dir / process

    def socket_dir(self, process: str) -> Path:
        """The unix socket folder of ``primary`` or ``replica``."""
        return self.data_dir / "run" / process

    @property
    def pgpass_file(self) -> Path:
        """The libpq password file holding the replication role's password."""
        return self.data_dir / "auth" / "replication.pgpass"

    def requirements(self) -> list[Requirement]:
        """Debian's postgresql-15 (server) and postgresql-client-15 (psql, pg_isready, pg_basebackup)."""
        return [
            AptPackage("postgresql-15", str(self.bin_dir / "postgres")),
            AptPackage("postgresql-client-15", str(self.bin_dir / "pg_basebackup")),
        ]

    def processes(self) -> list[ProcessSpec]:
        """The primary, then the replica when ``replica_enabled``."""
        cfg = self.settings.services.postgres
        specs = [self._server("primary", cfg.port, self._prepare_primary, self._after_primary_ready)]
        if cfg.replica_enabled:
            specs.append(self._server("replica", cfg.replica_port, self._prepare_replica, None))
        return specs

    def endpoints(self) -> dict[str, str]:
        """Primary and replica URLs as the application role, the password masked."""
        cfg = self.settings.services.postgres
        urls = {"primary": cfg.port}
        if cfg.replica_enabled:
            urls["replica"] = cfg.replica_port
        masked = f"postgresql://{cfg.app_user}:***@{cfg.host}"
        return {name: f"{masked}:{port}/{cfg.database}" for name, port in urls.items()}

    def _server(
        self,
        process: str,
        port: int,
        prepare: Callable[[], None],
        after_ready: Callable[[], None] | None,
    ) -> ProcessSpec:
        setting = "services.postgres.replica_port" if process == "replica" else "services.postgres.port"
        host = self.settings.services.postgres.host
        isready = str(self.bin_dir / "pg_isready")
        probe = command_probe(
            [isready, "-q", "-h", host, "-p", str(port), "-U", "postgres", "-d", "postgres"]
        )
        return self.spec(
            process,
            [str(self.bin_dir / "postgres"), "-D", str(self.data_path(process))],
            probe,
            ports={setting: port},
            user=_OS_USER,
            cwd=self.data_dir,
            # SIGTERM is a "smart" shutdown that waits for every client to leave; a
            # pooled application would hold it until the SIGKILL escalation.
            stop_signal=signal.SIGINT,
            prepare=prepare,
            after_ready=after_ready,
        )

    # primary ---------------------------------------------------------------------

    def _prepare_primary(self) -> None:
        """Create the cluster on first start; (re)write its Folio settings every start."""
        account = self._account()
        data = self.data_path("primary")
        if not (data / "PG_VERSION").exists():
            staging = self._fresh_dir(account, "primary.initdb")
            account.run(
                [
                    str(self.bin_dir / "initdb"),
                    "-D",
                    str(staging),
                    "--username=postgres",
                    "--auth-local=peer",
                    "--auth-host=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "--no-instructions",
                ],
                cwd=self.data_dir,
            )
            self._move_into_place(staging, data)
        self._ensure_replication_secret(account)
        self._write_config(account, "primary", self.settings.services.postgres.port, extra=[])

    def _after_primary_ready(self) -> None:
        """Create or update the replication, owner and application roles and the database."""
        cfg = self.settings.services.postgres
        app, owner, repl, db = cfg.app_user, cfg.owner_user, REPLICATION_ROLE, cfg.database
        ensure_generated_passwords(cfg)
        # Every start sets the passwords again, so a database initialised with the old
        # shared development password switches to this installation's own.
        app_password = cfg.password("app").get_secret_value()
        owner_password = cfg.password("owner").get_secret_value()
        common = "NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS"
        owner_defaults = f"ALTER DEFAULT PRIVILEGES FOR ROLE {quote_ident(owner)} IN SCHEMA public"
        lines = [
            *self._ensure_role(repl, f"LOGIN REPLICATION {common}", self._replication_password()),
            *self._ensure_role(owner, f"LOGIN NOREPLICATION {common}", owner_password),
            *self._ensure_role(app, f"LOGIN NOREPLICATION {common}", app_password),
            _create_unless_exists(
                f"format('CREATE DATABASE %I OWNER %I', {quote_literal(db)}, {quote_literal(owner)})",
                f"SELECT FROM pg_database WHERE datname = {quote_literal(db)}",
            ),
            f"ALTER DATABASE {quote_ident(db)} OWNER TO {quote_ident(owner)};",
            f"REVOKE ALL ON DATABASE {quote_ident(db)} FROM PUBLIC;",
            f"GRANT CONNECT, TEMPORARY ON DATABASE {quote_ident(db)} TO {quote_ident(app)};",
            f"\\connect {quote_ident(db)}",
            # The app role uses the schema but never changes it: only migrations (the
            # owner) create tables, so the app role owns none and RLS always binds it.
            f"GRANT USAGE ON SCHEMA public TO {quote_ident(app)};",
            f"REVOKE CREATE ON SCHEMA public FROM {quote_ident(app)};",
            # A database first migrated as the app role has an alembic_version the app role
            # owns, which the owner (migrations run as it now) cannot update. Only a
            # superuser can hand it over; a no-op once the owner has it.
            f"ALTER TABLE IF EXISTS public.alembic_version OWNER TO {quote_ident(owner)};",
            f"{owner_defaults} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {quote_ident(app)};",
            f"{owner_defaults} GRANT USAGE, SELECT ON SEQUENCES TO {quote_ident(app)};",
        ]
        self.psql("primary", "\n".join(lines) + "\n")

    @staticmethod
    def _ensure_role(role: str, options: str, password: str) -> list[str]:
        return [
            _create_unless_exists(
                f"format('CREATE ROLE %I', {quote_literal(role)})",
                f"SELECT FROM pg_roles WHERE rolname = {quote_literal(role)}",
            ),
            f"ALTER ROLE {quote_ident(role)} WITH {options} PASSWORD {quote_literal(password)};",
        ]

    def psql(self, process: str, script: str, *, database: str = "postgres") -> str:
        """Run ``script`` through psql as the ``postgres`` superuser over ``process``'s socket.

        Stops at the first error (``ProcessError`` with psql's output); returns stdout.
        The script goes through stdin, so passwords in it never show in ``ps``.
        """
        cfg = self.settings.services.postgres
        port = cfg.replica_port if process == "replica" else cfg.port
        done = self._account().run(
            [
                str(self.bin_dir / "psql"),
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                str(self.socket_dir(process)),
                "-p",
                str(port),
                "-d",
                database,
                "-f",
                "-",
            ],
            cwd=self.data_dir,
            stdin=script,
        )
        return done.stdout

    # replica ---------------------------------------------------------------------

    def _prepare_replica(self) -> None:
        """Clone the primary on first start (or when it was re-initialised); write its settings."""
        cfg = self.settings.services.postgres
        account = self._account()
        data = self.data_path("replica")
        cloned = (data / "PG_VERSION").exists()
        if cloned and self._system_id(data) != self._system_id(self.data_path("primary")):
            # The primary was re-created: this copy can never catch up with it.
            shutil.rmtree(data)
        if not (data / "PG_VERSION").exists():
            staging = self._fresh_dir(account, "replica.basebackup")
            account.run(
                [
                    str(self.bin_dir / "pg_basebackup"),
                    "-h",
                    cfg.host,
                    "-p",
                    str(cfg.port),
                    "-U",
                    REPLICATION_ROLE,
                    "-D",
                    str(staging),
                    "-X",
                    "stream",
                    "-c",
                    "fast",
                    "-w",
                ],
                cwd=self.data_dir,
                env={"PGPASSFILE": str(self.pgpass_file)},
                timeout_s=self.settings.services.ready_timeout_s,
            )
            self._move_into_place(staging, data)
        account.write_file(data / "standby.signal", "")
        conninfo = (
            f"host={cfg.host} port={cfg.port} user={REPLICATION_ROLE} "
            f"passfile={self.pgpass_file} application_name=folio_replica"
        )
        extra = [f"primary_conninfo = {_conf_string(conninfo)}"]
        self._write_config(account, "replica", cfg.replica_port, extra=extra)

    def _system_id(self, data: Path) -> str:
        done = self._account().run([str(self.bin_dir / "pg_controldata"), "-D", str(data)], cwd=self.data_dir)
        for line in done.stdout.splitlines():
            if line.startswith("Database system identifier:"):
                return line.split(":", 1)[1].strip()
        raise ProcessError(f"pg_controldata printed no system identifier for {data}")

    # shared ----------------------------------------------------------------------

    def _account(self) -> SystemAccount:
        account = SystemAccount.lookup(_OS_USER)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        account.ensure_reachable(self.data_dir, managed_root=self.settings.services.data_dir)
        return account

    def _fresh_dir(self, account: SystemAccount, name: str) -> Path:
        """An empty folder owned by postgres, left over from an interrupted attempt or not."""
        staging = self.data_dir / name
        shutil.rmtree(staging, ignore_errors=True)
        return account.own_dir(staging, 0o700)

    @staticmethod
    def _move_into_place(staging: Path, target: Path) -> None:
        """Publish a finished data directory in one rename, so a half-made one is never used."""
        if target.exists() and any(target.iterdir()):
            raise ProcessError(f"{target} holds files but no PG_VERSION; move it away and start again")
        if target.exists():
            target.rmdir()
        staging.rename(target)

    def _ensure_replication_secret(self, account: SystemAccount) -> None:
        account.own_dir(self.pgpass_file.parent, 0o700)
        if not self.pgpass_file.exists():
            account.write_file(self.pgpass_file, f"*:*:*:{REPLICATION_ROLE}:{secrets.token_hex(24)}\n")

    def _replication_password(self) -> str:
        return self.pgpass_file.read_text().strip().rsplit(":", 1)[1]

    def _write_config(self, account: SystemAccount, process: str, port: int, *, extra: list[str]) -> None:
        """Write ``folio.conf`` and ``pg_hba.conf`` and include the former from postgresql.conf."""
        cfg = self.settings.services.postgres
        data = self.data_path(process)
        sockets = account.own_dir(self.socket_dir(process), 0o750)
        socket_path = sockets / f".s.PGSQL.{port}"
        if len(str(socket_path)) > _SOCKET_PATH_MAX:
            raise ProcessError(f"socket path {socket_path} is too long; use a shorter services.data_dir")
        settings_lines = [
            "# Managed by Folio (folio.ops.services.postgres); rewritten before every start.",
            f"listen_addresses = {_conf_string(cfg.host)}",
            f"port = {port}",
            f"unix_socket_directories = {_conf_string(str(sockets))}",
            "wal_level = replica",
            "max_wal_senders = 5",
            # Lets a replica that was down for a while catch up without a replication
            # slot, which would pin WAL forever once the replica is gone.
            "wal_keep_size = '256MB'",
            "hot_standby = on",
            "password_encryption = 'scram-sha-256'",
            "log_line_prefix = '%m [%p] %q%u@%d '",
            *extra,
        ]
        account.write_file(data / "folio.conf", "\n".join(settings_lines) + "\n")
        address = _hba_address(cfg.host)
        hba = [
            "# Managed by Folio (folio.ops.services.postgres); rewritten before every start.",
            "# TYPE  DATABASE     USER             ADDRESS   METHOD",
            "local   all          postgres                   peer",
            "local   replication  postgres                   peer",
            f"host    replication  {REPLICATION_ROLE} {address} scram-sha-256",
            f"host    all          all              {address} scram-sha-256",
        ]
        account.write_file(data / "pg_hba.conf", "\n".join(hba) + "\n")
        main_conf = data / "postgresql.conf"
        text = main_conf.read_text()
        if _INCLUDE_LINE not in text.splitlines():
            account.write_file(main_conf, text.rstrip("\n") + "\n" + _INCLUDE_LINE + "\n")
        account.own_dir(data, 0o700)
