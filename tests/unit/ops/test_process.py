"""Launching, probing and stopping real child processes by their PID files."""

from __future__ import annotations

import json
import os
import pwd
import signal
import subprocess
import time
from pathlib import Path

import pytest

from folio.ops import process as process_module
from folio.ops.health import command_probe, http_probe, tcp_probe
from folio.ops.process import (
    ProcessError,
    RestartPolicy,
    RunningProcess,
    detach,
    read_pid_file,
    stop,
    wait_ready,
)
from tests.conftest import free_port
from tests.unit.ops.conftest import (
    IGNORES_SIGTERM,
    PY,
    SLEEPS,
    Procs,
    http_server_argv,
    never_ready,
    pid_running,
    script_argv,
    wait_until,
)

pytestmark = pytest.mark.unit


# --- launch ------------------------------------------------------------------------------------


def test_launch_records_pid_and_logs_output(procs: Procs, tmp_path: Path) -> None:
    """``launch`` starts the process in its own session, logs its output and writes its PID file."""
    spec = procs.spec("echo", script_argv(SLEEPS), env={"FOLIO_TEST_MARK": "x"})

    proc = procs.launch(spec)
    wait_ready(spec, proc)

    record = read_pid_file(spec.pid_file)
    assert record is not None
    assert (record.name, record.pid, record.executable) == ("echo", proc.pid, Path(PY).name)
    assert record.start_ticks is not None
    assert record.is_alive()
    assert os.getsid(proc.pid) == proc.pid
    assert "ready" in spec.log_file.read_text()


def test_launch_passes_env_and_cwd_and_runs_prepare_first(procs: Procs, tmp_path: Path) -> None:
    """``prepare`` runs before the start; the process sees the spec's env and working folder."""
    work = tmp_path / "work"
    code = "import os; print(os.environ['FOLIO_MARK'], os.getcwd(), open('prepared').read(), 'ready')"

    def prepare() -> None:
        work.mkdir()
        (work / "prepared").write_text("yes")

    spec = procs.spec("env", script_argv(code), env={"FOLIO_MARK": "marked"}, cwd=work, prepare=prepare)

    wait_ready(spec, procs.launch(spec))

    assert spec.log_file.read_text().split() == ["marked", str(work), "yes", "ready"]


def test_launch_appends_to_an_existing_log(procs: Procs) -> None:
    """A restart appends to the log rather than truncating the previous run's output."""
    spec = procs.spec("twice", script_argv("print('ran', flush=True)"))
    for _ in range(2):
        assert procs.launch(spec).wait(timeout=10) == 0

    assert spec.log_file.read_text().split() == ["ran", "ran"]


def test_executable_is_the_base_name_of_argv0(procs: Procs) -> None:
    """The name checked against /proc is the program's base name."""
    assert procs.spec("x", ["/usr/lib/postgresql/15/bin/postgres", "-D", "d"]).executable == "postgres"


def test_spec_defaults(procs: Procs) -> None:
    """A spec restarts on failure, a few times, stopping with SIGTERM, unless told otherwise."""
    spec = procs.spec("d", script_argv("pass"))

    assert spec.restart is RestartPolicy.ON_FAILURE
    assert spec.max_restarts == 3
    assert spec.stop_signal.name == "SIGTERM"


# --- wait_ready --------------------------------------------------------------------------------


def test_wait_ready_with_http_probe_and_after_ready(procs: Procs, tmp_path: Path) -> None:
    """An HTTP server becomes ready through ``http_probe``; ``after_ready`` then runs once."""
    port = free_port()
    calls: list[str] = []
    spec = procs.spec(
        "web",
        http_server_argv(port, tmp_path),
        probe=http_probe(f"http://127.0.0.1:{port}/"),
        after_ready=lambda: calls.append("after"),
    )

    wait_ready(spec, procs.launch(spec))

    assert calls == ["after"]
    assert http_probe(f"http://127.0.0.1:{port}/")() is None


def test_wait_ready_with_tcp_probe(procs: Procs, tmp_path: Path) -> None:
    """``tcp_probe`` passes once the server accepts connections."""
    port = free_port()
    spec = procs.spec("tcp", http_server_argv(port, tmp_path), probe=tcp_probe("127.0.0.1", port))

    wait_ready(spec, procs.launch(spec))

    assert tcp_probe("127.0.0.1", port)() is None


