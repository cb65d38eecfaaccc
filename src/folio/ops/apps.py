"""What ``folio up`` supervises: Folio's own processes, and those companion apps declare.

Folio's processes (the gateway, the users and orders gRPC servers, workers, the inbox, the event
pipeline) are declared here, each started with ``sys.executable -m <module>`` so it runs in the
same environment.

A companion app (``apps/<name>/``: outside the product tiers, reaching Folio only
through its public APIs) joins ``folio up`` by declaring its process specs in the
``folio.processes`` entry-point group of its own distribution::

    [project.entry-points."folio.processes"]
    stock-tracker = "folio_stock_tracker.process:processes"

where ``processes(settings, env, *, lite)`` returns ``ProcessSpec``s. A companion that
fails to load, returns something else, or reuses a name already taken is skipped with a
warning naming it: a broken companion never stops the platform.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping
from importlib.metadata import entry_points
from typing import Protocol, TypedDict

import structlog

from folio.core.settings import Settings
from folio.ops.health import Probe, grpc_health_probe, http_probe
from folio.ops.process import ProcessSpec, RestartPolicy
from folio.ops.services.prometheus import register_scrape_target

__all__ = ["PROCESS_GROUP", "CompanionProcesses", "companion_processes", "folio_processes"]

log = structlog.get_logger(__name__)

PROCESS_GROUP = "folio.processes"
"""The entry-point group through which companion apps declare their processes."""


class CompanionProcesses(Protocol):
    """What a ``folio.processes`` entry point names: its app's processes for this run."""

    def __call__(self, settings: Settings, env: Mapping[str, str], *, lite: bool) -> Iterable[ProcessSpec]:
        """The specs to supervise; ``env`` is the environment ``folio up`` gives every child."""


_LOG_TO_FILE_ONLY = {"FOLIO_LOGGING_STDOUT": "false"}
"""A child's log lines go to its own ``.jsonl`` file only; its ``.out`` (the captured
stdout and stderr) keeps what is not a log line: a crash's traceback, a C library's
message. Without it every line was written to both files."""


def _started() -> str | None:
    """A worker serves nothing to probe: it is ready once it runs (the supervisor watches it)."""
    return None


def folio_processes(settings: Settings, env: Mapping[str, str], *, lite: bool = False) -> list[ProcessSpec]:
    """Every process to supervise, with ``env`` added to its environment: Folio's, then companions'.

    Lite mode has no search engine and no broker, so no search worker and no RabbitMQ
    workers (``messaging.replicas`` of them otherwise), no inbox watcher (``folio inbox
    watch`` runs there by hand), no Kafka event pipeline (``streams``) and no served daily
    flow (``flows``; ``folio flows run`` uses Prefect's ephemeral server there); the gRPC servers run in
    both modes (two small processes on the same database), so the gateway reaches orders one way only.
    """
    own = _own_processes(settings, env, lite=lite)
    return own + companion_processes(settings, env, lite=lite, taken={spec.name for spec in own})


def companion_processes(
    settings: Settings, env: Mapping[str, str], *, lite: bool, taken: set[str]
) -> list[ProcessSpec]:
    """The processes installed companion apps declare (``folio.processes``), skipping broken ones.

    ``taken`` holds the names already supervised; a companion spec reusing one is skipped.
    """
    found: list[ProcessSpec] = []
    for entry in sorted(entry_points(group=PROCESS_GROUP), key=lambda e: e.name):
        try:
            declare: CompanionProcesses = entry.load()
            specs: list[object] = list(declare(settings, env, lite=lite))  # checked below: a plugin may lie
        except Exception as exc:  # noqa: BLE001 - a broken companion must not stop the platform
            log.warning("companion.skipped", entry_point=entry.name, problem=f"{type(exc).__name__}: {exc}")
            continue
        for spec in specs:
            if not isinstance(spec, ProcessSpec):
                log.warning(
                    "companion.skipped", entry_point=entry.name, problem=f"{spec!r} is not a ProcessSpec"
                )
            elif spec.name in taken:
                log.warning(
                    "companion.skipped", entry_point=entry.name, problem=f"the name {spec.name!r} is taken"
                )
            else:
                taken.add(spec.name)
                found.append(spec)
    return found


