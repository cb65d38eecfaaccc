"""``folio up``: a small foreground supervisor for Folio's processes.

Each process is one ``ProcessSpec``. The supervisor starts them in order, at most
``start_concurrency`` starting at a time (one by default: each passes its readiness
probe before the next starts), restarts a process that exits according to its policy
with exponential backoff, and on SIGINT/SIGTERM stops what it started in reverse
order. It never stops what it did not start.

Folio's processes need one another only once they serve (the gateway dials the orders
service per request), never to start, so ``folio up`` starts as many at once as there
are cores: most of a start is importing Python, which one core does for one process.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from folio.ops.process import (
    ProcessError,
    ProcessSpec,
    RestartPolicy,
    detach,
    ensure_ports_free,
    launch,
    stop,
    wait_ready,
)

log = structlog.get_logger(__name__)


@dataclass
class _Child:
    spec: ProcessSpec
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0
    given_up: bool = False


@dataclass
class Supervisor:
    """Runs ``specs`` until asked to stop; ``cleanup`` runs after they are stopped."""

    specs: list[ProcessSpec]
    cleanup: list[Callable[[], object]] = field(default_factory=list)
    poll_interval_s: float = 0.5
    restart_backoff_s: float = 1.0
    """Delay before the first restart; it doubles with each restart, up to 30 seconds."""
    start_concurrency: int = 1
    """How many processes may be starting (launched, not yet ready) at once."""
    _stopping: threading.Event = field(default_factory=threading.Event)
    _children: list[_Child] = field(default_factory=list)

    def start(self) -> None:
        """Start every process in order, ``start_concurrency`` at a time, and wait for each to be ready.

        Readiness is awaited in the order of ``specs``, each against its own
        ``ready_timeout_s``. On a failure, stops what was already started and re-raises.
        """
        starting: deque[_Child] = deque()
        try:
            for spec in self.specs:
                if len(starting) >= max(1, self.start_concurrency):
                    self._await_ready(starting.popleft())
                ensure_ports_free(spec)
                child = _Child(spec)
                self._children.append(child)
                child.proc = launch(spec)
                starting.append(child)
            while starting:
                self._await_ready(starting.popleft())
        except BaseException:
            self.shutdown()
            raise

    @staticmethod
    def _await_ready(child: _Child) -> None:
        wait_ready(child.spec, child.proc)
        log.info("supervisor.started", process=child.spec.name, pid=child.proc.pid if child.proc else None)

    def request_stop(self) -> None:
        """Ask the loop to stop (safe from signal handlers and other threads)."""
        self._stopping.set()

    def install_signal_handlers(self) -> None:
        """Stop cleanly on SIGINT and SIGTERM (call from the main thread)."""
        for signo in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signo, lambda _s, _f: self.request_stop())

    def run_forever(self) -> None:
        """Watch the processes until ``request_stop``; then shut everything down."""
        try:
            while not self._stopping.wait(self.poll_interval_s):
                for child in self._children:
                    self._check(child)
        finally:
            self.shutdown()

    def _check(self, child: _Child) -> None:
        if child.given_up or child.proc is None:
            return
        code = child.proc.poll()
        if code is None:
            return
        policy = child.spec.restart
        wants_restart = policy is RestartPolicy.ALWAYS or (policy is RestartPolicy.ON_FAILURE and code != 0)
        if not wants_restart or child.restarts >= child.spec.max_restarts:
            child.given_up = True
            log.error(
                "supervisor.process_exited",
                process=child.spec.name,
                code=code,
                restarts=child.restarts,
                log_file=str(child.spec.log_file),
            )
            return
        now = time.monotonic()
        if child.next_start == 0.0:
            child.next_start = now + min(30.0, self.restart_backoff_s * 2.0**child.restarts)
            log.warning(
                "supervisor.restarting",
                process=child.spec.name,
                code=code,
                in_s=round(child.next_start - now, 1),
            )
            return
        if now < child.next_start:
            return
        child.restarts += 1
        child.next_start = 0.0
        try:
            child.proc = launch(child.spec)
            wait_ready(child.spec, child.proc)
        except (ProcessError, OSError) as exc:
            # The next check sees the exit and retries (or gives up) like any other failure.
            log.error("supervisor.restart_failed", process=child.spec.name, error=str(exc))  # noqa: TRY400

    def shutdown(self) -> None:
        """Stop started processes in reverse order, then run the cleanup hooks."""
        for child in reversed(self._children):
            if stop(child.spec):
                log.info("supervisor.stopped", process=child.spec.name)
            if child.proc is not None and child.proc.poll() is None:
                # Not stopped (its PID file was gone or no longer matched): let it run on
                # its own rather than warn about, or wait for, a process we cannot vouch for.
                detach(child.proc)
        self._children.clear()
        for hook in reversed(self.cleanup):
            hook()
        self.cleanup.clear()