def test_wait_ready_without_a_process_only_probes(procs: Procs, tmp_path: Path) -> None:
    """For a process started earlier (no Popen at hand) the probe alone decides."""
    port = free_port()
    spec = procs.spec("again", http_server_argv(port, tmp_path), probe=tcp_probe("127.0.0.1", port))
    wait_ready(spec, procs.launch(spec))

    wait_ready(spec)

    record = read_pid_file(spec.pid_file)
    assert record is not None
    assert record.is_alive()


def test_wait_ready_fails_fast_when_the_process_exits(procs: Procs) -> None:
    """A process that dies before it is ready fails at once with its exit code and its log."""
    spec = procs.spec(
        "crasher",
        script_argv("import sys; print('cannot bind', flush=True); sys.exit(1)"),
        probe=never_ready,
        ready_timeout_s=60.0,
    )

    with pytest.raises(ProcessError) as excinfo:
        wait_ready(spec, procs.launch(spec))

    message = str(excinfo.value)
    assert "crasher exited with code 1" in message
    assert str(spec.log_file) in message
    assert "cannot bind" in spec.log_file.read_text()


def test_wait_ready_times_out_naming_the_reason_and_log(procs: Procs) -> None:
    """A process that never passes its probe fails after ``ready_timeout_s`` with the probe's reason."""
    spec = procs.spec("slow", script_argv(SLEEPS), probe=never_ready, ready_timeout_s=0.3)
    proc = procs.launch(spec)

    with pytest.raises(ProcessError) as excinfo:
        wait_ready(spec, proc)

    message = str(excinfo.value)
    assert "slow was not ready after 0.3s" in message
    assert "still warming up" in message
    assert str(spec.log_file) in message
    assert proc.poll() is None


# --- stop --------------------------------------------------------------------------------------


def test_stop_terminates_and_removes_the_pid_file(procs: Procs) -> None:
    """``stop`` ends a running process, reports it stopped it and removes the PID file."""
    spec = procs.spec("sleeper", script_argv(SLEEPS))
    proc = procs.launch(spec)
    wait_ready(spec, proc)

    assert stop(spec) is True

    assert not pid_running(proc.pid)
    assert not spec.pid_file.exists()


def test_stop_reaps_a_detached_child_through_its_popen(procs: Procs) -> None:
    """A detached server stopped by PID is reaped through its kept ``Popen`` (no "still running" warning)."""
    spec = procs.spec("sleeper", script_argv(SLEEPS))
    proc = procs.launch(spec)
    wait_ready(spec, proc)
    detach(proc)

    assert stop(spec) is True

    assert proc.returncode is not None
    assert proc not in process_module._detached


def test_stop_signals_the_whole_process_group(procs: Procs, tmp_path: Path) -> None:
    """Children the process started (same group) are stopped with it."""
    child_pid_file = tmp_path / "grandchild.pid"
    code = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen(['sleep', '120'])\n"
        "open(sys.argv[1], 'w').write(str(child.pid))\n"
        "print('ready', flush=True)\n"
        "time.sleep(120)\n"
    )
    spec = procs.spec("parent", script_argv(code, str(child_pid_file)))
    proc = procs.launch(spec)
    wait_ready(spec, proc)
    grandchild = int(child_pid_file.read_text())
    assert pid_running(grandchild)

    assert stop(spec) is True

    assert not pid_running(proc.pid)
    assert wait_until(lambda: not pid_running(grandchild))


def test_stop_escalates_to_sigkill(procs: Procs) -> None:
    """A process that ignores SIGTERM is killed after ``stop_timeout_s``."""
    spec = procs.spec("stubborn", script_argv(IGNORES_SIGTERM), stop_timeout_s=0.3)
    proc = procs.launch(spec)
    wait_ready(spec, proc)

    assert stop(spec) is True

    assert not pid_running(proc.pid)
    assert not spec.pid_file.exists()


def test_stop_refuses_a_pid_running_another_program(procs: Procs) -> None:
    """A PID file whose PID now runs something else (here: this test) is removed, nothing is killed."""
    spec = procs.spec("impostor", ["/opt/folio/bin/definitely-not-pytest"])
    spec.pid_file.parent.mkdir(parents=True)
    record = {
        "name": "impostor",
        "pid": os.getpid(),
        "executable": spec.executable,
        "started_at": time.time(),
    }
    spec.pid_file.write_text(json.dumps(record))

    assert stop(spec) is False

    assert pid_running(os.getpid())
    assert not spec.pid_file.exists()


