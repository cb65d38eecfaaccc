"""``folio text``: TF-IDF over the Shakespeare texts (L3-10): a top-terms report and a REPL.

The texts are fetched on first use (``folio data fetch shakespeare-texts``). Analysis and the
fetcher are imported inside the commands: `folio --help` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from folio.entrypoints.cli.context import CliContext, pass_cli
from folio.entrypoints.cli.data import data_dir_of

if TYPE_CHECKING:
    from folio.textanalysis.api import TfidfModel

CORPUS = "shakespeare-texts"
"""The default corpus."""

TEXT_SOURCES = ("shakespeare-texts", "austen-novels", "bible-kjv", "devils-dictionary")
"""The public-domain text sets of ``folio data`` a corpus can be made of."""

source_option = click.option(
    "--source",
    "sources",
    multiple=True,
    type=click.Choice(TEXT_SOURCES),
    help=f"Text set(s) making the corpus (repeatable; default {CORPUS}).",
)


def _load_model(cli: CliContext, sources: tuple[str, ...]) -> TfidfModel:
    """Fetch the corpus when missing, analyse every work, fit TF-IDF (names: the works' keys)."""
    from folio.core.errors import FolioError
    from folio.datasets.api import fetch, read_public_domain_texts
    from folio.textanalysis.api import analyze, build_tfidf

    chosen = sources or (CORPUS,)
    documents: dict[str, list[str]] = {}
    try:
        for source in chosen:
            root = fetch(source, data_dir=data_dir_of(cli))
            for work in read_public_domain_texts(source, root):
                # Keys are unique within a set; prefix them only when sets are mixed.
                name = work.key if len(chosen) == 1 else f"{source}:{work.key}"
                documents[name] = analyze(work.text)
    except FolioError as error:
        raise click.ClickException(str(error)) from error
    return build_tfidf(documents)


@click.group("text")
def text_group() -> None:
    """Word frequencies and TF-IDF over the public-domain texts (Shakespeare by default)."""


@text_group.command(
    "report",
    epilog="""\b
Examples:
  folio text report --top 5
  folio text report --format html --out shakespeare.html
  folio text report --source austen-novels --source bible-kjv""",
)
@source_option
@click.option(
    "--top", "top_n", default=10, show_default=True, type=click.IntRange(1, 1000), help="Terms per work."
)
@click.option("--format", "fmt", type=click.Choice(["csv", "html"]), default="csv", show_default=True)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Write here (default: stdout).")
@pass_cli
def report_command(cli: CliContext, sources: tuple[str, ...], top_n: int, fmt: str, out: Path | None) -> None:
    """The heaviest TF-IDF terms of each work, as CSV or an HTML page with bar charts."""
    from folio.textanalysis.api import render_csv, render_html, top_terms_by_work

    top = top_terms_by_work(_load_model(cli, sources), top_n)
    title = f"{', '.join(sources or (CORPUS,))}: top terms per work"
    rendered = render_csv(top) if fmt == "csv" else render_html(top, title=title)
    if out is None:
        click.echo(rendered, nl=False)
    else:
        out.write_text(rendered, encoding="utf-8")
        click.echo(f"wrote {out}", err=True)


@text_group.command(
    "repl",
    epilog="""\b
Examples:
  folio text repl                   # then type: ghost murder revenge
  echo "storm island" | folio text repl --limit 3
  folio text repl --source bible-kjv""",
)
@source_option
@click.option("--limit", default=5, show_default=True, type=click.IntRange(1, 100), help="Works per answer.")
@pass_cli
def repl_command(cli: CliContext, sources: tuple[str, ...], limit: int) -> None:
    """Type words, get the most similar works by cosine over TF-IDF; an empty line or EOF ends."""
    from folio.textanalysis.api import analyze

    model = _load_model(cli, sources)
    click.echo(f"{len(model.names)} works loaded. Type words, an empty line to quit.", err=True)
    while True:
        click.echo("> ", nl=False, err=True)
        line = sys.stdin.readline()
        if not line.strip():
            break
        hits = model.search(analyze(line), limit=limit)
        if not hits:
            click.echo("no match")
        for name, score in hits:
            click.echo(f"{score:.4f}  {name}")
