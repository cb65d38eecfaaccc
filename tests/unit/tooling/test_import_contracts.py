"""The architecture's import contracts: generated from the one tier declaration, complete, kept."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO_ROOT
from tests.support.imports import loaded_by

pytestmark = pytest.mark.unit


def _contracts_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("folio_contracts", REPO_ROOT / "scripts" / "contracts.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


contracts = _contracts_script()
ARCHITECTURE = contracts.load()
API_ONLY = [package for tier in ARCHITECTURE.tiers if tier.api_only for package in tier.packages]


def test_lint_imports_passes() -> None:
    """`lint-imports` finds every contract kept."""
    script = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(script), "--no-cache"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_contracts_are_generated_from_the_tiers() -> None:
    """The [tool.importlinter] section is exactly what the declaration generates (`make contracts`)."""
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "contracts.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_every_package_of_folio_is_in_a_tier() -> None:
    """Every package and top-level module under src/folio is declared in exactly one tier."""
    declared = ARCHITECTURE.packages()
    assert contracts.undeclared(ARCHITECTURE) == []
    assert len(declared) == len(set(declared)), "a package is in two tiers"
    assert set(declared) == set(contracts.source_packages())


def test_a_new_package_left_out_of_the_tiers_is_caught(tmp_path: Path) -> None:
    """A package added under folio without a tier fails the completeness check, and the script refuses."""
    source = tmp_path / "folio"
    for package in contracts.source_packages():
        if package in {"bootstrap", "__main__"}:
            (source / f"{package}.py").parent.mkdir(parents=True, exist_ok=True)
            (source / f"{package}.py").write_text("")
        else:
            (source / package).mkdir(parents=True)
            (source / package / "__init__.py").write_text("")
    assert contracts.undeclared(ARCHITECTURE, source) == []
    (source / "wishlists").mkdir()
    (source / "wishlists" / "__init__.py").write_text("")
    assert contracts.undeclared(ARCHITECTURE, source) == ["wishlists"]


def test_tiers_run_entry_points_first_and_the_kernel_last() -> None:
    """The layers contract has one layer per tier: entry points > wiring > ... > httpkit > core."""
    layers = {contract["id"]: contract for contract in contracts.contracts(ARCHITECTURE)}["tiers"]["layers"]
    assert layers[:2] == ["folio.entrypoints : folio.__main__", "folio.bootstrap"]
    assert layers[-2].split(" : ")[0] == "folio.httpkit"
    assert layers[-1] == "folio.core"
    assert len(layers) == len(ARCHITECTURE.tiers)


def test_each_context_and_library_is_reached_only_through_its_api() -> None:
    """Each api_only package is protected: its api open to all, its adapters to entry points."""
    generated = {contract["id"]: contract for contract in contracts.contracts(ARCHITECTURE)}
    assert {"tasks", "search", "identity", "catalog", "audit", "usage", "mail"} <= set(API_ONLY)
    for package in API_ONLY:
        contract = generated[f"{package}-api-only"]
        assert contract["type"] == "protected"
        assert contract["protected_modules"] == [f"folio.{package}.*"]
        assert contract["ignore_imports"][0] == f"folio.** -> folio.{package}.api"
        assert all(rule.startswith("folio.entrypoints.** -> ") for rule in contract["ignore_imports"][1:])


def test_an_exception_must_say_why(tmp_path: Path) -> None:
    """An exception line without its reason is refused when the declaration is read."""
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[tool.folio.architecture]\nadapters = []\nexceptions = ["a -> b"]\n'
        '[[tool.folio.architecture.tiers]]\nname = "t"\npackages = ["a", "b"]\n'
    )
    with pytest.raises(ValueError, match="importer -> imported: why"):
        contracts.load(pyproject)


@pytest.mark.parametrize("package", API_ONLY)
def test_api_loads_no_web_framework_or_cli_toolkit(package: str) -> None:
    """A context's or library's api, imported in a fresh process, loads no web framework or click of its own.

    httpx imports click for its own command line when click is installed (``httpx/_main.py``):
    that one importer is allowed, Folio's code is not.
    """
    loaded = loaded_by(f"folio.{package}.api", contracts.FRAMEWORKS)
    assert {
        name: importer for name, importer in loaded.items() if not importer.endswith("httpx/_main.py")
    } == {}


DECLARED = contracts.declarations(ARCHITECTURE)


def test_each_context_settings_module_is_a_declaration_the_kernel_composes() -> None:
    """identity, mail and usage declare their settings; core.settings.tree composes each through one edge."""
    assert ARCHITECTURE.declarations == {"settings": "core.settings.tree"}
    assert {d.package for d in DECLARED} >= {"identity", "mail", "usage"}
    generated = {contract["id"]: contract for contract in contracts.contracts(ARCHITECTURE)}
    edges = [f"folio.core.settings.tree -> folio.{d.package}.settings" for d in DECLARED]
    assert generated["tiers"]["ignore_imports"] == edges
    assert generated["acyclic"]["ignore_imports"] == edges
    for declaration in DECLARED:
        api_only = generated[f"{declaration.package}-api-only"]
        assert api_only["allowed_importers"] == [f"folio.{declaration.package}", "folio.core.settings.tree"]
    pure = generated["settings-declarations-pure"]
    assert pure["type"] == "forbidden"
    assert pure["source_modules"] == [f"folio.{d.package}.settings" for d in DECLARED]
    owners = {d.package for d in DECLARED}
    assert pure["forbidden_modules"] == [
        f"folio.{p}.*" if p in owners else f"folio.{p}" for p in ARCHITECTURE.packages() if p != "core"
    ]


def test_a_declaration_edge_opens_only_for_a_settings_module_on_disk(tmp_path: Path) -> None:
    """A context that gains a settings.py gets that edge opened; a context without one gets none."""
    source = tmp_path / "folio"
    for package in ("core", "catalog", "audit"):
        (source / package).mkdir(parents=True)
        (source / package / "__init__.py").write_text("")
    (source / "core" / "settings.py").write_text("")  # the kernel's own module is no declaration
    (source / "catalog" / "settings.py").write_text("")
    declared = contracts.declarations(ARCHITECTURE, source)
    assert [(d.package, d.edge) for d in declared] == [
        ("catalog", "folio.core.settings.tree -> folio.catalog.settings")
    ]
    generated = {contract["id"]: contract for contract in contracts.contracts(ARCHITECTURE, source)}
    # The tier's declared exception (users -> identity), then the declaration's edge.
    assert generated["shared-domain-independent"]["ignore_imports"] == [
        "folio.users.** -> folio.identity.**",
        declared[0].edge,
    ]
    # That tier's one declared exception, and no declaration edge (audit has no settings.py here).
    assert generated["platform-services-independent"]["ignore_imports"] == [
        "folio.streaming.** -> folio.lake.**"
    ]
    assert generated["audit-api-only"]["allowed_importers"] == ["folio.audit"]
    assert generated["settings-declarations-pure"]["source_modules"] == ["folio.catalog.settings"]
