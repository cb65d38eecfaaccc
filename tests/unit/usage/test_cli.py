"""``folio.usage.cli``: the quota commands offer exactly the usage context's meters."""

from __future__ import annotations

import click
import pytest

from folio.usage.api import Meter
from folio.usage.cli import quota_set_command

pytestmark = pytest.mark.unit


def test_quota_set_offers_every_meter_of_the_enum() -> None:
    """`--meter` choices are ``Meter``'s values, in order: a new meter (listings) is settable at once."""
    meter = next(param for param in quota_set_command.params if param.name == "meter")
    assert isinstance(meter.type, click.Choice)
    assert list(meter.type.choices) == [m.value for m in Meter]
    assert "listings" in meter.type.choices
