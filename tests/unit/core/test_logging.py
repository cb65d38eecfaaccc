"""Structured logging: the line schema, correlation ids everywhere, levels, sampling, rotation."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import structlog

from folio.core.logging import (
    LOG_SCHEMA,
    bind_request_context,
    configure_logging,
    correlation_id,
    new_correlation_id,
    request_context,
    shutdown_logging,
)
from folio.core.logging.context import accept_correlation_id, trace_id_from
from folio.core.logging.sampling import EventSampler
from folio.core.logging.setup import LoggingRuntime
from folio.core.settings.logging import LoggingSettings
from folio.core.settings.services import SearchSettings
from tests.conftest import free_port

pytestmark = pytest.mark.unit

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"

Configure = Callable[..., LoggingRuntime]


def seeded(seed: int) -> random.Random:
    """A seeded generator, so sampling tests are deterministic."""
    return random.Random(seed)  # noqa: S311 - sampling needs repeatability, not secrecy


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    """Where the configured file handler writes."""
    return tmp_path / "logs" / "folio.jsonl"


@pytest.fixture
def stdout() -> io.StringIO:
    """Stands in for stdout, so console lines can be read back."""
    return io.StringIO()


@pytest.fixture
def configure(log_file: Path, stdout: io.StringIO) -> Iterator[Configure]:
    """``configure(**logging_settings)`` sets Folio's logging up; undone (levels too) afterwards."""
    root = logging.getLogger()
    saved_level = root.level
    touched: set[str] = set()

    def configure_(
        *, log_format: str | None = None, service: str = "test-svc", **values: Any
    ) -> LoggingRuntime:
        values.setdefault("file", log_file)
        settings = LoggingSettings(**values)
        touched.update(settings.levels)
        return configure_logging(settings, service=service, log_format=log_format, stream=stdout)

    yield configure_
    shutdown_logging()
    root.setLevel(saved_level)
    for name in touched:
        logging.getLogger(name).setLevel(logging.NOTSET)


