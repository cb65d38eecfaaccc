"""Dynamic reload: reloadable settings change live, the rest wait for a restart."""

from __future__ import annotations

import functools
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from folio.core.settings import Settings, SettingsReloader, load_settings

pytestmark = pytest.mark.unit

WAIT_S = 10.0


def wait_until(condition: Callable[[], bool], timeout_s: float = WAIT_S) -> bool:
    """Poll ``condition`` until it holds or ``timeout_s`` passes; returns whether it held."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def config(clean_env: Path) -> Path:
    """A TOML config file with a log level and a gateway port."""
    path = clean_env / "folio.toml"
    path.write_text('[logging]\nlevel = "INFO"\n[gateway]\nport = 8100\n', encoding="utf-8")
    return path


@pytest.fixture
def reloader(config: Path) -> Iterator[SettingsReloader]:
    """A reloader over settings loaded from ``config``; stopped at the end."""
    load = functools.partial(load_settings, config_file=config)
    reloader = SettingsReloader(load(), load)
    yield reloader
    reloader.stop()


def rewrite(path: Path, *, level: str = "INFO", port: int = 8100) -> None:
    """Write the config file in place with a new level and port."""
    path.write_text(f'[logging]\nlevel = "{level}"\n[gateway]\nport = {port}\n', encoding="utf-8")


def test_reload_applies_reloadable_changes(reloader: SettingsReloader, config: Path) -> None:
    """A changed reloadable field (logging.level) is applied to the live settings object."""
    live = reloader.settings
    rewrite(config, level="DEBUG")

    result = reloader.reload()

    assert result.applied == ["logging.level"]
    assert result.needs_restart == []
    assert result.error is None
    assert reloader.settings is live
    assert live.logging.level == "DEBUG"


def test_reload_reports_but_keeps_non_reloadable_changes(reloader: SettingsReloader, config: Path) -> None:
    """A changed non-reloadable field (gateway.port) needs a restart and keeps its running value."""
    rewrite(config, port=8200)

    result = reloader.reload()

    assert result.needs_restart == ["gateway.port"]
    assert result.applied == []
    assert reloader.settings.gateway.port == 8100


def test_reload_with_both_kinds_applies_only_the_reloadable(reloader: SettingsReloader, config: Path) -> None:
    """A mixed change applies the reloadable half and reports the rest, never half-applying a field."""
    rewrite(config, level="WARNING", port=8300)

    result = reloader.reload()

    assert (result.applied, result.needs_restart) == (["logging.level"], ["gateway.port"])
    assert (reloader.settings.logging.level, reloader.settings.gateway.port) == ("WARNING", 8100)


def test_reload_without_changes_does_nothing(reloader: SettingsReloader) -> None:
    """Reloading unchanged sources applies nothing and calls no listener."""
    calls: list[list[str]] = []
    reloader.subscribe(lambda _settings, paths: calls.append(paths))

    result = reloader.reload()

    assert (result.applied, result.needs_restart, result.error) == ([], [], None)
    assert calls == []


def test_listeners_get_the_live_settings_and_changed_paths(reloader: SettingsReloader, config: Path) -> None:
    """Every subscriber is called with the live settings and the applied paths, after they apply."""
    seen: list[tuple[Settings, list[str], str]] = []
    reloader.subscribe(lambda settings, paths: seen.append((settings, paths, settings.logging.level)))
    reloader.subscribe(lambda settings, paths: seen.append((settings, paths, "second")))
    rewrite(config, level="ERROR")

    reloader.reload()

    assert seen == [
        (reloader.settings, ["logging.level"], "ERROR"),
        (reloader.settings, ["logging.level"], "second"),
    ]


def test_nested_reloadable_mapping_changes_apply(reloader: SettingsReloader, config: Path) -> None:
    """Reloadable mappings (per-logger levels, sampling rates) are replaced as a whole."""
    config.write_text(
        '[logging]\nlevel = "INFO"\nlevels = {"folio.db" = "DEBUG"}\nsampling = {"noisy" = 0.5}\n'
        "[gateway]\nport = 8100\n",
        encoding="utf-8",
    )

    result = reloader.reload()

    assert sorted(result.applied) == ["logging.levels", "logging.sampling"]
    assert reloader.settings.logging.levels == {"folio.db": "DEBUG"}
    assert reloader.settings.logging.sampling == {"noisy": 0.5}


def test_invalid_config_keeps_old_settings_and_returns_error(
    reloader: SettingsReloader, config: Path
) -> None:
    """An invalid new config is rejected whole: nothing changes, the error names the setting."""
    calls: list[list[str]] = []
    reloader.subscribe(lambda _settings, paths: calls.append(paths))
    config.write_text('[logging]\nlevel = "LOUD"\n[gateway]\nport = 8100\n', encoding="utf-8")

    result = reloader.reload()

    assert result.error is not None
    assert "logging.level" in result.error
    assert (result.applied, result.needs_restart) == ([], [])
    assert reloader.settings.logging.level == "INFO"
    assert calls == []


def test_malformed_toml_on_reload_is_rejected(reloader: SettingsReloader, config: Path) -> None:
    """A half-written (malformed) file is rejected rather than crashing the process."""
    config.write_text("[logging\nlevel = ", encoding="utf-8")

    result = reloader.reload()

    assert result.error is not None
    assert "not valid TOML" in result.error
    assert reloader.settings.logging.level == "INFO"


def test_sighup_triggers_reload(reloader: SettingsReloader, config: Path) -> None:
    """After ``install_sighup``, SIGHUP to the process re-reads the sources."""
    previous = signal.getsignal(signal.SIGHUP)
    try:
        reloader.install_sighup()
        rewrite(config, level="DEBUG")
        os.kill(os.getpid(), signal.SIGHUP)

        assert wait_until(lambda: reloader.settings.logging.level == "DEBUG")
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_file_change_triggers_reload(reloader: SettingsReloader, config: Path) -> None:
    """``watch`` reloads when the file is rewritten in place."""
    applied = threading.Event()
    reloader.subscribe(lambda _settings, _paths: applied.set())
    reloader.watch(config)
    time.sleep(0.3)  # let the watcher register before the write it must see

    rewrite(config, level="DEBUG")

    assert applied.wait(WAIT_S)
    assert reloader.settings.logging.level == "DEBUG"


def test_file_replaced_atomically_triggers_reload_each_time(reloader: SettingsReloader, config: Path) -> None:
    """Editors that save by renaming a new file over the old one are still followed, repeatedly."""
    reloader.watch(config)
    time.sleep(0.3)

    for level in ("DEBUG", "WARNING"):
        staged = config.with_suffix(".tmp")
        rewrite(staged, level=level)
        staged.replace(config)

        assert wait_until(lambda level=level: reloader.settings.logging.level == level)  # type: ignore[misc]


def test_stop_ends_the_watch_thread(reloader: SettingsReloader, config: Path) -> None:
    """``stop`` ends the watcher thread; later file changes are no longer applied."""
    reloader.watch(config)
    watcher = reloader._watcher
    assert watcher is not None
    assert watcher.is_alive()

    reloader.stop()

    assert not watcher.is_alive()
    rewrite(config, level="DEBUG")
    time.sleep(0.5)
    assert reloader.settings.logging.level == "INFO"


def test_stop_without_watch_is_harmless(reloader: SettingsReloader) -> None:
    """``stop`` on a reloader that never watched returns at once."""
    reloader.stop()

    assert reloader._watcher is None
