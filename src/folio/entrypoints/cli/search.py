"""``folio search``: the search worker, reindexes, status, per-shop synonyms, relevance evaluation.

``folio search sync`` is the worker that applies the catalogue's outbox to the engine
(run one; ``--once`` drains what is pending and exits). Operator commands take a shop
by its slug (``--shop``) and act as ``system`` in the audit trail. Heavy imports happen
inside the commands so ``folio --help`` stays fast.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import click

from folio.entrypoints.cli.context import CliContext, pass_cli
from folio.entrypoints.cli.search_eval import eval_command
from folio.entrypoints.cli.tenants import resolve_shop, run_with_database, shop_option

if TYPE_CHECKING:
    from folio.core.db import Database
    from folio.search.api import SearchBackend

T = TypeVar("T")

prefix_option = click.option(
    "--index-prefix", default="", hidden=True, help="Use indexes under this name prefix (tests)."
)


def _run(cli: CliContext, prefix: str, work: Callable[[Database, SearchBackend], Awaitable[T]]) -> T:
    """Run ``work`` with the database and a search backend; lite mode ends the command with one line."""
    from folio.core.errors import FolioError
    from folio.search.api import check_search_enabled, open_search

    try:
        check_search_enabled(cli.settings)
    except FolioError as exc:
        cli.fail(exc.detail or exc.title)

    async def with_search(db: Database) -> T:
        async with open_search(cli.settings, prefix=prefix) as backend:
            return await work(db, backend)

    return run_with_database(cli, with_search)


@click.group("search")
def search_group() -> None:
    """The search indexes: sync worker, reindex, status, synonyms, relevance evaluation."""


@search_group.command(
    "sync",
    epilog="\b\nExamples:\n  folio search sync          the worker, until Ctrl-C\n  folio search sync --once",
)
@click.option("--once", is_flag=True, help="Apply what is pending now, then exit.")
@click.option(
    "--interval", type=click.FloatRange(min=0.1), default=1.0, show_default=True, help="Poll seconds."
)
@prefix_option
@pass_cli
def sync_command(cli: CliContext, once: bool, interval: float, index_prefix: str) -> None:
    """Apply the catalogue's pending changes to the search indexes (the search worker)."""
    from folio.search.api import SearchSync

    async def work(db: Database, backend: SearchBackend) -> tuple[int, int, bool]:
        sync = SearchSync(db, backend)
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

    synced, failed, down = _run(cli, index_prefix, work)
    cli.console.print(f"synced {synced} change(s), {failed} failed")
    if down:
        cli.fail("the search engine cannot be reached; changes stay pending")
    if failed:
        cli.fail("some changes failed; they are retried by the next run (see outbox_deliveries.last_error)")


@search_group.command(
    "reindex",
    epilog="\b\nExamples:\n  folio search reindex --works\n  folio search reindex --shop riverside-books",
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

    async def work(db: Database, backend: SearchBackend) -> ReindexReport:
        if shop is None:
            return await reindex_works(db, backend)
        target = await resolve_shop(db, shop)
        return await reindex_shop(db, backend, tenant_id=target.id)

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
    epilog="""\b
Examples:
  folio search status""",
)
@prefix_option
@pass_cli
def status_command(cli: CliContext, index_prefix: str) -> None:
    """Pending outbox changes, and each index's alias target and document count."""
    from rich.table import Table

    from folio.search.api import IndexStatus, SearchSync, index_status

    async def work(db: Database, backend: SearchBackend) -> tuple[int, list[IndexStatus]]:
        return await SearchSync(db, backend).pending_count(), await index_status(backend)

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
    epilog="""\b
Examples:
  folio search synonyms list --shop corner-books""",
)
@shop_option
@prefix_option
@pass_cli
def synonyms_list_command(cli: CliContext, shop: str, index_prefix: str) -> None:
    """List the shop's synonym sets."""
    from folio.search.api import SynonymRead, list_synonyms

    async def work(db: Database, _backend: SearchBackend) -> list[SynonymRead]:
        target = await resolve_shop(db, shop)
        return await list_synonyms(db, tenant_id=target.id)

    for synonym in _run(cli, index_prefix, work):
        arrow = f"{synonym.root} => " if synonym.root else ""
        cli.console.print(f"{synonym.name}: {arrow}{', '.join(synonym.synonyms)}", markup=False)


@synonyms_group.command(
    "set",
    epilog="""\b
Examples:
  folio search synonyms set --shop riverside-books scifi sci-fi "science fiction"
  folio search synonyms set --shop riverside-books classics --root classic "penguin classics\"""",
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

    async def work(db: Database, backend: SearchBackend) -> SynonymRead:
        target = await resolve_shop(db, shop)
        return await set_synonym(db, backend, tenant_id=target.id, name=name, data=data, principal=None)

    saved = _run(cli, index_prefix, work)
    cli.console.print(f"set {saved.name}: {', '.join(saved.synonyms)}", markup=False)


@synonyms_group.command(
    "delete",
    epilog="""\b
Examples:
  folio search synonyms delete --shop corner-books scifi""",
)
@shop_option
@click.argument("name")
@prefix_option
@pass_cli
def synonyms_delete_command(cli: CliContext, shop: str, name: str, index_prefix: str) -> None:
    """Delete the shop's synonym set NAME."""
    from folio.search.api import delete_synonym

    async def work(db: Database, backend: SearchBackend) -> None:
        target = await resolve_shop(db, shop)
        await delete_synonym(db, backend, tenant_id=target.id, name=name, principal=None)

    _run(cli, index_prefix, work)
    cli.console.print(f"deleted {name}", markup=False)


search_group.add_command(eval_command)