def read_lines(path: Path) -> list[dict[str, Any]]:
    """Every JSON line written to ``path``."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def events(path: Path) -> list[str]:
    """The ``event`` of every line written to ``path``."""
    return [line["event"] for line in read_lines(path)]


def folio_handlers() -> list[logging.Handler]:
    """Handlers on the root logger that Folio installed."""
    return [h for h in logging.getLogger().handlers if h.get_name() == "folio"]


# --- the line schema ---------------------------------------------------------------------------


def test_lines_are_json_with_the_schema_fields(configure: Configure, log_file: Path) -> None:
    """A structlog line is one JSON object with ts, level, event, logger, service and its context."""
    configure(service="gateway")

    structlog.get_logger("folio.orders").info("order.placed", order_id=42)

    (line,) = read_lines(log_file)
    assert {"ts", "level", "event", "logger", "service"} <= set(LOG_SCHEMA)
    assert (line["event"], line["level"], line["logger"], line["service"]) == (
        "order.placed",
        "info",
        "folio.orders",
        "gateway",
    )
    assert line["order_id"] == 42
    assert datetime.fromisoformat(line["ts"]).utcoffset() == UTC.utcoffset(None)


def test_stdlib_lines_share_the_schema(configure: Configure, log_file: Path) -> None:
    """Third-party (standard library) loggers produce the same JSON shape, message formatted."""
    configure(service="worker")

    logging.getLogger("uvicorn.error").warning("listening on %s", "127.0.0.1:8000")

    (line,) = read_lines(log_file)
    assert (line["event"], line["level"], line["logger"], line["service"]) == (
        "listening on 127.0.0.1:8000",
        "warning",
        "uvicorn.error",
        "worker",
    )
    assert "ts" in line


def test_exceptions_carry_the_formatted_traceback(configure: Configure, log_file: Path) -> None:
    """``log.exception`` lines are errors with the traceback in ``exception``."""
    configure()

    try:
        _ = 1 / 0
    except ZeroDivisionError:
        structlog.get_logger("folio.t").exception("job.failed")

    (line,) = read_lines(log_file)
    assert line["level"] == "error"
    assert "ZeroDivisionError" in line["exception"]


# --- correlation ids ---------------------------------------------------------------------------


def test_request_context_binds_ids_on_structlog_and_stdlib_lines(
    configure: Configure, log_file: Path
) -> None:
    """Inside ``request_context`` both kinds of line carry the correlation and trace ids."""
    configure()

    with request_context("req-1", trace_id=TRACE_ID):
        structlog.get_logger("folio.a").info("inside.structlog")
        logging.getLogger("lib.b").warning("inside.stdlib")
    structlog.get_logger("folio.a").info("outside")

    inside_struct, inside_std, outside = read_lines(log_file)
    for line in (inside_struct, inside_std):
        assert (line["correlation_id"], line["trace_id"]) == ("req-1", TRACE_ID)
    assert "correlation_id" not in outside
    assert "trace_id" not in outside


def test_request_context_restores_the_outer_context(configure: Configure) -> None:
    """Nested contexts shadow the outer id and restore it on exit; none is left afterwards."""
    configure()

    with request_context("outer"):
        with request_context("inner"):
            assert correlation_id() == "inner"
        assert correlation_id() == "outer"
    assert correlation_id() is None


async def test_correlation_id_follows_tasks_and_threads(configure: Configure, log_file: Path) -> None:
    """Lines written by an asyncio task and a to_thread call spawned in the context keep its id."""
    configure()
    log = structlog.get_logger("folio.async")

    async def spawned() -> None:
        log.info("from.task")

    def in_thread() -> None:
        log.info("from.thread.structlog")
        logging.getLogger("lib.thread").warning("from.thread.stdlib")

    with request_context("req-async"):
        task = asyncio.create_task(spawned())
    await task
    with request_context("req-thread"):
        await asyncio.to_thread(in_thread)

    by_event = {line["event"]: line.get("correlation_id") for line in read_lines(log_file)}
    assert by_event == {
        "from.task": "req-async",
        "from.thread.structlog": "req-thread",
        "from.thread.stdlib": "req-thread",
    }


def test_bind_request_context_adds_fields_and_skips_none(configure: Configure, log_file: Path) -> None:
    """``bind_request_context`` adds fields such as tenant_id to later lines, ignoring None values."""
    configure()

    with request_context("req-t"):
        bind_request_context(tenant_id="shop-7", user_id=None)
        structlog.get_logger("folio.t").info("after.bind")

    (line,) = read_lines(log_file)
    assert line["tenant_id"] == "shop-7"
    assert "user_id" not in line


def test_new_correlation_ids_are_fresh_and_safe() -> None:
    """New ids are distinct and pass the safety check unchanged."""
    ids = {new_correlation_id() for _ in range(100)}

    assert len(ids) == 100
    assert all(accept_correlation_id(i) == i for i in ids)


@pytest.mark.parametrize(
    "candidate",
    ["abc-123", "req.42:sub_1", "A" * 128, "0"],
)
def test_accept_correlation_id_keeps_safe_ids(candidate: str) -> None:
    """A bounded id of letters, digits and ``._:-`` is kept as the client sent it."""
    assert accept_correlation_id(candidate) == candidate


@pytest.mark.parametrize(
    "candidate",
    [None, "", "abc\n", "abc\ninjected", 'a"b', "has space", "A" * 129, "ünïcode", "a\r"],
)
def test_accept_correlation_id_replaces_unsafe_ids(candidate: str | None) -> None:
    """Missing, over-long or structure-forging ids (newlines, quotes) are replaced by a fresh one."""
    accepted = accept_correlation_id(candidate)

    assert accepted != candidate
    assert accept_correlation_id(accepted) == accepted


@pytest.mark.parametrize(
    "header",
    [
        f"00-{TRACE_ID}-{PARENT_ID}-01",
        f"  00-{TRACE_ID}-{PARENT_ID}-00  ",
        f"00-{TRACE_ID.upper()}-{PARENT_ID}-01",
    ],
)
def test_trace_id_from_valid_traceparent(header: str) -> None:
    """A well-formed W3C traceparent yields its (lower-case) trace id."""
    assert trace_id_from(header) == TRACE_ID


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        f"00-{TRACE_ID}-{PARENT_ID}",
        f"00-{TRACE_ID[:-1]}-{PARENT_ID}-01",
        f"00-{TRACE_ID}x-{PARENT_ID}-01",
        f"00-{'0' * 32}-{PARENT_ID}-01",
        f"00-{TRACE_ID}-{'0' * 16}-01",
        f"ff-{TRACE_ID}-{PARENT_ID}-01",
        f"00-{TRACE_ID}-{PARENT_ID}-01\nx",
    ],
)
def test_trace_id_from_rejects_malformed_or_invalid(header: str | None) -> None:
    """Malformed headers, all-zero ids and the forbidden version ff give no trace id."""
    assert trace_id_from(header) is None


# --- levels ------------------------------------------------------------------------------------


def test_root_and_per_logger_levels(configure: Configure, log_file: Path) -> None:
    """The root level filters every logger; ``levels`` raises or lowers single loggers."""
    configure(level="INFO", levels={"noisy.lib": "ERROR", "folio.chatty": "DEBUG"})

    logging.getLogger("plain").debug("plain.debug")
    logging.getLogger("plain").info("plain.info")
    logging.getLogger("noisy.lib").warning("noisy.warning")
    logging.getLogger("noisy.lib").error("noisy.error")
    structlog.get_logger("folio.chatty").debug("chatty.debug")
    structlog.get_logger("folio.other").debug("other.debug")

    assert events(log_file) == ["plain.info", "noisy.error", "chatty.debug"]


def test_level_changes_apply_live(configure: Configure, log_file: Path) -> None:
    """Mutating the settings and calling ``apply_levels`` changes levels at once, dropped ones reset."""
    runtime = configure(level="WARNING", levels={"folio.x": "ERROR"})
    log = structlog.get_logger("folio.x")
    log.warning("before")

    runtime.settings.level = "DEBUG"
    runtime.settings.levels = {}
    runtime.apply_levels()
    log.debug("after")

    assert events(log_file) == ["after"]
    assert logging.getLogger("folio.x").level == logging.NOTSET


# --- sampling ----------------------------------------------------------------------------------


def _run_sampler(sampler: EventSampler, n: int, event: str = "noisy", method: str = "info") -> int:
    kept = 0
    for _ in range(n):
        try:
            sampler(None, method, {"event": event})
        except structlog.DropEvent:
            continue
        kept += 1
    return kept


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.9])
def test_sampler_keeps_about_the_rate(rate: float) -> None:
    """Over 1000 events the kept share stays within a few standard deviations of the rate."""
    n = 1000
    sd = (n * rate * (1 - rate)) ** 0.5

    kept = _run_sampler(EventSampler({"noisy": rate}, rng=seeded(1234)), n)

    assert abs(kept - n * rate) < 5 * sd


def test_sampler_is_deterministic_with_a_seed() -> None:
    """Two samplers seeded alike keep exactly the same events."""

    def pattern(seed: int) -> list[bool]:
        sampler = EventSampler({"noisy": 0.3}, rng=seeded(seed))
        return [_run_sampler(sampler, 1) == 1 for _ in range(200)]

    assert pattern(7) == pattern(7)
    assert pattern(7) != pattern(8)


def test_sampler_marks_kept_lines_and_ignores_unlisted_events() -> None:
    """Kept sampled lines say their rate; unlisted events and rate 1.0 pass untouched."""
    sampler = EventSampler({"noisy": 0.5, "full": 1.0}, rng=seeded(3))
    kept: list[dict[str, Any]] = []
    for _ in range(50):
        try:
            kept.append(dict(sampler(None, "info", {"event": "noisy"})))
        except structlog.DropEvent:
            continue

    assert kept
    assert all(line["sample_rate"] == 0.5 for line in kept)
    assert dict(sampler(None, "info", {"event": "other"})) == {"event": "other"}
    assert dict(sampler(None, "info", {"event": "full"})) == {"event": "full"}


@pytest.mark.parametrize("method", ["warning", "error", "critical", "exception"])
def test_sampler_never_drops_warnings_or_errors(method: str) -> None:
    """Even at rate 0, warnings and errors of a sampled event are all kept."""
    sampler = EventSampler({"noisy": 0.0}, rng=seeded(0))

    assert _run_sampler(sampler, 100, method=method) == 100
    assert _run_sampler(sampler, 100, method="info") == 0


def test_sampling_in_the_pipeline_and_live_rate_changes(configure: Configure, log_file: Path) -> None:
    """Configured rates thin out info lines only, and a changed rate applies without reconfiguring."""
    runtime = configure(sampling={"http.request.health": 0.0})
    runtime.sampler._rng = seeded(99)
    log = structlog.get_logger("folio.http")

    for _ in range(20):
        log.info("http.request.health")
    log.warning("http.request.health")
    log.info("http.request")
    runtime.settings.sampling = {"http.request.health": 1.0}
    runtime.apply_levels()
    log.info("http.request.health")

    lines = read_lines(log_file)
    assert [(line["event"], line["level"]) for line in lines] == [
        ("http.request.health", "warning"),
        ("http.request", "info"),
        ("http.request.health", "info"),
    ]
    assert runtime.sampler.rates == {"http.request.health": 1.0}


def test_sampled_share_through_the_pipeline(configure: Configure, log_file: Path) -> None:
    """Through the real pipeline, a 0.2 rate keeps roughly a fifth of 1000 lines."""
    runtime = configure(sampling={"tick": 0.2})
    runtime.sampler._rng = seeded(2024)
    log = structlog.get_logger("folio.tick")

    for _ in range(1000):
        log.info("tick")

    kept = read_lines(log_file)
    assert 200 - 5 * 12.65 < len(kept) < 200 + 5 * 12.65
    assert {line["sample_rate"] for line in kept} == {0.2}


# --- handlers: rotation, console, reconfiguration, shutdown ------------------------------------


def test_file_rotates_at_max_bytes(configure: Configure, log_file: Path) -> None:
    """Past ``max_bytes`` the file rotates, keeping at most ``backup_count`` old files."""
    configure(max_bytes=1024, backup_count=2)
    log = structlog.get_logger("folio.rot")

    for i in range(100):
        log.info("filler.line", i=i, pad="x" * 40)

    assert log_file.with_name("folio.jsonl.1").is_file()
    assert log_file.with_name("folio.jsonl.2").is_file()
    assert not log_file.with_name("folio.jsonl.3").exists()
    assert log_file.stat().st_size <= 1024
    assert read_lines(log_file)[-1]["i"] == 99


def test_console_format_is_human_readable(configure: Configure, log_file: Path, stdout: io.StringIO) -> None:
    """``console`` renders stdout for people (not JSON) while the file stays JSON."""
    configure(log_format="console")

    structlog.get_logger("folio.c").info("console.event", answer=42)

    text = stdout.getvalue()
    assert "console.event" in text
    assert "answer" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text.splitlines()[0])
    assert read_lines(log_file)[0]["event"] == "console.event"


def test_json_format_on_stdout(configure: Configure, stdout: io.StringIO) -> None:
    """The default format writes the same JSON lines to stdout."""
    configure(file=None)

    structlog.get_logger("folio.j").info("stdout.event")

    (line,) = [json.loads(raw) for raw in stdout.getvalue().splitlines()]
    assert line["event"] == "stdout.event"
    assert len(folio_handlers()) == 1


def test_configuring_twice_does_not_duplicate_handlers(configure: Configure, log_file: Path) -> None:
    """A second ``configure_logging`` replaces the first: one set of handlers, each line once."""
    configure()
    first = len(folio_handlers())
    configure()

    structlog.get_logger("folio.twice").info("once")

    assert len(folio_handlers()) == first == 2
    assert events(log_file) == ["once"]


def test_shutdown_removes_only_folio_handlers(configure: Configure) -> None:
    """``shutdown_logging`` detaches Folio's handlers and leaves everyone else's in place."""
    foreign = logging.NullHandler()
    root = logging.getLogger()
    root.addHandler(foreign)
    try:
        configure()
        assert folio_handlers()

        shutdown_logging()

        assert folio_handlers() == []
        assert foreign in root.handlers
    finally:
        root.removeHandler(foreign)


def test_shipping_needs_the_search_settings(configure: Configure) -> None:
    """Turning shipping on without the search server's settings is refused."""
    with pytest.raises(ValueError, match="search"):
        configure(ship_to_search=True)