def _own_processes(settings: Settings, env: Mapping[str, str], *, lite: bool) -> list[ProcessSpec]:
    if lite:
        # Lite mode runs no servers, Envoy included: its clients dial the gRPC servers directly.
        env = {**env, "FOLIO_GRPC_MESH": "direct"}
    env = {**env, **_telemetry_env(settings)}
    home = settings.home.absolute()
    gateway = settings.gateway
    workers = [] if lite else [_search_sync_process(settings, env), *_worker_processes(settings, env)]
    return [
        ProcessSpec(
            name="gateway",
            argv=[sys.executable, "-m", "folio.entrypoints.gateway"],
            log_file=home / "logs" / "gateway.out",
            pid_file=home / "run" / "gateway.pid",
            probe=http_probe(f"{gateway.url}/healthz"),
            ports={"gateway.port": gateway.port},
            env={**env, **_LOG_TO_FILE_ONLY, "FOLIO_SERVICE_NAME": "gateway"},
            restart=RestartPolicy.ON_FAILURE,
            max_restarts=5,
            ready_timeout_s=60.0,
            stop_timeout_s=15.0,
        ),
        *_grpc_processes(settings, env, lite=lite),
        *workers,
        *([] if lite else [_inbox_process(settings, env)]),
        *([] if lite else [_streams_process(settings, env)]),
        *([] if lite else [_flows_process(settings, env)]),
        _traces_process(settings, env, lite=lite),
    ]


def _telemetry_env(settings: Settings) -> dict[str, str]:
    """Tracing on for every process, exporting to the receiver ``folio up`` runs.

    Unless the person's environment decides (``FOLIO_TELEMETRY_ENABLED=false folio up``
    runs without), or names another collector (``FOLIO_TELEMETRY_ENDPOINT``).
    """
    traces = settings.traces
    chosen = {
        "FOLIO_TELEMETRY_ENABLED": "true",
        "FOLIO_TELEMETRY_ENDPOINT": f"http://{traces.host}:{traces.port}",
    }
    return {key: value for key, value in chosen.items() if key not in os.environ}


def _traces_process(settings: Settings, env: Mapping[str, str], *, lite: bool) -> ProcessSpec:
    """Folio's trace receiver (``folio traces collect``): OTLP/HTTP in, tail sampling, the trace store.

    It never traces itself (its own writes would be spans sent to itself), and it is
    ready once ``/metrics`` answers, when Prometheus is told to scrape it (target
    ``traces``); in lite mode no Prometheus runs, so nothing is registered (no server
    data folder is made for a lite checkout).
    """
    home = settings.home.absolute()
    traces = settings.traces
    return ProcessSpec(
        name="traces",
        argv=[sys.executable, "-m", "folio", "traces", "collect"],
        log_file=home / "logs" / "traces.out",
        pid_file=home / "run" / "traces.pid",
        probe=http_probe(f"http://{traces.host}:{traces.port}/metrics"),
        after_ready=None if lite else (lambda: _scrape(settings, "traces", traces.host, traces.port)),
        ports={"traces.port": traces.port},
        env={**env, **_LOG_TO_FILE_ONLY, "FOLIO_SERVICE_NAME": "traces", "FOLIO_TELEMETRY_ENABLED": "false"},
        restart=RestartPolicy.ON_FAILURE,
        max_restarts=5,
        stop_timeout_s=15.0,
    )


def _streams_process(settings: Settings, env: Mapping[str, str]) -> ProcessSpec:
    """The Kafka event pipeline (``folio.streaming``): every stage as a task of one process.

    One process, not one per stage, for memory (each costs about 120 MiB); the per-stage
    forms of ``python -m folio.entrypoints.streams`` scale a stage out by hand. SIGTERM
    ends every stage between batches; a batch is bounded by the producer's delivery
    timeout. With a metrics port it is ready once ``/metrics`` answers, and Prometheus
    then scrapes it (target ``streams``).
    """
    home = settings.home.absolute()
    host, metrics_port = settings.streaming.metrics_host, settings.streaming.metrics_port
    return ProcessSpec(
        name="streams",
        argv=[sys.executable, "-m", "folio.entrypoints.streams", "all"],
        log_file=home / "logs" / "streams.out",
        pid_file=home / "run" / "streams.pid",
        **_metrics_endpoint(settings, "streams", host, metrics_port, "streaming.metrics_port"),
        env={**env, **_LOG_TO_FILE_ONLY, "FOLIO_SERVICE_NAME": "streams"},
        restart=RestartPolicy.ON_FAILURE,
        max_restarts=5,
        stop_timeout_s=settings.streaming.delivery_timeout_s + 10.0,
    )


