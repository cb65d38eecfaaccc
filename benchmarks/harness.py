"""What every benchmark reports, and the load generator they share."""

from __future__ import annotations

import json
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

RESULTS_DIR = Path(".folio/bench")


@dataclass(frozen=True)
class Measurement:
    """One side of a comparison."""

    label: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    p95_ms: float | None = None
    cpu_ms_per_request: float | None = None
    """Server CPU (user + system) per request, where the benchmark read it from ``/proc``."""

    def describe(self) -> str:
        """``<label> <req/s> req/s p99 <ms> ms`` (and CPU per request where known)."""
        cpu = f" cpu {self.cpu_ms_per_request:.2f} ms/req" if self.cpu_ms_per_request is not None else ""
        return f"{self.label} {self.rps:.0f} req/s p99 {self.p99_ms:.1f} ms{cpu}"


@dataclass(frozen=True)
class BenchResult:
    """A benchmark's outcome: Folio beside its peer, and the ratio between them."""

    name: str
    description: str
    folio: Measurement
    peer: Measurement
    ratio_label: str
    ratio: float
    parameters: dict[str, object] = field(default_factory=dict)

    @classmethod
    def comparing(
        cls,
        module_doc: str | None,
        *,
        name: str,
        folio: Measurement,
        peer: Measurement,
        ratio_label: str,
        parameters: dict[str, object],
    ) -> BenchResult:
        """``folio`` beside ``peer``, with Folio's throughput over the peer's as the ratio.

        The description is the first line of the benchmark module's docstring.
        """
        return cls(
            name=name,
            description=module_doc.splitlines()[0] if module_doc else name,
            folio=folio,
            peer=peer,
            ratio_label=ratio_label,
            ratio=folio.rps / peer.rps,
            parameters=parameters,
        )

    def write(self) -> Path:
        """Save as JSON under ``.folio/bench/`` with the machine it ran on."""
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        path = RESULTS_DIR / f"{self.name}.json"
        payload = {
            **asdict(self),
            "machine": {
                "python": platform.python_version(),
                "cpu_count": _cpus(),
                "platform": platform.platform(),
            },
            "finished_at": datetime.now(UTC).isoformat(),
        }
        path.write_text(json.dumps(payload, indent=2))
        return path

    def line(self) -> str:
        """The one-line summary ``make bench`` prints."""
        return (
            f"{self.name}: {self.ratio_label} = {_ratio_text(self.ratio)} "
            f"({self.folio.describe()}; {self.peer.describe()})"
        )


def _ratio_text(ratio: float) -> str:
    """Two decimals, or two significant digits for a ratio too small for two decimals to show."""
    return f"{ratio:.2f}" if ratio >= 0.01 else f"{ratio:.2g}"  # noqa: PLR2004 - the display threshold


def _cpus() -> int:
    return os.cpu_count() or 0


def ensure_wrk() -> str:
    """The path of ``wrk`` (Debian's HTTP load generator), installing it when missing."""
    import shutil

    from folio.ops.install import install
    from folio.ops.service import AptPackage

    wrk = AptPackage("wrk", "wrk")
    if not wrk.is_present():
        install([wrk], RESULTS_DIR.absolute() / "install.log")
    path = shutil.which("wrk")
    if path is None:
        raise RuntimeError("wrk is not on PATH after installing it")
    return path


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _to_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip())
    if match is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _wrk_field(pattern: str, out: str) -> str:
    match = re.search(pattern, out, re.MULTILINE)
    if match is None:
        raise ValueError(f"wrk output lacks {pattern!r}:\n{out}")
    return match.group(1)


_WRK_SCRIPT = """
local paths = {%s}
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("p95_us %%d\\n", latency:percentile(95)))
end
"""


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk_script(paths: Sequence[str]) -> str:
    """A wrk Lua script that sends ``paths`` in turn and prints the 95th latency percentile."""
    if not paths:
        raise ValueError("wrk_script needs at least one path")
    return _WRK_SCRIPT % ", ".join(_lua_string(path) for path in paths)


