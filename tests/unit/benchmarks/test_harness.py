"""The benchmark harness reads wrk's report correctly and writes its result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchmarks import harness
from benchmarks.harness import BenchResult, Measurement, parse_wrk, wrk_script

pytestmark = pytest.mark.unit

# Recorded from a real `wrk -t1 -c2 -d2s --latency` run against python -m http.server.
RECORDED = (Path(__file__).parent / "wrk_report_recorded.txt").read_text()


def test_parse_recorded_wrk_report() -> None:
    """Requests, duration, throughput and percentiles come from the matching lines."""
    measured = parse_wrk(RECORDED, "peer")
    assert measured.requests == 1527
    assert measured.seconds == 2.0
    assert measured.rps == 762.04
    assert measured.p50_ms == pytest.approx(1.69)
    assert measured.p99_ms == pytest.approx(10.03)
    assert measured.errors == 0


def test_errors_add_non_2xx_and_socket_errors() -> None:
    """Non-2xx responses and every kind of socket error count as errors."""
    extra = "  Socket errors: connect 1, read 2, write 0, timeout 3\n  Non-2xx or 3xx responses: 4\n"
    report = RECORDED.replace("Requests/sec:", extra + "Requests/sec:")
    assert parse_wrk(report, "peer").errors == 10


def test_latency_units_are_normalised_to_ms() -> None:
    """Microseconds and seconds are converted to milliseconds."""
    report = RECORDED.replace("1.69ms", "850.00us").replace("10.03ms", "1.20s")
    measured = parse_wrk(report, "peer")
    assert measured.p50_ms == pytest.approx(0.85)
    assert measured.p99_ms == pytest.approx(1200.0)


def test_truncated_report_is_an_error() -> None:
    """A report missing its throughput line fails loudly instead of reporting zero."""
    with pytest.raises(ValueError, match="Requests/sec"):
        parse_wrk(RECORDED.split("Requests/sec")[0], "peer")


def test_result_is_written_as_json_with_its_ratio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """write() saves both sides, the ratio and the machine; line() states the ratio."""
    monkeypatch.setattr(harness, "RESULTS_DIR", tmp_path)
    side = Measurement("folio", 100, 1.0, 100.0, 1.0, 2.0, 0)
    result = BenchResult("demo", "a demo", side, side, "folio/peer req/s", 1.0)
    saved = json.loads(result.write().read_text())
    assert saved["ratio"] == 1.0
    assert saved["machine"]["cpu_count"] >= 1
    assert result.line().startswith("demo: folio/peer req/s = 1.00")


def test_a_tiny_ratio_keeps_two_significant_digits() -> None:
    """A ratio below 0.01 is not printed as 0.00 (the PDF index vs tantivy is one)."""
    measurement = Measurement(label="x", requests=1, seconds=1.0, rps=1.0, p50_ms=1.0, p99_ms=1.0, errors=0)
    result = BenchResult(
        name="tiny",
        description="tiny",
        folio=measurement,
        peer=measurement,
        ratio_label="folio/peer",
        ratio=0.00055,
    )
    assert result.line().startswith("tiny: folio/peer = 0.00055 ")


def test_wrk_script_rotates_paths_and_reports_p95() -> None:
    """Paths are quoted for Lua (quotes and backslashes escaped) and the script prints p95."""
    script = wrk_script(['/search?q="lear"', "/a\\b"])
    assert '"/search?q=\\"lear\\""' in script
    assert '"/a\\\\b"' in script
    assert "latency:percentile(95)" in script
    with pytest.raises(ValueError, match="at least one path"):
        wrk_script([])


def test_parse_wrk_reads_the_p95_line() -> None:
    """The p95 the script prints (microseconds) becomes milliseconds; absent, it stays None."""
    with_p95 = RECORDED + "p95_us 2500\n"
    assert parse_wrk(with_p95, "x").p95_ms == 2.5
    assert parse_wrk(RECORDED, "x").p95_ms is None


def test_cpu_seconds_of_a_process_grow_with_its_work() -> None:
    """``process_cpu_seconds`` reads this process's own user + system time from /proc."""
    import os
    import time

    before = harness.process_cpu_seconds(os.getpid())
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:
        pass
    assert harness.process_cpu_seconds(os.getpid()) - before >= 0.1


def test_a_line_names_cpu_per_request_where_it_was_measured() -> None:
    """The one-line summary carries each side's CPU per request when the benchmark read it."""
    folio = Measurement("folio", 100, 1.0, 100.0, 1.0, 2.0, 0, cpu_ms_per_request=1.5)
    peer = Measurement("peer", 50, 1.0, 50.0, 1.0, 4.0, 0)
    line = BenchResult.comparing(
        "doc", name="x", folio=folio, peer=peer, ratio_label="r", parameters={}
    ).line()
    assert "folio 100 req/s p99 2.0 ms cpu 1.50 ms/req; peer 50 req/s p99 4.0 ms)" in line


def test_a_server_that_never_answers_is_reported_with_what_it_said() -> None:
    """``serve_process`` gives up on a server that exits early, quoting its stderr."""
    import sys

    argv = [sys.executable, "-c", "import sys; sys.exit('no such app: demo')"]
    served = harness.serve_process(argv, {}, port=harness.free_port(), ready_path="/")
    with pytest.raises(RuntimeError, match="no such app: demo"), served:
        pass
