"""The search context's command-line adapter, ``folio search``: worker, reindex, status, synonyms, evaluation.

``folio search sync`` is the worker that applies the catalogue's outbox to the engine
(run one; ``--once`` drains what is pending and exits). Operator commands take a shop
by its slug (``--shop``) and act as ``system`` in the audit trail. Every command works
on the platform's search backend, except with the hidden ``--index-prefix`` (see
``_search_backend``).

``folio search eval`` measures relevance (nDCG@10, MRR) per tuning on judged queries.
Query sets: the hand-judged set shipped in ``folio/search/judgments/handjudged.jsonl``
(or ``--judged PATH``), ``--known-items N`` queries derived from the catalogue in the
database (``folio.search.evaluation.known_item_queries``), and with ``--misspelt`` the
same queries with one generated typo each (``misspelt_queries``). ``--spelling`` runs
each variant without spelling correction, with it, or both. Each ``--variant`` names a
``Tuning`` of ``folio.search.dsl.TUNINGS``; every query runs against the live works index
through ``search_works``, exactly as the API searches.

Heavy imports happen inside the commands so ``folio --help`` stays fast.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from folio.clikit import CliContext, examples, pass_cli, run_on_platform, shop_option

if TYPE_CHECKING:
    from folio.core.db import Database
    from folio.core.platform import Platform
    from folio.search.api import EvalReport, JudgedQuery, SearchBackend, Tuning

__all__ = ["VARIANT_NAMES", "eval_command", "search_group"]

T = TypeVar("T")

prefix_option = click.option(
    "--index-prefix", default="", hidden=True, help="Use indexes under this name prefix (tests)."
)


@asynccontextmanager
async def _search_backend(platform: Platform, prefix: str) -> AsyncIterator[SearchBackend]:
    """The backend a command works on: the platform's, or with ``--index-prefix`` one of its own.

    The prefix is deliberate, and only for tests: they index under a prefix of their own
    so they never touch the live indexes, while the platform's backend names the live
    ones; so the command opens a backend with the prefixed names and closes it after.
    """
    from folio.search.api import open_search, wired_search

    if not prefix:
        yield wired_search(platform)
        return
    async with open_search(platform.settings, prefix=prefix) as backend:
        yield backend


def _run(cli: CliContext, prefix: str, work: Callable[[Platform, SearchBackend], Awaitable[T]]) -> T:
    """Run ``work`` on the platform with its search backend; lite mode ends the command with one line."""
    from folio.search.api import check_search_enabled

    # Before the platform is built, with or without a prefix: lite mode has no search engine.
    check_search_enabled(cli.settings)

    async def with_search(platform: Platform) -> T:
        async with _search_backend(platform, prefix) as backend:
            return await work(platform, backend)

    return run_on_platform(cli, with_search)


@click.group("search")
def search_group() -> None:
    """The search indexes: sync worker, reindex, status, synonyms, relevance evaluation."""


@search_group.command(
    "sync",
    epilog=examples("folio search sync          the worker, until Ctrl-C", "folio search sync --once"),
)
@click.option("--once", is_flag=True, help="Apply what is pending now, then exit.")
@click.option(
    "--interval", type=click.FloatRange(min=0.1), default=1.0, show_default=True, help="Poll seconds."
)
@click.option(
    "--no-metrics",
    is_flag=True,
    help="Do not serve Prometheus metrics on services.search.sync_metrics_port (--once never does).",
)
@prefix_option
@pass_cli
def sync_command(cli: CliContext, once: bool, interval: float, no_metrics: bool, index_prefix: str) -> None:
    """Apply the catalogue's pending changes to the search indexes (the search worker).

    The worker serves its metrics (unless ``--no-metrics``) and, with ``telemetry.enabled``
    (as under ``folio up``), traces each batch.
    """
    from folio.core.process_telemetry import process_telemetry
    from folio.search.api import SearchSync

    async def work(platform: Platform, backend: SearchBackend) -> tuple[int, int, bool]:
        sync = SearchSync(platform.database, backend)
        if not once:
            # SIGTERM (the supervisor's stop) and Ctrl-C end the loop between rounds, so a
            # claimed batch is marked before the process exits.
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, stop.set)
            await sync.run_forever(poll_interval_s=interval, stop=stop)
            return 0, 0, False
        synced = failed = 0
        while True:
            report = await sync.run_once()
            synced += report.synced
            failed += report.failed
            if report.engine_down or report.claimed == 0 or report.failed:
                return synced, failed, report.engine_down

    config = cli.settings.services.search
    with process_telemetry(
        cli.settings.telemetry,
        service=cli.settings.service_name,
        metrics_port=0 if once or no_metrics else config.sync_metrics_port,
        metrics_host=config.sync_metrics_host,
    ):
        synced, failed, down = _run(cli, index_prefix, work)
    cli.console.print(f"synced {synced} change(s), {failed} failed")
    if down:
        cli.fail("the search engine cannot be reached; changes stay pending")
    if failed:
        cli.fail("some changes failed; they are retried by the next run (see outbox_deliveries.last_error)")


@search_group.command(
    "reindex",
    epilog=examples("folio search reindex --works", "folio search reindex --shop riverside-books"),
)
@click.option("--works", "works", is_flag=True, help="Rebuild the shared works index.")
@click.option("--shop", "shop", metavar="SLUG", help="Rebuild one shop's listings index (with its synonyms).")
@prefix_option
@pass_cli
def reindex_command(cli: CliContext, works: bool, shop: str | None, index_prefix: str) -> None:
    """Rebuild an index beside the live one and swap it in (queries keep answering)."""
    from folio.search.api import ReindexReport, reindex_shop, reindex_works

    if works == (shop is not None):
        cli.fail("give exactly one of --works or --shop SLUG")

    async def work(platform: Platform, backend: SearchBackend) -> ReindexReport:
        if shop is None:
            return await reindex_works(platform.database, backend)
        target = await cli.resolve_shop(platform, shop)
        return await reindex_shop(platform.database, backend, tenant_id=target.id)

    report = _run(cli, index_prefix, work)
    cli.console.print(
        f"{report.alias} -> {report.collection}: {report.documents} document(s), "
        f"{report.synonyms} synonym set(s), {report.seconds:.2f}s"
        + (f"; replaced {report.previous}" if report.previous else "")
    )
    for failure in report.failures[:20]:
        cli.errors.print(f"refused: {failure.get('error')}", markup=False)
    if report.failures:
        cli.fail(f"{len(report.failures)} document(s) refused by the engine")


@search_group.command(
    "status",
    epilog=examples("folio search status"),
)
@prefix_option
@pass_cli
def status_command(cli: CliContext, index_prefix: str) -> None:
    """Pending outbox changes, and each index's alias target and document count."""
    from rich.table import Table

    from folio.search.api import IndexStatus, SearchSync, index_status

    async def work(platform: Platform, backend: SearchBackend) -> tuple[int, list[IndexStatus]]:
        return await SearchSync(platform.database, backend).pending_count(), await index_status(backend)

    pending, indexes = _run(cli, index_prefix, work)
    cli.console.print(f"pending changes: {pending}")
    table = Table("alias", "collection", "documents")
    for index in indexes:
        table.add_row(
            index.alias, index.collection or "-", "-" if index.documents is None else str(index.documents)
        )
    cli.console.print(table)


