"""Text analysis's command-line adapter, ``folio text``: a top-terms report and a REPL (L3-10).

Both run TF-IDF over public-domain texts, the Shakespeare texts by default.

The texts are fetched on first use (``folio data fetch shakespeare-texts``). Works are
named by their titles (a Folio text as "Hamlet (Folio)"), and their words are counted
without the speaker tags before each speech (the reader's ``text_without_speakers``).
Analysis and the fetcher are imported inside the commands: `folio --help` stays fast.
The texts come from ``folio.datasets.api``: the one import of this library from another,
declared (with its reason) in ``[tool.folio.architecture]`` exceptions.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from folio.clikit import CliContext, examples, pass_cli

if TYPE_CHECKING:
    from folio.textanalysis.api import TfidfModel, WorkLabel

__all__ = ["text_group"]

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


@dataclass(frozen=True)
class Corpus:
    """A fitted corpus: the model (documents named by the works' keys); per key, label and spellings."""

    model: TfidfModel
    labels: dict[str, WorkLabel]
    spellings: dict[str, dict[str, str]]


def _load_corpus(cli: CliContext, sources: tuple[str, ...]) -> Corpus:
    """Fetch the corpus when missing, analyse every work without its speaker tags, fit TF-IDF."""
    from folio.datasets.api import fetch, read_public_domain_texts
    from folio.textanalysis.api import WorkLabel, analyze, build_tfidf, commonest_spellings

    chosen = sources or (CORPUS,)
    documents: dict[str, list[str]] = {}
    labels: dict[str, WorkLabel] = {}
    spellings: dict[str, dict[str, str]] = {}
    titles: set[str] = set()
    # A data set that cannot be fetched or read (FolioError, OSError) ends the command with
    # one line through the root group's handler (folio.clikit.failures).
    for source in chosen:
        root = fetch(source, data_dir=cli.data_dir)
        for work in read_public_domain_texts(source, root):
            # Keys are unique within a set; prefix them only when sets are mixed.
            key = work.key if len(chosen) == 1 else f"{source}:{work.key}"
            documents[key] = analyze(work.text_without_speakers)
            spellings[key] = commonest_spellings(work.text_without_speakers)
            title = f"{work.title} ({work.edition})" if work.edition else work.title
            # Two works of one title (mixed sets) stay apart in a report and a REPL answer.
            title = title if title not in titles else f"{title} [{key}]"
            titles.add(title)
            labels[key] = WorkLabel(title=title, author=work.author, edition=work.edition)
    return Corpus(model=build_tfidf(documents), labels=labels, spellings=spellings)


@click.group("text")
def text_group() -> None:
    """Word frequencies and TF-IDF over the public-domain texts (Shakespeare by default)."""


@text_group.command(
    "report",
    epilog=examples(
        "folio text report --top 5",
        "folio text report --format html --out shakespeare.html",
        "folio text report --source austen-novels --source bible-kjv",
    ),
)
@source_option
@click.option(
    "--top", "top_n", default=10, show_default=True, type=click.IntRange(1, 1000), help="Terms per work."
)
@click.option("--format", "fmt", type=click.Choice(["csv", "html"]), default="csv", show_default=True)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Write here (default: stdout).")
@pass_cli
def report_command(cli: CliContext, sources: tuple[str, ...], top_n: int, fmt: str, out: Path | None) -> None:
    """The heaviest TF-IDF terms of each work, under its title, as CSV or a readable HTML page."""
    from folio.textanalysis.api import render_csv, render_html, top_terms_by_work

    corpus = _load_corpus(cli, sources)
    top = top_terms_by_work(corpus.model, top_n, labels=corpus.labels, words=corpus.spellings)
    chosen = sources or (CORPUS,)
    title = (
        "Shakespeare: the words each work leans on" if chosen == (CORPUS,) else "The words each work leans on"
    )
    subtitle = f"{len(top)} works from {', '.join(chosen)}, the {top_n} heaviest TF-IDF terms of each"
    rendered = render_csv(top) if fmt == "csv" else render_html(top, title=title, subtitle=subtitle)
    if out is None:
        click.echo(rendered, nl=False)
    else:
        out.write_text(rendered, encoding="utf-8")
        click.echo(f"wrote {out}", err=True)


@text_group.command(
    "repl",
    epilog=examples(
        "folio text repl                   # then type: ghost murder revenge",
        'echo "storm island" | folio text repl --limit 3',
        "folio text repl --source bible-kjv",
    ),
)
@source_option
@click.option("--limit", default=5, show_default=True, type=click.IntRange(1, 100), help="Works per answer.")
@pass_cli
def repl_command(cli: CliContext, sources: tuple[str, ...], limit: int) -> None:
    """Type words, get the most similar works by cosine over TF-IDF; an empty line or EOF ends."""
    from folio.textanalysis.api import analyze

    corpus = _load_corpus(cli, sources)
    model = corpus.model
    click.echo(f"{len(model.names)} works loaded. Type words, an empty line to quit.", err=True)
    while True:
        click.echo("> ", nl=False, err=True)
        line = sys.stdin.readline()
        if not line.strip():
            break
        hits = model.search(analyze(line), limit=limit)
        if not hits:
            click.echo("no match")
        for key, score in hits:
            click.echo(f"{score:.4f}  {corpus.labels[key].title}")
