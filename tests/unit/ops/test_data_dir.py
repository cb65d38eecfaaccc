"""Where the servers keep their data by default: outside the checkout, one folder per checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

from folio.core.settings import load_settings
from folio.core.settings.services import default_services_data_dir

pytestmark = pytest.mark.unit


def test_a_fresh_checkout_keeps_server_data_under_the_system_root(tmp_path: Path) -> None:
    """Where the user may write the system root, data goes there, named by the checkout and its path hash."""
    system_root = tmp_path / "var-lib-folio"
    checkout = tmp_path / "home" / "folio"
    checkout.mkdir(parents=True)

    chosen = default_services_data_dir(checkout, system_root)

    assert chosen.parent == system_root
    assert chosen.name.startswith("folio-")
    assert chosen == default_services_data_dir(checkout, system_root)


def test_two_checkouts_never_share_server_data(tmp_path: Path) -> None:
    """Two clones with the same folder name get different data folders (the hash of the path)."""
    first, second = tmp_path / "a" / "folio", tmp_path / "b" / "folio"

    assert default_services_data_dir(first, tmp_path) != default_services_data_dir(second, tmp_path)


def test_a_checkout_with_server_data_inside_keeps_it(tmp_path: Path) -> None:
    """An existing `.folio/services` (from before the move) stays in use, so no server loses its data."""
    (tmp_path / ".folio" / "services").mkdir(parents=True)

    assert default_services_data_dir(tmp_path, tmp_path / "var-lib-folio") == tmp_path / ".folio" / "services"


def test_without_the_system_root_data_goes_to_the_xdg_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user who cannot create the system root (not root) gets $XDG_DATA_HOME/folio/<checkout>-<hash>."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    unreachable_root = tmp_path / "missing-parent" / "folio"

    chosen = default_services_data_dir(tmp_path / "folio", unreachable_root)

    assert chosen.parent == tmp_path / "xdg" / "folio"
    assert chosen.name.startswith("folio-")


def test_settings_default_follows_the_working_folder(clean_env: Path) -> None:
    """Loaded settings place server data by the checkout they are loaded in, outside it."""
    settings = load_settings()

    assert settings.services.data_dir == default_services_data_dir(clean_env)
    assert clean_env not in settings.services.data_dir.parents
