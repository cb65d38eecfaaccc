"""Plugins through the ``folio.plugins`` entry-point group, and shell completion.

A plugin is an installed distribution whose ``pyproject.toml`` declares::

    [project.entry-points."folio.plugins"]
    hello = "folio_hello:command"

where ``command`` is a ``click.Command`` (or group); it appears as ``folio hello``.
A plugin that fails to load is reported, never allowed to break the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import entry_points

import click

from folio.clikit.help import examples

PLUGIN_GROUP = "folio.plugins"


@dataclass(frozen=True)
class PluginStatus:
    """One entry point of the plugin group and what became of it."""

    name: str
    target: str
    loaded: bool
    problem: str = ""


_statuses: list[PluginStatus] = []


def load_plugins(cli: click.Group) -> list[PluginStatus]:
    """Add every plugin command to ``cli``; returns what happened to each entry point."""
    _statuses.clear()
    built_in = set(cli.list_commands(click.Context(cli)))  # lazy commands included, none imported
    for ep in sorted(entry_points(group=PLUGIN_GROUP), key=lambda e: e.name):
        status = _load_one(cli, built_in, ep.name, ep.value, ep.load)
        _statuses.append(status)
    return list(_statuses)


def _load_one(cli: click.Group, built_in: set[str], name: str, target: str, load: object) -> PluginStatus:
    if name in built_in:
        return PluginStatus(name, target, loaded=False, problem=f"`folio {name}` is built in; plugin ignored")
    try:
        command = load()  # type: ignore[operator]
    except Exception as exc:  # noqa: BLE001 - a broken plugin must not break the CLI
        return PluginStatus(name, target, loaded=False, problem=f"import failed: {type(exc).__name__}: {exc}")
    if not isinstance(command, click.Command):
        return PluginStatus(name, target, loaded=False, problem=f"{target} is not a click command")
    cli.add_command(command, name=name)
    return PluginStatus(name, target, loaded=True)


@click.group("plugins")
def plugins_group() -> None:
    """Commands added by installed plugins (entry-point group `folio.plugins`)."""


@plugins_group.command("list", epilog=examples("folio plugins list"))
def list_command() -> None:
    """List installed plugins and whether each loaded."""
    if not _statuses:
        click.echo(f"no plugins installed (entry-point group {PLUGIN_GROUP!r})")
    for status in _statuses:
        state = (
            click.style("loaded", fg="green")
            if status.loaded
            else click.style(f"not loaded: {status.problem}", fg="red")
        )
        click.echo(f"{status.name} ({status.target}): {state}")


@click.command(
    "completion",
    epilog=examples("folio completion bash >> ~/.bashrc", 'eval "$(folio completion zsh)"'),
)
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion_command(shell: str) -> None:
    """Print the shell-completion script for SHELL."""
    from click.shell_completion import get_completion_class

    ctx = click.get_current_context()
    root = ctx.find_root().command
    completion_class = get_completion_class(shell)
    if completion_class is None:  # pragma: no cover - the Choice above admits only supported shells
        raise click.BadParameter(f"no completion for {shell}")
    completion = completion_class(root, {}, "folio", "_FOLIO_COMPLETE")
    click.echo(completion.source())
