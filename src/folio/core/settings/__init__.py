"""Typed, layered settings (L3-21): see ``docs/configuration.md``.

Public surface: ``Settings`` and its subsystems, ``load_settings``, ``SettingsError``,
``describe_settings``, ``unknown_setting_names``, ``record_platform`` (what ``folio up``
writes so the CLI agrees with it) and ``SettingsReloader``.

The names load on first use, not when the package is imported. A context's own section
(``folio.identity.settings``) imports ``folio.core.settings.base``, which runs this file;
were it to import the tree here, the tree would ask for that half-loaded context module
and fail whenever the context's section is the first thing a process imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from folio.core.settings.database import DatabaseSettings
    from folio.core.settings.gateway import GatewaySettings
    from folio.core.settings.loader import (
        SettingInfo,
        SettingProblem,
        SettingsError,
        active_config_file,
        describe_settings,
        load_settings,
        record_platform,
        unknown_setting_names,
    )
    from folio.core.settings.logging import LoggingSettings
    from folio.core.settings.reload import SettingsReloader
    from folio.core.settings.security import SecuritySettings
    from folio.core.settings.services import ServicesSettings
    from folio.core.settings.tree import Settings

_HOMES = {
    "DatabaseSettings": "database",
    "GatewaySettings": "gateway",
    "LoggingSettings": "logging",
    "SecuritySettings": "security",
    "ServicesSettings": "services",
    "SettingInfo": "loader",
    "SettingProblem": "loader",
    "Settings": "tree",
    "SettingsError": "loader",
    "SettingsReloader": "reload",
    "active_config_file": "loader",
    "describe_settings": "loader",
    "load_settings": "loader",
    "record_platform": "loader",
    "unknown_setting_names": "loader",
}
"""Each name of ``__all__`` and the module of this package that defines it."""

__all__ = [
    "DatabaseSettings",
    "GatewaySettings",
    "LoggingSettings",
    "SecuritySettings",
    "ServicesSettings",
    "SettingInfo",
    "SettingProblem",
    "Settings",
    "SettingsError",
    "SettingsReloader",
    "active_config_file",
    "describe_settings",
    "load_settings",
    "record_platform",
    "unknown_setting_names",
]


if not TYPE_CHECKING:
    # Hidden from mypy, which would otherwise type every unknown name of this package as
    # Any: the imports above give it the real names, so a misspelt one is still an error.

    def __getattr__(name: str) -> Any:
        """Load a public name from its module on first use (PEP 562); ``AttributeError`` for others."""
        home = _HOMES.get(name)
        if home is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
        globals()[name] = value  # later look-ups find it directly
        return value
