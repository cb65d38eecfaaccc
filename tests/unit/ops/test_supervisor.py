"""The foreground supervisor: ordered start, restart policies, clean shutdown."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from folio.ops.process import ProcessError, ProcessSpec, RestartPolicy, read_pid_file
from folio.ops.supervisor import Supervisor
from tests.unit.ops.conftest import (
    SLEEPS,
    Procs,
    log_contains,
    never_ready,
    pid_running,
    script_argv,
    wait_until,
)

pytestmark = pytest.mark.unit

FAST = {"poll_interval_s": 0.02, "restart_backoff_s": 0.01}


def counting_script(count_file: Path, *, exit_code: int, linger_s: float = 0.1) -> list[str]:
    """The argv of a process that records each run, says ready, then exits with ``exit_code``."""
    code = (
        "import sys, time\n"
        "open(sys.argv[1], 'a').write('run\\n')\n"
        "print('ready', flush=True)\n"
        f"time.sleep({linger_s})\n"
        f"sys.exit({exit_code})\n"
    )
    return script_argv(code, str(count_file))


def runs(count_file: Path) -> int:
    """How many times a ``counting_script`` process has started."""
    return len(count_file.read_text().splitlines()) if count_file.exists() else 0


def records_stop(name: str, stops_file: Path) -> list[str]:
    """The argv of a process that appends ``name`` to ``stops_file`` when it gets SIGTERM."""
    code = (
        "import signal, sys, time\n"
        "def bye(*_):\n"
        "    open(sys.argv[2], 'a').write(sys.argv[1] + '\\n')\n"
        "    sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, bye)\n"
        "print('ready', flush=True)\n"
        "time.sleep(120)\n"
    )
    return script_argv(code, name, str(stops_file))


@pytest.fixture
def supervisors() -> Iterator[list[Supervisor]]:
    """Supervisors a test made; shut down at the end in case the test did not."""
    made: list[Supervisor] = []
    yield made
    for supervisor in made:
        supervisor.shutdown()


def supervise(supervisors: list[Supervisor], specs: list[ProcessSpec], **options: object) -> Supervisor:
    """A fast-polling supervisor over ``specs``, remembered for teardown."""
    supervisor = Supervisor(specs, **{**FAST, **options})  # type: ignore[arg-type]
    supervisors.append(supervisor)
    return supervisor


def run_in_thread(supervisor: Supervisor) -> threading.Thread:
    """Run ``supervisor.run_forever`` on a thread."""
    thread = threading.Thread(target=supervisor.run_forever, daemon=True)
    thread.start()
    return thread


def pid_of(spec: ProcessSpec) -> int:
    """The PID recorded for ``spec``."""
    record = read_pid_file(spec.pid_file)
    assert record is not None
    return record.pid


# --- start -------------------------------------------------------------------------------------


def test_start_runs_specs_in_order_each_ready_before_the_next(
    procs: Procs, supervisors: list[Supervisor]
) -> None:
    """Specs start in order, and each starts only once the previous one passed its probe."""
    seen: list[tuple[str, bool]] = []
    first = procs.spec("first", script_argv(SLEEPS), prepare=lambda: seen.append(("first", True)))
    second = procs.spec(
        "second",
        script_argv(SLEEPS),
        prepare=lambda: seen.append(("second", first.probe() is None)),
    )
    supervisor = supervise(supervisors, [first, second])

    supervisor.start()

    assert seen == [("first", True), ("second", True)]
    assert all(pid_running(pid_of(spec)) for spec in (first, second))


def test_failing_start_stops_what_was_already_started(procs: Procs, supervisors: list[Supervisor]) -> None:
    """When one spec cannot start, the ones before it are stopped and the error propagates."""
    cleaned: list[str] = []
    good = procs.spec("good", script_argv(SLEEPS))
    bad = procs.spec("bad", script_argv("raise SystemExit(4)"), probe=never_ready)
    never = procs.spec("never", script_argv(SLEEPS))
    supervisor = supervise(supervisors, [good, bad, never], cleanup=[lambda: cleaned.append("hook")])

    with pytest.raises(ProcessError, match="bad exited with code 4"):
        supervisor.start()

    good_log = good.log_file.read_text()
    assert "ready" in good_log
    assert not good.pid_file.exists()
    assert not never.log_file.exists()
    assert cleaned == ["hook"]


def test_with_concurrency_the_next_starts_while_the_first_is_still_starting(
    procs: Procs, supervisors: list[Supervisor], tmp_path: Path
) -> None:
    """Two at a time, a first spec that is ready only once the second has launched still starts."""
    second_launched = tmp_path / "second-launched"

    def first_ready() -> str | None:
        return None if second_launched.exists() else "waiting for the second to launch"

    first = procs.spec("first", script_argv(SLEEPS), probe=first_ready, ready_timeout_s=5.0)
    second = procs.spec("second", script_argv(SLEEPS), prepare=second_launched.touch)
    third = procs.spec("third", script_argv(SLEEPS))
    supervisor = supervise(supervisors, [first, second, third], start_concurrency=2)

    supervisor.start()

    assert all(pid_running(pid_of(spec)) for spec in (first, second, third))


def test_with_concurrency_a_failing_start_stops_everything_launched(
    procs: Procs, supervisors: list[Supervisor]
) -> None:
    """Processes launched beside a failing one, before or after it, are stopped with it."""
    good = procs.spec("good", script_argv(SLEEPS))
    bad = procs.spec("bad", script_argv("raise SystemExit(4)"), probe=never_ready)
    beside = procs.spec("beside", script_argv(SLEEPS))
    supervisor = supervise(supervisors, [good, bad, beside], start_concurrency=3)

    with pytest.raises(ProcessError, match="bad exited with code 4"):
        supervisor.start()

    assert not any(spec.pid_file.exists() for spec in (good, bad, beside))


def run_until_given_up(supervisors: list[Supervisor], spec: ProcessSpec) -> Supervisor:
    """Supervise ``spec`` until the supervisor gives up on it, then end the loop."""
    supervisor = supervise(supervisors, [spec])
    supervisor.start()
    thread = run_in_thread(supervisor)
    assert wait_until(lambda: supervisor._children[0].given_up)
    supervisor.request_stop()
    thread.join(timeout=10)
    assert not thread.is_alive()
    return supervisor


# --- restarts ----------------------------------------------------------------------------------


def test_on_failure_restarts_up_to_max_then_gives_up(
    procs: Procs, supervisors: list[Supervisor], tmp_path: Path
) -> None:
    """A crashing ON_FAILURE process is restarted ``max_restarts`` times, then left down."""
    count = tmp_path / "crasher.count"
    spec = procs.spec("crasher", counting_script(count, exit_code=1), max_restarts=2)
    run_until_given_up(supervisors, spec)

    assert runs(count) == 1 + 2


@pytest.mark.parametrize(
    ("policy", "exit_code"),
    [(RestartPolicy.NEVER, 1), (RestartPolicy.ON_FAILURE, 0)],
)
def test_no_restart_for_never_or_clean_exit(
    procs: Procs, supervisors: list[Supervisor], tmp_path: Path, policy: RestartPolicy, exit_code: int
) -> None:
    """NEVER never restarts; ON_FAILURE leaves a clean (code 0) exit alone."""
    count = tmp_path / "once.count"
    spec = procs.spec("once", counting_script(count, exit_code=exit_code), restart=policy)
    supervisor = run_until_given_up(supervisors, spec)

    assert runs(count) == 1
    assert supervisor._children == []


def test_always_restarts_even_a_clean_exit(
    procs: Procs, supervisors: list[Supervisor], tmp_path: Path
) -> None:
    """ALWAYS restarts a process that exited 0, within the same limit."""
    count = tmp_path / "always.count"
    spec = procs.spec(
        "always", counting_script(count, exit_code=0), restart=RestartPolicy.ALWAYS, max_restarts=1
    )
    run_until_given_up(supervisors, spec)

    assert runs(count) == 2


def test_failed_restarts_count_and_end_in_giving_up(
    procs: Procs, supervisors: list[Supervisor], tmp_path: Path
) -> None:
    """A restart that never gets ready (or cannot even launch) counts as a restart; then it gives up."""
    probe_answers = iter([None])
    prepare_calls: list[int] = []

    def prepare() -> None:
        prepare_calls.append(1)
        if len(prepare_calls) == 3:
            raise OSError("disk full")

    count = tmp_path / "flaky.count"
    spec = procs.spec(
        "flaky",
        counting_script(count, exit_code=1, linger_s=0.05),
        probe=lambda: next(probe_answers, "refuses connections"),
        prepare=prepare,
        max_restarts=3,
        ready_timeout_s=5.0,
    )
    run_until_given_up(supervisors, spec)

    assert len(prepare_calls) == 1 + 3
    assert runs(count) == 1 + 3 - 1


# --- shutdown ----------------------------------------------------------------------------------


def test_shutdown_stops_in_reverse_order_then_runs_cleanup(
    procs: Procs, supervisors: list[Supervisor], tmp_path: Path
) -> None:
    """Shutdown stops processes last-started first, then runs the hooks (last added first)."""
    stops = tmp_path / "stops.txt"
    specs = [procs.spec(name, records_stop(name, stops)) for name in ("db", "cache", "web")]
    hooks: list[tuple[str, bool]] = []

    def hook(name: str) -> None:
        hooks.append((name, any(pid_running(p) for p in pids)))

    supervisor = supervise(
        supervisors, specs, cleanup=[lambda: hook("first-added"), lambda: hook("last-added")]
    )
    supervisor.start()
    pids = [pid_of(spec) for spec in specs]

    supervisor.shutdown()

    assert stops.read_text().split() == ["web", "cache", "db"]
    assert hooks == [("last-added", False), ("first-added", False)]
    assert not any(spec.pid_file.exists() for spec in specs)
    supervisor.shutdown()
    assert hooks == [("last-added", False), ("first-added", False)]


def test_request_stop_from_another_thread_ends_run_forever(
    procs: Procs, supervisors: list[Supervisor]
) -> None:
    """``request_stop`` from any thread makes ``run_forever`` return after stopping everything."""
    spec = procs.spec("svc", script_argv(SLEEPS))
    supervisor = supervise(supervisors, [spec])
    supervisor.start()
    pid = pid_of(spec)

    def stop_once_running() -> None:
        wait_until(lambda: log_contains(spec.log_file, "ready")() is None)
        supervisor.request_stop()

    stopper = threading.Thread(target=stop_once_running)

    stopper.start()
    supervisor.run_forever()
    stopper.join(timeout=10)

    assert not pid_running(pid)
    assert not spec.pid_file.exists()


def test_sigterm_ends_run_forever_after_installing_handlers(
    procs: Procs, supervisors: list[Supervisor]
) -> None:
    """With the handlers installed, SIGTERM to the process asks the loop to stop."""
    spec = procs.spec("svc", script_argv(SLEEPS))
    supervisor = supervise(supervisors, [spec])
    previous = {signo: signal.getsignal(signo) for signo in (signal.SIGINT, signal.SIGTERM)}
    try:
        supervisor.install_signal_handlers()
        supervisor.start()
        pid = pid_of(spec)

        os.kill(os.getpid(), signal.SIGTERM)
        supervisor.run_forever()

        assert not pid_running(pid)
    finally:
        for signo, handler in previous.items():
            signal.signal(signo, handler)


def test_a_given_up_process_is_left_alone(
    procs: Procs, supervisors: list[Supervisor], tmp_path: Path
) -> None:
    """Once the supervisor gave up on a process, later checks neither restart nor log it again."""
    count = tmp_path / "done.count"
    spec = procs.spec("done", counting_script(count, exit_code=1), restart=RestartPolicy.NEVER)
    supervisor = supervise(supervisors, [spec])
    supervisor.start()
    child = supervisor._children[0]
    assert child.proc is not None
    child.proc.wait(timeout=10)
    supervisor._check(child)
    assert child.given_up

    for _ in range(3):
        supervisor._check(child)

    assert runs(count) == 1
    assert child.restarts == 0


def test_shutdown_leaves_a_process_it_cannot_vouch_for(procs: Procs, supervisors: list[Supervisor]) -> None:
    """A child whose PID file vanished is not killed blindly; it is handed off without a warning."""
    spec = procs.spec("orphan", script_argv(SLEEPS))
    supervisor = supervise(supervisors, [spec])
    supervisor.start()
    proc = supervisor._children[0].proc
    assert proc is not None
    procs.track(proc)
    spec.pid_file.unlink()

    supervisor.shutdown()

    assert proc.poll() is None
    assert supervisor._children == []
