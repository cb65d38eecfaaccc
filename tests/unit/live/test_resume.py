"""Where a reconnecting client starts: nothing, the missed messages, or a snapshot."""

from __future__ import annotations

import pytest

from folio.live.api import LiveMessage, ResumePlan, plan_resume

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("last_seq", "oldest_kept", "newest", "plan"),
    [
        (None, 1, 10, ResumePlan.SNAPSHOT),  # a first connection
        (10, 1, 10, ResumePlan.NOTHING),  # up to date
        (7, 1, 10, ResumePlan.REPLAY),  # 8, 9, 10 are kept
        (4, 5, 10, ResumePlan.REPLAY),  # the oldest kept is exactly the first missed
        (3, 5, 10, ResumePlan.SNAPSHOT),  # 4 was trimmed: too far behind
        (0, None, 0, ResumePlan.NOTHING),  # a quiet shop
        (3, None, 5, ResumePlan.SNAPSHOT),  # history gone, counter kept
        (12, 1, 10, ResumePlan.SNAPSHOT),  # ahead of the counter: Redis lost its data
        (-1, 1, 10, ResumePlan.SNAPSHOT),
    ],
)
def test_plan_resume(last_seq: int | None, oldest_kept: int | None, newest: int, plan: ResumePlan) -> None:
    """The history must reach back to last_seq + 1 for a replay; anything else unknown gets a snapshot."""
    assert plan_resume(last_seq, oldest_kept=oldest_kept, newest=newest) is plan


def test_a_message_is_read_from_its_channel_json() -> None:
    """The channel contract's JSON parses to its seq and series, and its text passes through unchanged."""
    text = '{"seq": 41, "series": "revenue", "value": {"EUR": 1490}, "at": "2026-12-04T12:00:00Z"}'
    parsed = LiveMessage.parse(text.encode())
    assert (parsed.seq, parsed.series, parsed.text) == (41, "revenue", text)
    for bad in ('{"series": "revenue"}', '{"seq": "1", "series": "x"}', "[1]"):
        with pytest.raises(ValueError, match="not a live message"):
            LiveMessage.parse(bad)
