"""The settings tree composes each context's own section, which loads nothing of its context."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import folio
import folio.core.settings
from folio.core.settings import Settings
from folio.identity.settings import IdentitySettings
from folio.mail.settings import MailSettings
from folio.usage.settings import QuotaSettings, TenancySettings

pytestmark = pytest.mark.unit

CONTEXT_SETTINGS = sorted(
    f"folio.{path.parent.name}.settings"
    for path in Path(folio.__file__).parent.glob("*/settings.py")
    if path.parent.name != "core"
)
"""Every context's settings module on disk (a new one is probed without editing this file)."""

PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
loaded = sorted(name for name in sys.modules if name == "folio" or name.startswith("folio."))
from folio.core.settings import Settings
Settings()
print(json.dumps(loaded))
"""


def test_identity_mail_and_usage_declare_their_own_sections() -> None:
    """identity, mail and tenancy (usage's quotas) are classes of their contexts, under unchanged paths."""
    assert {"folio.identity.settings", "folio.mail.settings", "folio.usage.settings"} <= set(CONTEXT_SETTINGS)
    fields = Settings.model_fields
    assert fields["identity"].annotation is IdentitySettings
    assert fields["mail"].annotation is MailSettings
    assert fields["tenancy"].annotation is TenancySettings
    assert TenancySettings.model_fields["quotas"].annotation is QuotaSettings
    prefixes = [cls.model_config["env_prefix"] for cls in (IdentitySettings, MailSettings, QuotaSettings)]
    assert prefixes == ["FOLIO_IDENTITY_", "FOLIO_MAIL_", "FOLIO_TENANCY_QUOTAS_"]


@pytest.mark.parametrize("module", CONTEXT_SETTINGS)
def test_a_context_settings_module_imported_first_loads_only_the_kernels_settings_base(
    module: str, tmp_path: Path
) -> None:
    """Imported first in a fresh process, it loads its context's bare package and core's settings base only.

    That also shows the context's ``__init__`` stays import-light and that the tree, which
    imports this module, is not entered half-way (the package loads its names lazily).
    """
    result = subprocess.run(
        [sys.executable, "-c", PROBE, module],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    context = module.rsplit(".", 1)[0]
    assert json.loads(result.stdout) == sorted(
        [
            "folio",
            "folio.core",
            "folio.core.settings",
            "folio.core.settings.base",
            "folio.core.settings.fields",
            context,
            module,
        ]
    )


def test_the_package_surface_loads_each_name_from_its_module() -> None:
    """Every name folio.core.settings exports resolves to its defining module's object; others raise."""
    homes = folio.core.settings._HOMES
    assert sorted(homes) == sorted(folio.core.settings.__all__)
    for name, home in homes.items():
        defining = importlib.import_module(f"folio.core.settings.{home}")
        assert getattr(folio.core.settings, name) is getattr(defining, name)
    unknown = "no_such_name"
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        getattr(folio.core.settings, unknown)