@search_group.group("synonyms")
def synonyms_group() -> None:
    """A shop's synonym sets (applied to that shop's searches only)."""


@synonyms_group.command(
    "list",
    epilog=examples("folio search synonyms list --shop corner-books"),
)
@shop_option
@prefix_option
@pass_cli
def synonyms_list_command(cli: CliContext, shop: str, index_prefix: str) -> None:
    """List the shop's synonym sets."""
    from folio.search.api import SynonymRead, list_synonyms

    async def work(platform: Platform, _backend: SearchBackend) -> list[SynonymRead]:
        target = await cli.resolve_shop(platform, shop)
        return await list_synonyms(platform.database, tenant_id=target.id)

    for synonym in _run(cli, index_prefix, work):
        arrow = f"{synonym.root} => " if synonym.root else ""
        cli.console.print(f"{synonym.name}: {arrow}{', '.join(synonym.synonyms)}", markup=False)


@synonyms_group.command(
    "set",
    epilog=examples(
        'folio search synonyms set --shop riverside-books scifi sci-fi "science fiction"',
        'folio search synonyms set --shop riverside-books classics --root classic "penguin classics\\"',
    ),
)
@shop_option
@click.argument("name")
@click.argument("terms", nargs=-1, required=True)
@click.option("--root", help="One-way: a search for ROOT also finds TERMS.")
@prefix_option
@pass_cli
def synonyms_set_command(  # noqa: PLR0917 - click passes every option and argument by name
    cli: CliContext, shop: str, name: str, terms: tuple[str, ...], root: str | None, index_prefix: str
) -> None:
    """Create or replace the shop's synonym set NAME with TERMS."""
    from pydantic import ValidationError

    from folio.search.api import SynonymRead, SynonymWrite, set_synonym

    try:
        data = SynonymWrite(synonyms=list(terms), root=root)
    except ValidationError as exc:
        cli.fail("; ".join(str(error["msg"]) for error in exc.errors()))

    async def work(platform: Platform, backend: SearchBackend) -> SynonymRead:
        target = await cli.resolve_shop(platform, shop)
        return await set_synonym(
            platform.database, backend, tenant_id=target.id, name=name, data=data, principal=None
        )

    saved = _run(cli, index_prefix, work)
    cli.console.print(f"set {saved.name}: {', '.join(saved.synonyms)}", markup=False)