def _flows_process(settings: Settings, env: Mapping[str, str]) -> ProcessSpec:
    """The daily data flow served on its cron schedule (``python -m folio_flows serve``, docs/flows.md).

    It runs in the flows environment (Prefect cannot share Folio's), talks to the Prefect
    server ``folio services up`` started (``flows.url``), and its tasks run this
    interpreter's ``folio`` (``FOLIO_PYTHON``), with the variables ``folio flows run`` sets too.
    It serves Prefect's client metrics on ``flows.metrics_port`` (target ``flows``).
    """
    home = settings.home.absolute()
    cfg = settings.flows
    prefect_home = (settings.services.data_dir / "prefect" / "home").absolute()
    return ProcessSpec(
        name="flows",
        argv=[str(cfg.python), "-m", "folio_flows", "serve"],
        log_file=home / "logs" / "flows.out",
        pid_file=home / "run" / "flows.pid",
        **_metrics_endpoint(settings, "flows", cfg.metrics_host, cfg.metrics_port, "flows.metrics_port"),
        env={
            **env,
            **_LOG_TO_FILE_ONLY,
            "FOLIO_SERVICE_NAME": "flows",
            **cfg.process_environment(prefect_home, lite=False, folio_python=sys.executable),
        },
        restart=RestartPolicy.ON_FAILURE,
        max_restarts=5,
        stop_timeout_s=20.0,
    )


def _scrape(settings: Settings, name: str, host: str, port: int) -> None:
    """Have Prometheus scrape ``host:port`` as target ``name`` (file discovery: no reload)."""
    register_scrape_target(settings, name, host, port)


class _MetricsEndpoint(TypedDict, total=False):
    """The ``ProcessSpec`` fields that say how a process serving ``/metrics`` is probed and scraped."""

    probe: Probe
    after_ready: Callable[[], None]
    ports: Mapping[str, int]


def _metrics_endpoint(settings: Settings, name: str, host: str, port: int, setting: str) -> _MetricsEndpoint:
    """How ``name``, serving ``/metrics`` on ``host:port`` (chosen by ``setting``), is probed and scraped.

    Ready once ``/metrics`` answers, when Prometheus is told to scrape it as target ``name``;
    with port 0 (not served) ready once it runs, and not scraped.
    """
    if not port:
        return {"probe": _started}
    return {
        "probe": http_probe(f"http://{host}:{port}/metrics"),
        "after_ready": lambda: _scrape(settings, name, host, port),
        "ports": {setting: port},
    }


def _search_sync_process(settings: Settings, env: Mapping[str, str]) -> ProcessSpec:
    """``folio search sync``: the catalogue's outbox into the engine; scraped as target ``search-sync``."""
    home = settings.home.absolute()
    search = settings.services.search
    return ProcessSpec(
        name="search-sync",
        argv=[sys.executable, "-m", "folio", "search", "sync"],
        log_file=home / "logs" / "search-sync.out",
        pid_file=home / "run" / "search-sync.pid",
        **_metrics_endpoint(
            settings,
            "search-sync",
            search.sync_metrics_host,
            search.sync_metrics_port,
            "services.search.sync_metrics_port",
        ),
        env={**env, **_LOG_TO_FILE_ONLY, "FOLIO_SERVICE_NAME": "search-sync"},
        restart=RestartPolicy.ON_FAILURE,
        max_restarts=5,
        stop_timeout_s=15.0,
    )


def _inbox_process(settings: Settings, env: Mapping[str, str]) -> ProcessSpec:
    """The folder-watch inbox (``folio inbox watch``): its ledger in the database, its files to the lake.

    Loads in flight finish when it stops (within ``folio.core.background.STOP_GRACE_S``).
    With a metrics port it is ready once ``/metrics`` answers, and Prometheus is then
    told to scrape it (file discovery, target ``inbox``).
    """
    home = settings.home.absolute()
    host, metrics_port = settings.inbox.metrics_host, settings.inbox.metrics_port
    return ProcessSpec(
        name="inbox",
        argv=[sys.executable, "-m", "folio", "inbox", "watch"],
        log_file=home / "logs" / "inbox.out",
        pid_file=home / "run" / "inbox.pid",
        **_metrics_endpoint(settings, "inbox", host, metrics_port, "inbox.metrics_port"),
        env={**env, **_LOG_TO_FILE_ONLY, "FOLIO_SERVICE_NAME": "inbox"},
        restart=RestartPolicy.ON_FAILURE,
        max_restarts=5,
        stop_timeout_s=20.0,
    )


