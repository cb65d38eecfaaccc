"""``folio.clikit.context``: an invocation's platform (lazily built, closed after its work), shops, data."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, cast

import pytest

from folio.clikit import CliContext, run_on_platform
from folio.core.data_migrations import TenantTarget
from folio.core.db import Database
from folio.core.errors import NotFoundError
from folio.core.platform import Platform
from folio.core.settings import Settings

pytestmark = pytest.mark.unit


class CountingFactory:
    """A platform factory that records each build and each close of what it built (no I/O)."""

    def __init__(self) -> None:
        self.built: list[Platform] = []
        self.closed: list[Platform] = []

    def __call__(self, settings: Settings) -> Platform:
        """A platform on ``settings`` whose parts are never used."""
        platform = Platform(
            settings=settings,
            database=cast("Database", None),
            rate_limiter=cast("Any", None),
            object_store=cast("Any", None),
        )

        async def close() -> None:
            self.closed.append(platform)

        platform.own(close)
        self.built.append(platform)
        return platform


async def _same(platform: Platform) -> Platform:
    return platform


def test_run_on_platform_builds_the_platform_once_runs_the_work_and_closes_it(settings: Settings) -> None:
    """The factory gets the invocation's settings; the work runs on that one platform, closed afterwards."""
    factory = CountingFactory()
    cli = CliContext(_settings=settings, platform_factory=factory)

    async def work(platform: Platform) -> Settings:
        assert cli.platform is platform  # one platform for the whole work
        return platform.settings

    assert run_on_platform(cli, work) is settings
    assert len(factory.built) == 1
    assert factory.closed == factory.built


def test_the_platform_closes_when_the_work_fails(settings: Settings) -> None:
    """An error of the work propagates (the root group explains it) after the platform closed."""
    factory = CountingFactory()
    cli = CliContext(_settings=settings, platform_factory=factory)

    async def work(_platform: Platform) -> None:
        raise NotFoundError("no shop called 'generated-test-shop'")

    with pytest.raises(NotFoundError):
        run_on_platform(cli, work)
    assert factory.closed == factory.built != []


def test_a_second_run_builds_a_fresh_platform(settings: Settings) -> None:
    """A closed platform is never reused: its clients belonged to the finished event loop."""
    factory = CountingFactory()
    cli = CliContext(_settings=settings, platform_factory=factory)
    first = run_on_platform(cli, _same)
    second = run_on_platform(cli, _same)
    assert first is not second
    assert factory.closed == [first, second]


def test_without_a_factory_there_is_no_platform(settings: Settings) -> None:
    """A context made without the entry point's factory says so instead of building anything."""
    with pytest.raises(RuntimeError, match="platform_factory"):
        _ = CliContext(_settings=settings).platform


def test_a_shop_is_resolved_by_the_injected_resolver(settings: Settings) -> None:
    """``resolve_shop`` asks the resolver the entry point injected, on the command's platform."""
    shop_id = uuid.uuid4()
    asked: list[tuple[Platform, str]] = []

    async def resolver(platform: Platform, slug: str) -> TenantTarget:
        asked.append((platform, slug))
        return TenantTarget(shop_id, slug)

    cli = CliContext(_settings=settings, platform_factory=CountingFactory(), shop_resolver=resolver)

    async def work(platform: Platform) -> TenantTarget:
        return await cli.resolve_shop(platform, "riverside-books")

    assert run_on_platform(cli, work) == TenantTarget(shop_id, "riverside-books")
    assert [slug for _platform, slug in asked] == ["riverside-books"]
    bare = CliContext(_settings=settings, platform_factory=CountingFactory())
    with pytest.raises(RuntimeError, match="shop_resolver"):
        run_on_platform(bare, lambda platform: bare.resolve_shop(platform, "riverside-books"))


def test_data_sets_live_under_home(settings: Settings, tmp_path: Path) -> None:
    """``data_dir`` is ``<home>/data``, where `folio data fetch` puts the data sets."""
    cli = CliContext(_settings=settings.model_copy(update={"home": tmp_path}))
    assert cli.data_dir == tmp_path / "data"
