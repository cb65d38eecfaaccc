"""The PDF index's command-line adapter, ``folio pdf``: index PDF files, search them (L3-07).

The index is Folio's own inverted index (``folio.pdfindex``), kept in a folder.

Every expected failure (no index yet, a damaged one, a query that does not parse) ends the
command with one line on stderr saying what to do, and a non-zero exit; an index folder the
OS refuses is one line too, through the root group's handler.
"""

from __future__ import annotations

from pathlib import Path

import click

from folio.clikit import EXIT_CONFIG_ERROR, EXIT_FAILURE, examples

__all__ = ["pdf_group"]

DEFAULT_INDEX_DIR = Path(".folio/pdfindex")

index_option = click.option(
    "--index",
    "index_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_INDEX_DIR,
    show_default=True,
    help="Directory holding the index.",
)


@click.group("pdf")
def pdf_group() -> None:
    """Index PDF files and search them (title and body, BM25F ranking)."""


@pdf_group.command(
    "index",
    epilog=examples(
        "folio pdf index catalogue.pdf flyers/*.pdf", "folio pdf index docs/ --index /tmp/pdfindex"
    ),
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True))
@index_option
def index_command(paths: tuple[Path, ...], index_dir: Path) -> None:
    """Add PDF files (or every *.pdf under a directory) to the index, replacing earlier versions."""
    from folio.pdfindex.api import IndexFormatError, PdfExtractionError, extract_pdf, open_index

    try:
        index = open_index(index_dir)
    except IndexFormatError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(EXIT_CONFIG_ERROR) from exc
    files = [p for path in paths for p in (sorted(path.rglob("*.pdf")) if path.is_dir() else [path])]
    failed = 0
    for file in files:
        try:
            pdf = extract_pdf(file)
        except PdfExtractionError as exc:
            click.echo(f"skipped: {exc}", err=True)
            failed += 1
            continue
        index.add(
            str(file.resolve()), {"title": pdf.title, "body": pdf.body}, meta={"pages": str(len(pdf.pages))}
        )
        click.echo(f"indexed {file} ({len(pdf.pages)} pages): {pdf.title}")
    index.save(index_dir)
    click.echo(f"{len(index)} documents in {index_dir}")
    if failed:
        raise SystemExit(EXIT_FAILURE)


@pdf_group.command(
    "search",
    epilog="""\b
Examples:
  folio pdf search ghost
  folio pdf search '"to be or not" AND (hamlet OR ophelia) NOT yorick' --top 5

\b
Stopwords ("the", "to", "not") match only inside a "quoted phrase";
a bare stopword is ignored, and the command says so.""",
)
@click.argument("query")
@index_option
@click.option("--top", type=click.IntRange(1, 1000), default=10, show_default=True, help="Results to show.")
def search_command(query: str, index_dir: Path, top: int) -> None:
    """Search the index: words, "phrases", AND, OR, NOT and parentheses; best first."""
    from folio.pdfindex.api import IndexFormatError, IndexNotFoundError, InvertedIndex, QuerySyntaxError

    try:
        index = InvertedIndex.load(index_dir)
    except IndexNotFoundError as exc:
        click.echo(f"error: {exc}; build it first: folio pdf index FILE.pdf... --index {index_dir}", err=True)
        raise SystemExit(EXIT_CONFIG_ERROR) from exc
    except IndexFormatError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(EXIT_CONFIG_ERROR) from exc
    try:
        ignored = index.ignored_words(query)
        hits = index.search(query, top=top)
    except QuerySyntaxError as exc:
        click.echo(f"error: {exc.reason} at position {exc.position}", err=True)
        click.echo(f"  {query}\n  {' ' * exc.position}^", err=True)
        raise SystemExit(EXIT_CONFIG_ERROR) from exc
    if ignored:
        words = ", ".join(f'"{word}"' for word in ignored)
        click.echo(
            f"note: ignored {words}: too common to search alone; quote a phrase to keep them", err=True
        )
    if not hits:
        click.echo("no matches")
        return
    for rank, hit in enumerate(hits, start=1):
        click.echo(f"{rank}. {hit.score:.3f}  {hit.title}  ({hit.doc_id})")
        click.echo(f"   {hit.snippet}")
