"""Command-line plumbing every context's ``cli`` adapter shares: an invocation's state, platform, errors.

Contexts define their own click groups (``<context>/cli.py``); ``folio.entrypoints.cli``
only assembles them into ``folio`` and injects what this package may not import (the
platform factory, the shop resolver). Keep this package to plumbing: no domain logic;
it imports the kernel, click and rich, nothing else of Folio.

- ``context``: ``CliContext`` and ``pass_cli``, ``run_on_platform``, ``shop_option``.
- ``failures``: the root group ``FolioGroup``, one ``error:`` line per expected failure.
- ``progress``: rich progress bars for long commands.
- ``help``: ``examples``, the epilog every command's help ends with.
"""

from __future__ import annotations

from folio.clikit.context import (
    EXIT_CONFIG_ERROR,
    EXIT_FAILURE,
    CliContext,
    PlatformFactory,
    ShopResolver,
    pass_cli,
    run_on_platform,
    shop_option,
)
from folio.clikit.help import examples

__all__ = [
    "EXIT_CONFIG_ERROR",
    "EXIT_FAILURE",
    "CliContext",
    "PlatformFactory",
    "ShopResolver",
    "examples",
    "pass_cli",
    "run_on_platform",
    "shop_option",
]
