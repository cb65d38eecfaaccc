"""The ``security`` section: the keys and secrets the whole platform shares."""

from __future__ import annotations

from pydantic import SecretStr

from folio.core.settings.base import FolioSettingsBase
from folio.core.settings.fields import setting


class SecuritySettings(FolioSettingsBase):
    """Keys and secrets shared by the platform."""

    settings_path = ("security",)

    secret_key: SecretStr = setting(
        SecretStr("folio-dev-secret-key-change-me"),
        insecure_default=True,
        description="Key that signs sessions and tokens; `prod` refuses the default.",
    )