def http_load(
    url: str,
    *,
    seconds: int,
    connections: int,
    label: str,
    headers: dict[str, str] | None = None,
    paths: Sequence[str] | None = None,
) -> Measurement:
    """Load ``url`` with wrk (2 threads, ``connections`` keep-alive connections) for ``seconds``.

    wrk runs as its own native process, so it does not steal the server's event loop
    the way an in-process Python client would. ``headers`` go on every request;
    ``paths`` (on ``url``'s host) are requested in turn instead of ``url``'s own path.
    """
    split = urlsplit(url)
    rotation = list(paths) if paths else [split.path + (f"?{split.query}" if split.query else "")]
    header_args = [arg for name, value in (headers or {}).items() for arg in ("-H", f"{name}: {value}")]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(wrk_script(rotation))
    try:
        argv = [ensure_wrk(), "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name]
        done = subprocess.run(
            [*argv, *header_args, url],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 30,
        )
    finally:
        Path(script.name).unlink()
    return parse_wrk(done.stdout, label)


def measure_http(
    url: str,
    *,
    label: str,
    seconds: int,
    connections: int,
    headers: dict[str, str] | None = None,
    paths: Sequence[str] | None = None,
    warmup_s: int = 2,
) -> Measurement:
    """``http_load`` after an unmeasured warm-up of ``warmup_s`` (pools filled, caches warm)."""
    for duration in (warmup_s, seconds):
        measured = http_load(
            url, seconds=duration, connections=connections, label=label, headers=headers, paths=paths
        )
    return measured


def parse_wrk(out: str, label: str) -> Measurement:
    """The measurement in wrk's ``--latency`` report; errors add non-2xx and socket errors."""
    error_counts = re.findall(r"(?:Non-2xx or 3xx responses|connect|read|write|timeout):? (\d+)", out)
    errors = sum(int(count) for count in error_counts)
    return Measurement(
        label=label,
        requests=int(_wrk_field(r"(\d+) requests in", out)),
        seconds=float(_wrk_field(r"requests in ([\d.]+)s", out)),
        rps=float(_wrk_field(r"Requests/sec:\s+([\d.]+)", out)),
        p50_ms=_to_ms(_wrk_field(r"^\s*50%\s+(\S+)$", out)),
        p99_ms=_to_ms(_wrk_field(r"^\s*99%\s+(\S+)$", out)),
        errors=errors,
        p95_ms=_p95_ms(out),
    )


def _p95_ms(out: str) -> float | None:
    """The 95th percentile ``wrk_script``'s ``done`` printed (microseconds), if it did."""
    match = re.search(r"^p95_us (\d+)$", out, re.MULTILINE)
    return int(match.group(1)) / 1000 if match else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Served:
    """A server process a benchmark started: where it answers, and its pid (for its CPU time)."""

    base: str
    pid: int

    def cpu_seconds(self) -> float:
        """User + system CPU time the process has used so far (``/proc/<pid>/stat``)."""
        return process_cpu_seconds(self.pid)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` (fields 14 and 15 of ``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


@contextmanager
def serve_process(
    argv: Sequence[str],
    env: dict[str, str],
    *,
    port: int,
    ready_path: str,
    cwd: Path | None = None,
    stop_timeout_s: float = 15,
) -> Iterator[Served]:
    """Run the server ``argv`` (listening on ``port``) until it answers ``ready_path``; stop it after.

    Stopping is SIGTERM, then up to ``stop_timeout_s`` for the process to exit.
    """
    # A file, not a pipe: a server that logs under load must never block on a full pipe.
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            argv, env={**os.environ, **env}, cwd=cwd, stdout=subprocess.DEVNULL, stderr=errors
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    if httpx.get(base + ready_path, timeout=1).is_success:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            else:
                errors.seek(0)
                said = errors.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"{' '.join(argv[:5])} did not answer {ready_path}: {said}")
            yield Served(base=base, pid=proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=stop_timeout_s)


def uvicorn_argv(python: str, app: str, port: int, *, factory: bool) -> list[str]:
    """The uvicorn command both sides of a comparison run: one worker, no uvicorn access log."""
    argv = [python, "-m", "uvicorn", *(["--factory"] if factory else []), app, "--port", str(port)]
    return [*argv, "--log-level", "warning", "--no-access-log"]


@contextmanager
def serve_app(factory: str, env: dict[str, str], *, ready_path: str = "/healthz") -> Iterator[str]:
    """Run the uvicorn app ``factory`` in its own process on loopback; yield its base URL.

    Both sides of a comparison run this way, with the same uvicorn settings (one worker,
    no access log of uvicorn's own), one at a time.
    """
    port = free_port()
    argv = uvicorn_argv(sys.executable, factory, port, factory=True)
    with serve_process(argv, env, port=port, ready_path=ready_path) as served:
        yield served.base