def test_stop_refuses_a_reused_pid_running_the_same_program(procs: Procs) -> None:
    """Same executable but a different kernel start time means a reused PID: not ours, not killed."""
    bystander = procs.track(subprocess.Popen(script_argv("import time; time.sleep(120)")))
    spec = procs.spec("reused", script_argv(SLEEPS))
    spec.pid_file.parent.mkdir(parents=True)
    record = {
        "name": "reused",
        "pid": bystander.pid,
        "executable": spec.executable,
        "started_at": time.time(),
        "start_ticks": 1,
    }
    spec.pid_file.write_text(json.dumps(record))
    assert wait_until(RunningProcess("reused", bystander.pid, spec.executable, time.time()).is_alive)

    assert stop(spec) is False

    assert bystander.poll() is None
    assert not spec.pid_file.exists()


def test_stop_with_a_stale_pid_file(procs: Procs) -> None:
    """A PID file left by a process that already exited is cleaned up; nothing is reported stopped."""
    spec = procs.spec("gone", script_argv("pass"))
    procs.launch(spec).wait(timeout=10)

    assert stop(spec) is False
    assert not spec.pid_file.exists()


def test_stop_without_a_pid_file(procs: Procs) -> None:
    """Stopping what was never started does nothing."""
    assert stop(procs.spec("never", script_argv("pass"))) is False


# --- PID files and liveness --------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        "",
        "not json",
        "[]",
        "42",
        "{}",
        '{"name": "x", "pid": "twelve", "executable": "x", "started_at": 1}',
        '{"name": "x", "pid": 12, "executable": "x"}',
        '{"name": "x", "pid": 12, "executable": "x", "started_at": 1, "start_ticks": "soon"}',
    ],
)
def test_read_pid_file_on_garbage_is_none(tmp_path: Path, content: str) -> None:
    """An unreadable or incomplete PID file reads as no process at all."""
    path = tmp_path / "x.pid"
    path.write_text(content)

    assert read_pid_file(path) is None


def test_read_pid_file_missing_is_none(tmp_path: Path) -> None:
    """A missing PID file reads as no process."""
    assert read_pid_file(tmp_path / "absent.pid") is None


def test_read_pid_file_without_start_ticks(tmp_path: Path) -> None:
    """PID files written before start times were recorded still read, with no start time."""
    path = tmp_path / "old.pid"
    path.write_text('{"name": "x", "pid": 12, "executable": "x", "started_at": 1.5}')

    assert read_pid_file(path) == RunningProcess("x", 12, "x", 1.5, None)


def test_zombie_is_not_alive(procs: Procs) -> None:
    """A child that exited but was not reaped yet counts as gone."""
    proc = procs.track(subprocess.Popen(script_argv("pass")))
    assert wait_until(lambda: not pid_running(proc.pid))
    assert Path(f"/proc/{proc.pid}").exists()

    assert not RunningProcess("z", proc.pid, Path(PY).name, time.time()).is_alive()


def test_unknown_pid_is_not_alive() -> None:
    """A PID with no process behind it is not alive."""
    assert not RunningProcess("n", 2**22 + 1, "python", 0.0).is_alive()


# --- probes ------------------------------------------------------------------------------------


def test_tcp_probe_reports_refused_connections() -> None:
    """Nothing listening: the probe says which address refuses."""
    port = free_port()

    reason = tcp_probe("127.0.0.1", port, timeout_s=0.5)()

    assert reason is not None
    assert f"127.0.0.1:{port} refuses connections" in reason


def test_http_probe_reports_transport_errors() -> None:
    """An unreachable URL names the request and the kind of failure."""
    url = f"http://127.0.0.1:{free_port()}/health"

    reason = http_probe(url, timeout_s=0.5)()

    assert reason == f"GET {url} failed (ConnectError)"


