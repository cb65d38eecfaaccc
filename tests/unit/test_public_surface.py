"""The names Folio promises to keep, and that every module imports on its own."""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import folio
import folio.core.db
import folio.core.errors
import folio.core.logging
import folio.core.resilience
import folio.core.settings
import folio.core.tenancy

pytestmark = pytest.mark.unit


def test_settings_exports() -> None:
    """folio.core.settings exports exactly its documented surface."""
    assert sorted(folio.core.settings.__all__) == [
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


def test_logging_exports() -> None:
    """folio.core.logging exports exactly its documented surface."""
    assert sorted(folio.core.logging.__all__) == [
        "LOG_SCHEMA",
        "bind_request_context",
        "configure_logging",
        "correlation_id",
        "new_correlation_id",
        "request_context",
        "shutdown_logging",
    ]


def test_db_exports() -> None:
    """folio.core.db exports exactly its documented surface."""
    assert sorted(folio.core.db.__all__) == [
        "Base",
        "Database",
        "NAMING_CONVENTION",
        "StatementTimeoutError",
        "UnitOfWork",
        "build_engine",
        "is_connection_error",
        "is_transient_error",
        "note_after_commit",
        "open_database",
        "pin_reads_to_primary",
        "read_your_writes_scope",
        "reads_from_primary",
    ]


def test_resilience_exports() -> None:
    """folio.core.resilience exports exactly its documented surface."""
    assert sorted(folio.core.resilience.__all__) == [
        "BreakerState",
        "CircuitBreaker",
        "CircuitOpenError",
        "Clock",
        "Permit",
    ]


def test_tenancy_exports() -> None:
    """folio.core.tenancy exports exactly its documented surface."""
    assert sorted(folio.core.tenancy.__all__) == [
        "POLICY_NAME",
        "TENANT_SETTING",
        "TenantOwned",
        "TenantSession",
        "current_tenant",
        "disable_tenant_isolation",
        "enable_tenant_isolation",
        "require_tenant",
        "tenant_filter",
        "tenant_scope",
    ]


def _all_modules() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.walk_packages(folio.__path__, prefix="folio.")
        if not info.name.startswith("folio.migrations.") and info.name != "folio.__main__"
    )


ENTRY_MODULES = [
    "folio.bootstrap",
    "folio.core.db",
    "folio.core.errors",
    "folio.core.logging",
    "folio.core.migrations",
    "folio.core.resilience",
    "folio.core.settings",
    "folio.core.tenancy",
    "folio.entrypoints.cli",
    "folio.entrypoints.gateway",
    "folio.entrypoints.worker",
    "folio.ops.manager",
    "folio.ops.supervisor",
]
"""The modules other code enters Folio through: each must import first, in a fresh process."""

_IMPORT_SCRIPT = """
import importlib, socket, sys
def refuse(*args, **kwargs):
    raise RuntimeError("connected at import time")
socket.socket.connect = refuse
failed = []
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed.append(f"{name}: {exc!r}")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def _import_fresh(modules: list[str], cwd: Path) -> str:
    # Coverage of these imports adds nothing and doubles each interpreter's start-up.
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("COV", "COVERAGE"))}
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_SCRIPT, *modules],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
    )
    return "" if done.returncode == 0 else done.stdout + done.stderr


def test_every_module_imports_without_connecting_or_writing(tmp_path: Path) -> None:
    """All modules import in one fresh interpreter, open no connection and create no files."""
    modules = _all_modules()
    assert set(ENTRY_MODULES) <= set(modules)
    assert _import_fresh(modules, tmp_path) == ""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("module", ENTRY_MODULES)
def test_entry_module_imports_first_without_cycles(module: str, tmp_path: Path) -> None:
    """Importing an entry module first, in a fresh interpreter, hits no import cycle."""
    assert _import_fresh([module], tmp_path) == ""
