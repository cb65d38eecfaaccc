"""Typed, layered settings (L3-21): see ``docs/configuration.md``.

Public surface: ``Settings`` and its subsystems, ``load_settings``, ``SettingsError``,
``describe_settings``, ``unknown_setting_names``, ``record_platform`` (what ``folio up``
writes so the CLI agrees with it) and ``SettingsReloader``.
"""

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
from folio.core.settings.models import (
    DatabaseSettings,
    GatewaySettings,
    LoggingSettings,
    SecuritySettings,
    ServicesSettings,
    Settings,
)
from folio.core.settings.reload import SettingsReloader

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
