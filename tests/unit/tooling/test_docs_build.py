"""The docs site: its generated reference, its examples and the strict build."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from folio.core.errors import PROBLEM_CATALOGUE
from folio.core.logging.schema import LOG_SCHEMA
from folio.core.settings import load_settings
from folio.ops.services import SERVICE_TYPES

REPO_ROOT = Path(__file__).resolve().parents[3]
DOCS = REPO_ROOT / "docs"


def load_hook() -> ModuleType:
    """The MkDocs hook module, loaded from its file as MkDocs loads it."""
    spec = importlib.util.spec_from_file_location("folio_docs_hook", DOCS / "hooks" / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def hook() -> ModuleType:
    """The generation hook."""
    return load_hook()


@pytest.mark.unit
def test_every_marker_in_the_docs_has_a_generator(hook: ModuleType) -> None:
    """Each ``<!-- folio:NAME -->`` used in a page names a generator (a typo fails here, before a build)."""
    used = {
        name
        for page in DOCS.rglob("*.md")
        for name in re.findall(r"<!--\s*folio:([a-z][a-z-]*)\s*-->", page.read_text(encoding="utf-8"))
    }
    assert used
    assert used <= set(hook.GENERATORS)


@pytest.mark.unit
def test_every_generator_produces_content(hook: ModuleType) -> None:
    """Every generator returns non-empty Markdown for this checkout."""
    context = hook.BuildContext(root=REPO_ROOT)
    for name, generate in hook.GENERATORS.items():
        assert generate(context).strip(), name


@pytest.mark.unit
def test_settings_reference_masks_secret_defaults(hook: ModuleType) -> None:
    """Secret defaults appear as ``•••`` in the reference, never in clear."""
    reference = hook.settings_reference(hook.BuildContext(root=REPO_ROOT))
    assert "`FOLIO_SECURITY_SECRET_KEY`" in reference
    assert hook.MASK in reference
    assert "folio-dev-secret-key-change-me" not in reference
    assert "folio-dev-password" not in reference


@pytest.mark.unit
def test_services_table_lists_every_registered_service(hook: ModuleType) -> None:
    """The services table has a row for each entry of ``SERVICE_TYPES`` and no machine-specific paths."""
    table = hook.services_table(hook.BuildContext(root=REPO_ROOT))
    for service_type in SERVICE_TYPES:
        assert f"| `{service_type.name}` |" in table
    assert sys.prefix not in table
    assert "*not available at build time" not in table


@pytest.mark.unit
@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ("dev", {"backend": "postgres", "pool_size": 10, "level": "INFO"}),
        ("test", {"backend": "sqlite", "pool_size": 10, "level": "INFO"}),
        ("prod", {"backend": "postgres", "pool_size": 10, "level": "WARNING"}),
    ],
)
def test_configuration_example_loads_under_each_profile(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, profile: str, expected: dict[str, object]
) -> None:
    """The example ``folio.toml`` of configuration.md is valid and its overlays apply per profile."""
    page = (DOCS / "configuration.md").read_text(encoding="utf-8")
    example = page.split("## An example `folio.toml`", 1)[1]
    match = re.search(r"```toml\n(.*?)```", example, flags=re.DOTALL)
    assert match is not None
    config = clean_env / "folio.toml"
    config.write_text(match.group(1), encoding="utf-8")
    monkeypatch.setenv("FOLIO_PROFILE", profile)
    if profile == "prod":
        for name in (
            "SECURITY_SECRET_KEY",
            "SERVICES_POSTGRES_APP_PASSWORD",
            "SERVICES_POSTGRES_OWNER_PASSWORD",
            "SERVICES_RABBITMQ_PASSWORD",
            "SERVICES_SEARCH_API_KEY",
            "SERVICES_OBJECT_STORE_SECRET_KEY",
        ):
            monkeypatch.setenv(f"FOLIO_{name}", f"prod-{name.lower()}")
        monkeypatch.setenv("FOLIO_IDENTITY_JWT_KEYS", '{"2026-11": "a-production-signing-key-of-32-chars+"}')
        monkeypatch.setenv("FOLIO_GRPC_SERVICE_KEYS", '{"2026-12": "a-production-service-key-of-32-chars+"}')
        monkeypatch.setenv("FOLIO_GRPC_SERVICE_ACTIVE_KID", "2026-12")
    settings = load_settings(config_file=config, env_file=None)
    actual = {
        "backend": settings.database.backend,
        "pool_size": settings.database.pool_size,
        "level": settings.logging.level,
    }
    assert actual == expected


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built once for this module exactly as ``make docs`` builds it."""
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    env = {key: value for key, value in env.items() if not key.upper().startswith("FOLIO_")}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_ROOT,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def page(site: Path, name: str) -> str:
    """The built HTML of one page."""
    return (site / name / "index.html").read_text(encoding="utf-8")


@pytest.mark.e2e
def test_strict_build_generates_the_settings_reference(site: Path) -> None:
    """``mkdocs build --strict`` succeeds and the configuration page lists generated variables."""
    html = page(site, "configuration")
    assert "FOLIO_SERVICES_POSTGRES_PORT" in html
    assert "folio:settings-reference" not in html


@pytest.mark.e2e
def test_strict_build_generates_logging_errors_and_services(site: Path) -> None:
    """The log schema, every problem code and every registered service are on their pages."""
    logging_page = page(site, "logging")
    assert all(f"<code>{field}</code>" in logging_page for field in LOG_SCHEMA)
    errors_page = page(site, "errors")
    assert all(f"<code>{code}</code>" in errors_page for code in PROBLEM_CATALOGUE)
    services_page = page(site, "services")
    assert all(f"<code>{service.name}</code>" in services_page for service in SERVICE_TYPES)


@pytest.mark.e2e
def test_strict_build_renders_the_api_reference_and_changelog(site: Path) -> None:
    """The API reference renders docstrings, and the changelog page includes CHANGELOG.md."""
    assert "load_settings" in page(site, "reference/settings")
    assert "Unreleased" in page(site, "changelog")