def test_shipping_handler_is_attached_and_closed(configure: Configure, log_file: Path) -> None:
    """With shipping on, a shipper handler joins the pipeline and shutdown stops its thread."""
    search = SearchSettings(port=free_port())
    settings = LoggingSettings(file=log_file, ship_to_search=True, ship_interval_s=0.05)
    runtime = configure_logging(settings, service="ship", search=search, stream=io.StringIO())
    shipper = runtime.shipper
    assert shipper is not None
    assert shipper in folio_handlers()
    assert shipper._thread.is_alive()

    shutdown_logging()

    assert not shipper._thread.is_alive()
    assert folio_handlers() == []


def test_request_context_drops_fields_bound_inside_it() -> None:
    """A field bound during a request (the tenant) does not outlive the request's block."""
    structlog.contextvars.bind_contextvars(service_role="outer")
    try:
        with request_context("req-1"):
            bind_request_context(tenant_id="shop-a")
            assert structlog.contextvars.get_contextvars()["tenant_id"] == "shop-a"
        after = structlog.contextvars.get_contextvars()
        assert "tenant_id" not in after
        assert "correlation_id" not in after
        assert after["service_role"] == "outer"
    finally:
        structlog.contextvars.unbind_contextvars("service_role")


def test_stdout_off_writes_each_line_to_the_file_only(
    configure: Configure, log_file: Path, stdout: io.StringIO
) -> None:
    """With ``stdout = false`` (how `folio up` runs its processes) a line lands once, in the file."""
    configure(stdout=False)

    structlog.get_logger("folio.gateway").info("http.request", path="/healthz")

    assert events(log_file) == ["http.request"]
    assert stdout.getvalue() == ""


def test_stdout_off_without_a_file_still_logs_to_stdout(configure: Configure, stdout: io.StringIO) -> None:
    """A process with no log file keeps stdout even with ``stdout = false``: a line is never lost."""
    configure(stdout=False, file=None)

    structlog.get_logger("folio.gateway").info("http.request")

    assert json.loads(stdout.getvalue())["event"] == "http.request"