def _grpc_processes(settings: Settings, env: Mapping[str, str], *, lite: bool) -> list[ProcessSpec]:
    """The users and orders gRPC servers (``python -m folio.entrypoints.grpc <name>``).

    With ``grpc.mesh = "envoy"`` (never in lite mode) a second orders server, ``orders-2``,
    runs on ``grpc.orders.replica_port``: Envoy balances over both and routes around one
    that dies.
    """
    users, orders = settings.grpc.users, settings.grpc.orders
    specs = [
        _grpc_server(
            settings,
            env,
            "users",
            service="users",
            host=users.host,
            ports={"port": users.port, "metrics_port": users.metrics_port},
        ),
        _grpc_server(
            settings,
            env,
            "orders",
            service="orders",
            host=orders.host,
            ports={"port": orders.port, "metrics_port": orders.metrics_port},
        ),
    ]
    if settings.grpc.mesh == "envoy" and not lite:
        ports = {"replica_port": orders.replica_port, "replica_metrics_port": orders.replica_metrics_port}
        # The same server on the replica's ports: its settings say so, through its environment.
        replica_env = {
            "FOLIO_GRPC_ORDERS_PORT": str(orders.replica_port),
            "FOLIO_GRPC_ORDERS_METRICS_PORT": str(orders.replica_metrics_port),
        }
        specs.append(
            _grpc_server(
                settings, {**env, **replica_env}, "orders-2", service="orders", host=orders.host, ports=ports
            )
        )
    return specs


def _grpc_server(
    settings: Settings, env: Mapping[str, str], name: str, *, service: str, host: str, ports: dict[str, int]
) -> ProcessSpec:
    """One gRPC server process ``name`` serving ``service`` on ``host``.

    ``ports`` maps each setting under ``grpc.<service>`` to its port; the first is the
    gRPC port the probe checks.
    """
    home = settings.home.absolute()
    port = next(iter(ports.values()))
    return ProcessSpec(
        name=name,
        argv=[sys.executable, "-m", "folio.entrypoints.grpc", service],
        log_file=home / "logs" / f"{name}.out",
        pid_file=home / "run" / f"{name}.pid",
        probe=grpc_health_probe(f"{host}:{port}"),
        ports={f"grpc.{service}.{setting}": value for setting, value in ports.items()},
        env={**env, **_LOG_TO_FILE_ONLY, "FOLIO_SERVICE_NAME": name},
        restart=RestartPolicy.ON_FAILURE,
        max_restarts=5,
        ready_timeout_s=60.0,
        stop_timeout_s=15.0,
    )


def _worker_processes(settings: Settings, env: Mapping[str, str]) -> list[ProcessSpec]:
    """``messaging.replicas`` workers (RabbitMQ consumers and the outbox relay), each stopped gracefully.

    The stop timeout outlasts the worker's grace period, so the supervisor's SIGKILL never
    cuts a message short that was allowed to finish. Replica n serves its metrics on
    ``messaging.metrics_port`` + n - 1 (its environment says so), scraped as ``worker-n``.
    """
    home = settings.home.absolute()
    messaging = settings.messaging
    specs = []
    for n in range(1, messaging.replicas + 1):
        name = f"worker-{n}"
        port = messaging.metrics_port + n - 1 if messaging.metrics_port else 0
        setting = "messaging.metrics_port" + (f" + {n - 1} ({name})" if n > 1 else "")
        specs.append(
            ProcessSpec(
                name=name,
                argv=[sys.executable, "-m", "folio.entrypoints.worker"],
                log_file=home / "logs" / f"{name}.out",
                pid_file=home / "run" / f"{name}.pid",
                **_metrics_endpoint(settings, name, messaging.metrics_host, port, setting),
                env={
                    **env,
                    **_LOG_TO_FILE_ONLY,
                    "FOLIO_SERVICE_NAME": name,
                    "FOLIO_MESSAGING_METRICS_PORT": str(port),
                },
                restart=RestartPolicy.ON_FAILURE,
                max_restarts=5,
                stop_timeout_s=messaging.shutdown_grace_s + 10.0,
            )
        )
    return specs