@synonyms_group.command(
    "delete",
    epilog=examples("folio search synonyms delete --shop corner-books scifi"),
)
@shop_option
@click.argument("name")
@prefix_option
@pass_cli
def synonyms_delete_command(cli: CliContext, shop: str, name: str, index_prefix: str) -> None:
    """Delete the shop's synonym set NAME."""
    from folio.search.api import delete_synonym

    async def work(platform: Platform, backend: SearchBackend) -> None:
        target = await cli.resolve_shop(platform, shop)
        await delete_synonym(platform.database, backend, tenant_id=target.id, name=name, principal=None)

    _run(cli, index_prefix, work)
    cli.console.print(f"deleted {name}", markup=False)


# --- relevance evaluation ---------------------------------------------------------------------

VARIANT_NAMES = ("default", "unstemmed", "title-heavy", "no-typos")
"""The tunings of ``folio.search.dsl.TUNINGS`` (kept here so ``--help`` imports nothing heavy)."""

SPELLING_MODES = ("off", "on", "both")
"""``--spelling``: without correction, with it (the API's default), or each variant both ways."""


@search_group.command(
    "eval",
    epilog=examples(
        "folio search eval",
        "folio search eval --known-items 200 --seed 7 --variant default --variant unstemmed",
        "folio search eval --known-items 300 --seed 1 --misspelt --variant default",
        "folio search eval --judged my-queries.jsonl --json eval.json",
    ),
)
@click.option(
    "--judged",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="A judged query set (JSON lines); default: the hand-judged set shipped with Folio.",
)
@click.option("--no-judged", is_flag=True, help="Skip the judged set (run only --known-items).")
@click.option(
    "--known-items",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Also run this many known-item queries derived from the catalogue.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for sampling known items.")
@click.option(
    "--misspelt",
    is_flag=True,
    help="Also run each known-item query with one generated typo (same seed: same typos).",
)
@click.option(
    "--spelling",
    type=click.Choice(SPELLING_MODES),
    default="both",
    show_default=True,
    help="Measure without spelling correction, with it, or both (a `+ spelling` row per variant).",
)
@click.option(
    "--variant",
    "variants",
    type=click.Choice(VARIANT_NAMES),
    multiple=True,
    help="A tuning to measure (repeatable); default: all of them.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write every result here.",
)
@prefix_option
@pass_cli
def eval_command(
    cli: CliContext,
    *,
    judged: Path | None,
    no_judged: bool,
    known_items: int,
    seed: int,
    misspelt: bool,
    spelling: str,
    variants: tuple[str, ...],
    json_path: Path | None,
    index_prefix: str,
) -> None:
    """Score search relevance (nDCG@10, MRR@10) per tuning on judged and known-item queries."""
    from folio.search.api import HANDJUDGED_PATH, TUNINGS, InvalidJudgedSetError, load_judged_set

    if no_judged and known_items == 0:
        cli.fail("nothing to evaluate: --no-judged needs --known-items N")
    if misspelt and known_items == 0:
        cli.fail("--misspelt misspells the known-item queries: add --known-items N")
    query_sets: dict[str, list[JudgedQuery]] = {}
    if not no_judged:
        path = judged or HANDJUDGED_PATH
        try:
            query_sets[f"judged ({path.name})"] = load_judged_set(path)
        except InvalidJudgedSetError as exc:
            cli.fail(str(exc))
    names = list(variants) or list(VARIANT_NAMES)

    modes = {"off": [False], "on": [True], "both": [False, True]}[spelling]

    async def work(platform: Platform) -> dict[str, dict[str, EvalReport]]:
        from folio.catalog.api import iter_works
        from folio.search.api import known_item_queries, misspelt_queries, vocabulary_for

        db = platform.database
        if known_items:
            works = [work async for batch in iter_works(db) for work in batch]
            known = known_item_queries(works, n=known_items, seed=seed)
            query_sets[f"known items (n={known_items}, seed={seed})"] = known
            if misspelt:
                query_sets[f"misspelt known items (seed={seed})"] = misspelt_queries(known, seed=seed)
        async with _search_backend(platform, index_prefix) as backend:
            if True in modes:
                started = time.perf_counter()
                corrector = await vocabulary_for(backend.engine, backend.names.works(), fresh=True)
                words, terms, pairs = corrector.size if corrector is not None else (0, 0, 0)
                cli.errors.print(
                    f"spelling vocabulary: {words} words, {terms} known terms, {pairs} word pairs, "
                    f"built in {time.perf_counter() - started:.1f} s"
                )
            reports: dict[str, dict[str, EvalReport]] = {}
            for name in names:
                for correct in modes:
                    search = _searcher(db, backend, TUNINGS[name], correct=correct)
                    reports[f"{name} + spelling" if correct else name] = {
                        label: await _evaluate(search, queries) for label, queries in query_sets.items()
                    }
            return reports

    reports = run_on_platform(cli, work)
    _print(cli, reports)
    if json_path is not None:
        payload = {
            name: {label: report.to_dict() for label, report in sets.items()}
            for name, sets in reports.items()
        }
        json_path.write_text(json.dumps(payload, indent=2), encoding="utf-8")
        cli.errors.print(f"wrote {json_path}")


async def _evaluate(search: Callable[[str], Awaitable[list[str]]], queries: list[JudgedQuery]) -> EvalReport:
    from folio.search.api import QuerySyntaxError, evaluate

    return await evaluate(search, queries, errors=(QuerySyntaxError,))


def _searcher(
    db: Database, backend: SearchBackend, tuning: Tuning, *, correct: bool
) -> Callable[[str], Awaitable[list[str]]]:
    """A ``query -> ranked work keys`` function over the works index under ``tuning``, correcting or not."""
    from folio.catalog.api import get_works
    from folio.search.api import search_works, work_key

    keys_by_id: dict[str, str] = {}

    async def search(query: str) -> list[str]:
        results = await search_works(
            backend, query=query, tuning=tuning, page=1, per_page=10, facets=[], correct=correct
        )
        # Works without an ISBN are judged by "source:source_key", which only the catalogue knows.
        unknown = {hit.work_id for hit in results.hits if not hit.isbn13 and hit.work_id not in keys_by_id}
        if unknown:
            for work in await get_works(db, [uuid.UUID(work_id) for work_id in unknown]):
                keys_by_id[str(work.id)] = work_key(work)
        return [hit.isbn13 or keys_by_id.get(hit.work_id, f"id:{hit.work_id}") for hit in results.hits]

    return search


def _print(cli: CliContext, reports: dict[str, dict[str, EvalReport]]) -> None:
    from rich.table import Table

    for name, sets in reports.items():
        table = Table("query set", "queries", "nDCG@10", "MRR@10", "refused", title=f"variant {name}")
        for label, report in sets.items():
            table.add_row(
                label,
                str(len(report.results)),
                f"{report.mean_ndcg_at_10:.3f}",
                f"{report.mrr:.3f}",
                str(report.failed),
            )
        cli.console.print(table)