def test_http_probe_checks_the_status(procs: Procs, tmp_path: Path) -> None:
    """An unexpected status is a reason; listing it in ``expect`` makes it healthy."""
    port = free_port()
    spec = procs.spec("status", http_server_argv(port, tmp_path), probe=tcp_probe("127.0.0.1", port))
    wait_ready(spec, procs.launch(spec))
    url = f"http://127.0.0.1:{port}/missing"

    assert http_probe(url)() == f"GET {url} answered 404"
    assert http_probe(url, expect=(200, 404))() is None


def test_command_probe_success() -> None:
    """A command that exits 0 is healthy."""
    assert command_probe(script_argv("pass"))() is None


def test_command_probe_failure_reports_last_line() -> None:
    """A failing command reports the last line it wrote (stderr first)."""
    code = "import sys; print('first'); sys.stderr.write('starting\\nno server on port 5432\\n'); sys.exit(2)"

    assert command_probe(script_argv(code))() == f"{PY}: no server on port 5432"


def test_command_probe_failure_without_output_reports_exit_code() -> None:
    """A silent failing command reports its exit code."""
    assert command_probe(script_argv("raise SystemExit(3)"))() == f"{PY}: exit 3"


def test_command_probe_missing_program() -> None:
    """A program that does not exist is a failure, not an exception."""
    reason = command_probe(["/nonexistent/folio-probe"])()

    assert reason is not None
    assert reason.startswith("/nonexistent/folio-probe failed")


def test_command_probe_timeout() -> None:
    """A command that hangs past the timeout is a failure."""
    reason = command_probe(script_argv("import time; time.sleep(30)"), timeout_s=0.2)()

    assert reason is not None
    assert "timed out" in reason


def test_launch_as_another_user_with_that_users_groups(procs: Procs) -> None:
    """``user`` runs the process as that account, with its own groups rather than root's."""
    nobody = pwd.getpwnam("nobody")
    spec = procs.spec("as-nobody", ["/bin/sh", "-c", "echo uid=$(id -u) groups=$(id -G)"], user="nobody")

    assert procs.launch(spec).wait(timeout=10) == 0

    assert spec.log_file.read_text().split() == [f"uid={nobody.pw_uid}", f"groups={nobody.pw_gid}"]


def test_stop_handles_pid_files_without_start_ticks(procs: Procs) -> None:
    """A PID file from before start times were recorded still lets ``stop`` end its process."""
    spec = procs.spec("legacy", script_argv(SLEEPS))
    proc = procs.launch(spec)
    wait_ready(spec, proc)
    record = json.loads(spec.pid_file.read_text())
    del record["start_ticks"]
    spec.pid_file.write_text(json.dumps(record))

    assert stop(spec) is True

    assert not pid_running(proc.pid)


def test_signal_falls_back_to_the_process_when_the_group_is_off_limits(
    procs: Procs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When signalling the group is not permitted, the recorded process itself is signalled."""
    spec = procs.spec("lonely", script_argv(SLEEPS))
    proc = procs.launch(spec)
    wait_ready(spec, proc)

    def forbidden(_pgid: int, _signo: int) -> None:
        raise PermissionError("not permitted")

    monkeypatch.setattr(os, "killpg", forbidden)

    assert stop(spec) is True
    assert not pid_running(proc.pid)


def test_signalling_a_vanished_group_is_harmless(procs: Procs) -> None:
    """A group that no longer exists (the process just exited) is not an error."""
    proc = procs.track(subprocess.Popen(script_argv("pass"), start_new_session=True))
    proc.wait(timeout=10)

    process_module._signal_group(proc.pid, signal.SIGTERM)

    assert process_module._start_ticks(proc.pid) is None


def test_a_zombie_counts_as_exited_even_with_its_start_time(procs: Procs) -> None:
    """While waiting for a stop, a process that became a zombie (not reaped yet) has exited."""
    proc = procs.track(subprocess.Popen(script_argv("import sys; sys.stdin.read()"), stdin=subprocess.PIPE))
    assert proc.stdin is not None
    assert wait_until(RunningProcess("z", proc.pid, Path(PY).name, time.time()).is_alive)
    ticks = process_module._start_ticks(proc.pid)
    record = RunningProcess("z", proc.pid, Path(PY).name, time.time(), ticks)
    assert not process_module._exited(record)

    proc.stdin.close()
    assert wait_until(lambda: not pid_running(proc.pid))

    assert process_module._exited(record)
