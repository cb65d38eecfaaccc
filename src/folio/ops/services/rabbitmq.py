"""RabbitMQ from Debian's rabbitmq-server: its own epmd and one node, run as ``rabbitmq``.

Nothing here touches Debian's default node (``rabbit@<host>``, /var/lib/rabbitmq,
port 5672) or a system epmd on 4369: Folio's node is ``folio@localhost`` with its own
port mapper on ``epmd_port``, its own cookie (``home/.erlang.cookie``) and every path
under ``data_dir``::

    home/        HOME of the node and of rabbitmqctl: the Erlang cookie
    mnesia/      the node's database (queues, users, vhosts)
    log/         crash dumps (the node logs to its console, i.e. logs/server.log)
    rabbitmq.conf  rabbitmq-env.conf  enabled_plugins  definitions.json  (generated)

Every socket binds ``services.rabbitmq.host`` (127.0.0.1): epmd through
``-address``, AMQP through ``listeners.tcp.default``, Erlang distribution (of the
node and of each rabbitmqctl run) through ``inet_dist_use_interface``, and
``-start_epmd false`` keeps either from spawning a system epmd on 0.0.0.0:4369.
Checked with ``ss -ltnp`` after ``folio services up rabbitmq``: 127.0.0.1 on
``epmd_port``, ``port`` and ``dist_port``, ::1 on ``epmd_port`` (epmd always adds
the IPv6 loopback), 127.0.0.1 on the seven ports after ``dist_port`` briefly while
rabbitmqctl runs (``RABBITMQ_CTL_DIST_PORT_MIN/MAX``), and
nothing on 0.0.0.0 or [::]. No plugin is enabled (the management UI would cost
memory and seconds of boot for nothing Folio uses).

Readiness is an AMQP handshake (``amqp_probe``) rather than ``rabbitmqctl``,
which boots an Erlang VM (about a second of CPU) per call; the node logs each
probe as a client that closed its connection early.

Users: ``load_definitions`` seeds the Folio user (password stored only as RabbitMQ's
salted SHA-256 hash), its vhost and full permissions on it. The password is
``services.rabbitmq.password`` or, unset, one generated at first start into
``<services.data_dir>/rabbitmq/auth.toml`` (0600), where clients' settings read it; because definitions are
configured, RabbitMQ never creates ``guest``. Once ready, the definitions are
imported again (so a changed password applies without a restart) and a ``guest``
left by an older data folder is deleted.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import secrets
import socket
import string
from pathlib import Path

from folio.ops.health import Probe, tcp_probe
from folio.ops.process import ProcessError, ProcessSpec
from folio.ops.secrets import ensure_generated
from folio.ops.service import AptPackage, Requirement, Service
from folio.ops.services.accounts import SystemAccount

NODE_NAME = "folio@localhost"
CTL_DIST_PORTS = 7
"""How many rabbitmqctl runs may talk to the node at once (ports after ``dist_port``)."""
_OS_USER = "rabbitmq"
_SCRIPTS = Path("/usr/lib/rabbitmq/bin")
_HASHING = "rabbit_password_hashing_sha256"
_SALT_BYTES = 4
# AMQP 0-9-1 protocol header, and what opens the server's answer: a method frame
# (type 1) on channel 0 whose payload starts with connection.start (class 10, method 10).
_AMQP_HEADER = b"AMQP\x00\x00\x09\x01"
_CONNECTION_START = b"\x00\x0a\x00\x0a"


def amqp_probe(host: str, port: int, timeout_s: float = 2.0) -> Probe:
    """Healthy once the broker answers the AMQP 0-9-1 header with ``connection.start``."""

    def probe() -> str | None:
        try:
            with socket.create_connection((host, port), timeout=timeout_s) as conn:
                conn.sendall(_AMQP_HEADER)
                reply = conn.recv(64)
        except OSError as exc:
            return f"amqp {host}:{port} unreachable ({exc.strerror or exc})"
        if reply[:1] == b"\x01" and reply[7:11] == _CONNECTION_START:
            return None
        return f"amqp {host}:{port} answered {reply[:16]!r}"

    return probe


def password_hash(password: str, salt: bytes | None = None) -> str:
    """RabbitMQ's ``rabbit_password_hashing_sha256``: base64(salt + sha256(salt + password))."""
    salt = salt if salt is not None else secrets.token_bytes(_SALT_BYTES)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def _hash_matches(stored: str, password: str) -> bool:
    try:
        raw = base64.b64decode(stored, validate=True)
    except ValueError:
        return False
    salt = raw[:_SALT_BYTES]
    return len(raw) == _SALT_BYTES + hashlib.sha256().digest_size and secrets.compare_digest(
        password_hash(password, salt), stored
    )


