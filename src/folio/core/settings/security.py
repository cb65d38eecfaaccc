"""The ``security`` section: the keys and secrets the whole platform shares, and who operates it."""

from __future__ import annotations

from pydantic import SecretStr

from folio.core.settings.base import FolioSettingsBase
from folio.core.settings.fields import setting


class SecuritySettings(FolioSettingsBase):
    """Keys and secrets shared by the platform, and its operators."""

    settings_path = ("security",)

    secret_key: SecretStr = setting(
        SecretStr("folio-dev-secret-key-change-me"),
        insecure_default=True,
        description="Key that signs sessions and tokens; `prod` refuses the default.",
    )
    platform_operators: list[str] = setting(
        default_factory=list,
        reloadable=True,
        description="Account e-mail addresses (case-insensitive) of the installation's operators: "
        "signed in to any shop with any role, they may open the ops and trace pages, which show every "
        "shop's figures and requests. Empty (the default, in every profile): nobody may.",
    )
