"""``folio search eval``: measure search relevance (nDCG@10, MRR) per tuning on judged queries.

Query sets: the hand-judged set shipped in ``folio/search/judgments/handjudged.jsonl``
(or ``--judged PATH``), ``--known-items N`` queries derived from the catalogue in the
database (``folio.search.evaluation.known_item_queries``), and with ``--misspelt`` the
same queries with one generated typo each (``misspelt_queries``). ``--spelling`` runs
each variant without spelling correction, with it, or both. Each ``--variant`` names a
``Tuning`` of ``folio.search.dsl.TUNINGS``; every query runs against the live works index
through ``search_works``, exactly as the API searches. The ``folio search`` group adds
this command; heavy modules are imported inside it so ``folio --help`` stays fast.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from folio.entrypoints.cli.context import CliContext, pass_cli
from folio.entrypoints.cli.tenants import run_with_database

if TYPE_CHECKING:
    from folio.core.db import Database
    from folio.search.api import EvalReport, JudgedQuery, SearchBackend, Tuning

VARIANT_NAMES = ("default", "unstemmed", "title-heavy", "no-typos")
"""The tunings of ``folio.search.dsl.TUNINGS`` (kept here so ``--help`` imports nothing heavy)."""

SPELLING_MODES = ("off", "on", "both")
"""``--spelling``: without correction, with it (the API's default), or each variant both ways."""


@click.command(
    "eval",
    epilog="""\b
Examples:
  folio search eval
  folio search eval --known-items 200 --seed 7 --variant default --variant unstemmed
  folio search eval --known-items 300 --seed 1 --misspelt --variant default
  folio search eval --judged my-queries.jsonl --json eval.json""",
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
@click.option("--index-prefix", default="", hidden=True, help="Search indexes under this prefix (tests).")
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
    settings = cli.settings
    names = list(variants) or list(VARIANT_NAMES)

    modes = {"off": [False], "on": [True], "both": [False, True]}[spelling]

    async def work(db: Database) -> dict[str, dict[str, EvalReport]]:
        from folio.catalog.api import iter_works
        from folio.search.api import known_item_queries, misspelt_queries, open_search, vocabulary_for

        if known_items:
            works = [work async for batch in iter_works(db) for work in batch]
            known = known_item_queries(works, n=known_items, seed=seed)
            query_sets[f"known items (n={known_items}, seed={seed})"] = known
            if misspelt:
                query_sets[f"misspelt known items (seed={seed})"] = misspelt_queries(known, seed=seed)
        async with open_search(settings, prefix=index_prefix) as backend:
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

    reports = run_with_database(cli, work)
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