def _erlang_ip(host: str) -> str:
    """``host`` as the Erlang tuple ``inet_dist_use_interface`` takes."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ProcessError(f"services.rabbitmq.host must be an IP address, not {host!r}") from None
    if not isinstance(address, ipaddress.IPv4Address):
        raise ProcessError(f"services.rabbitmq.host must be an IPv4 address, not {host!r}")
    return "{" + ",".join(str(part) for part in address.packed) + "}"


class RabbitMQService(Service):
    """``rabbitmq-server`` from Debian, with a private ``epmd`` started first."""

    name = "rabbitmq"
    summary = "RabbitMQ (work queues)"

    @property
    def home(self) -> Path:
        """HOME of the node and of rabbitmqctl, where the Erlang cookie lives."""
        return self.data_dir / "home"

    @property
    def definitions_file(self) -> Path:
        """The user, vhost and permissions the node loads on boot."""
        return self.data_dir / "definitions.json"

    def requirements(self) -> list[Requirement]:
        """Debian's rabbitmq-server (which brings Erlang and epmd)."""
        return [AptPackage("rabbitmq-server", str(_SCRIPTS / "rabbitmq-server"))]

    def processes(self) -> list[ProcessSpec]:
        """``epmd`` on loopback, then the node."""
        cfg = self.settings.services.rabbitmq
        epmd = self.spec(
            "epmd",
            ["epmd", "-address", cfg.host, "-port", str(cfg.epmd_port)],
            tcp_probe(cfg.host, cfg.epmd_port),
            ports={"services.rabbitmq.epmd_port": cfg.epmd_port},
            user=_OS_USER,
            cwd=self.data_dir,
            prepare=self._prepare_epmd,
        )
        server = self.spec(
            "server",
            [str(_SCRIPTS / "rabbitmq-server")],
            amqp_probe(cfg.host, cfg.port),
            ports={"services.rabbitmq.port": cfg.port, "services.rabbitmq.dist_port": cfg.dist_port},
            user=_OS_USER,
            cwd=self.data_dir,
            env=self.environment(),
            prepare=self._prepare,
            after_ready=self._after_ready,
        )
        return [epmd, server]

    def ports(self) -> dict[str, int]:
        """The node's ports and the ones rabbitmqctl borrows while it runs."""
        dist_port = self.settings.services.rabbitmq.dist_port
        helpers = {
            f"services.rabbitmq.dist_port + {offset} (rabbitmqctl)": dist_port + offset
            for offset in range(1, CTL_DIST_PORTS + 1)
        }
        return {**super().ports(), **helpers}

    def endpoints(self) -> dict[str, str]:
        """The AMQP URL, the password masked."""
        cfg = self.settings.services.rabbitmq
        return {"amqp": f"amqp://{cfg.user}:***@{cfg.host}:{cfg.port}/{cfg.vhost}"}

    def environment(self) -> dict[str, str]:
        """What the node and rabbitmqctl need to find each other, and nothing of Debian's node."""
        cfg = self.settings.services.rabbitmq
        loopback_dist = f"-kernel inet_dist_use_interface {_erlang_ip(cfg.host)} -start_epmd false"
        return {
            "HOME": str(self.home),
            "RABBITMQ_NODENAME": NODE_NAME,
            "RABBITMQ_USE_LONGNAME": "false",
            "RABBITMQ_NODE_IP_ADDRESS": cfg.host,
            "RABBITMQ_NODE_PORT": str(cfg.port),
            "RABBITMQ_DIST_PORT": str(cfg.dist_port),
            # rabbitmqctl listens for the node's answer on a port of its own; Debian's
            # 35672-35682 lies in the kernel's ephemeral range, so it takes the ports
            # right after the node's.
            "RABBITMQ_CTL_DIST_PORT_MIN": str(cfg.dist_port + 1),
            "RABBITMQ_CTL_DIST_PORT_MAX": str(cfg.dist_port + CTL_DIST_PORTS),
            "ERL_EPMD_ADDRESS": cfg.host,
            "ERL_EPMD_PORT": str(cfg.epmd_port),
            "RABBITMQ_CONF_ENV_FILE": str(self.data_dir / "rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": str(self.data_dir / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.data_dir / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.data_dir / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(self.data_dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.data_dir / "log"),
            "ERL_CRASH_DUMP": str(self.data_dir / "log" / "erl_crash.dump"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": loopback_dist,
            "RABBITMQ_CTL_ERL_ARGS": loopback_dist,
        }

    def ctl(self, *args: str, check: bool = True) -> str:
        """Run ``rabbitmqctl -n folio@localhost ARGS`` as ``rabbitmq``; returns its stdout.

        Uses the script under /usr/lib/rabbitmq/bin, not /usr/sbin's wrapper, which
        would switch to /var/lib/rabbitmq and Debian's cookie.
        """
        done = self._account().run(
            [str(_SCRIPTS / "rabbitmqctl"), "-n", NODE_NAME, *args],
            cwd=self.data_dir,
            env=self.environment(),
            check=check,
        )
        return done.stdout

    def _account(self) -> SystemAccount:
        account = SystemAccount.lookup(_OS_USER)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        account.ensure_reachable(self.data_dir, managed_root=self.settings.services.data_dir)
        return account

    def _prepare_epmd(self) -> None:
        self._account()

    def _prepare(self) -> None:
        """Create the folders, the cookie and the generated files (idempotent)."""
        cfg = self.settings.services.rabbitmq
        account = self._account()
        account.own_dir(self.home, 0o700)
        for folder in ("mnesia", "log"):
            account.own_dir(self.data_dir / folder, 0o750)
        cookie = self.home / ".erlang.cookie"
        if not cookie.exists():
            alphabet = string.ascii_uppercase
            account.write_file(cookie, "".join(secrets.choice(alphabet) for _ in range(32)), mode=0o400)
        conf = [
            "# Managed by Folio (folio.ops.services.rabbitmq); rewritten before every start.",
            f"listeners.tcp.default = {cfg.host}:{cfg.port}",
            "loopback_users.guest = true",
            "log.console = true",
            "log.console.level = info",
            "log.console.use_colors = off",
            "log.file = false",
            f"load_definitions = {self.definitions_file}",
        ]
        account.write_file(self.data_dir / "rabbitmq.conf", "\n".join(conf) + "\n")
        account.write_file(
            self.data_dir / "rabbitmq-env.conf", "# Managed by Folio: settings come from the environment.\n"
        )
        account.write_file(self.data_dir / "enabled_plugins", "[].\n")
        account.write_file(self.definitions_file, self._definitions())

    def _definitions(self) -> str:
        cfg = self.settings.services.rabbitmq
        if cfg.password_file is None:
            raise ProcessError("services.rabbitmq has no password file: build it through ServicesSettings")
        ensure_generated(
            cfg.password_file, [] if cfg.password is not None else ["password"], what="broker password"
        )
        password = cfg.secret().get_secret_value()
        stored = self._stored_hash()
        hashed = stored if stored is not None and _hash_matches(stored, password) else password_hash(password)
        definitions = {
            "users": [{"name": cfg.user, "password_hash": hashed, "hashing_algorithm": _HASHING, "tags": []}],
            "vhosts": [{"name": cfg.vhost}],
            "permissions": [
                {"user": cfg.user, "vhost": cfg.vhost, "configure": ".*", "write": ".*", "read": ".*"}
            ],
        }
        return json.dumps(definitions, indent=2) + "\n"

    def _stored_hash(self) -> str | None:
        """The hash already on disk, kept when it still matches so the file only changes with the password."""
        try:
            users = json.loads(self.definitions_file.read_text())["users"]
            return str(users[0]["password_hash"])
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            return None

    def _after_ready(self) -> None:
        """Apply the definitions to the running node and make sure ``guest`` is gone."""
        self.ctl("await_startup", "--timeout", str(int(self.settings.services.ready_timeout_s)))
        self._account().write_file(self.definitions_file, self._definitions())
        self.ctl("import_definitions", str(self.definitions_file))
        users = json.loads(self.ctl("list_users", "--quiet", "--formatter", "json"))
        if any(user.get("user") == "guest" for user in users):
            self.ctl("delete_user", "guest")
