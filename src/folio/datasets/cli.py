"""The data sets' command-line adapter, ``folio data``: list the public data sets, fetch them.

The fetcher (and httpx) is imported inside the commands: `folio --help` stays fast.
"""

from __future__ import annotations

import click

from folio.clikit import CliContext, examples, pass_cli

__all__ = ["data_group"]


@click.group("data")
def data_group() -> None:
    """List and fetch the public data sets Folio's features use."""


@data_group.command(
    "list",
    epilog=examples("folio data list                   # what can be fetched, and what already is"),
)
@pass_cli
def list_command(cli: CliContext) -> None:
    """Each data set: name, whether fetched, licence, description."""
    from folio.datasets.api import is_fetched, load_sources

    data_dir = cli.data_dir
    for source in load_sources().values():
        state = "fetched" if is_fetched(source, data_dir=data_dir) else "not fetched"
        click.echo(f"{source.name}  [{state}]  {source.kind}  {source.licence}")
        click.echo(f"    {source.description}")


@data_group.command(
    "fetch",
    epilog=examples(
        "folio data fetch shakespeare-texts   one data set",
        "folio data fetch austen-novels bible-kjv",
        "folio data fetch --all               every data set in the manifest",
    ),
)
@click.argument("names", nargs=-1)
@click.option("--all", "fetch_all", is_flag=True, help="Fetch every data set in the manifest.")
@pass_cli
def fetch_command(cli: CliContext, names: tuple[str, ...], fetch_all: bool) -> None:
    """Download, verify (sha256) and extract data sets; ones already there are skipped."""
    from folio.core.errors import FolioError
    from folio.datasets.api import fetch, load_sources

    if fetch_all == bool(names):
        # Fetching everything is ~37 MB of downloads: ask for it by name, not by omission.
        raise click.UsageError("name the data sets to fetch, or pass --all")
    data_dir = cli.data_dir
    for name in names or tuple(load_sources()):
        try:
            path = fetch(name, data_dir=data_dir)
        except FolioError as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"{name}: {path}")
