"""Where a reconnecting client starts: the messages it missed, or a snapshot when the history lost some."""

from __future__ import annotations

import enum

__all__ = ["ResumePlan", "plan_resume"]


class ResumePlan(enum.Enum):
    """What a client that says "my last message was N" is sent first."""

    NOTHING = "nothing"
    """It missed nothing: only new messages follow."""
    REPLAY = "replay"
    """Every message after N is still in the history: exactly those, in order."""
    SNAPSHOT = "snapshot"
    """The history no longer reaches back to N + 1 (or N is unknown): every series' latest message."""


def plan_resume(last_seq: int | None, *, oldest_kept: int | None, newest: int) -> ResumePlan:
    """The plan for a client whose last message was ``last_seq`` (None: a first connection).

    ``oldest_kept`` is the first sequence number the shop's history still holds (None
    when it is empty) and ``newest`` the shop's counter. Sequence numbers of a shop are
    consecutive, so the history holds everything after ``last_seq`` exactly when its
    oldest entry is at most ``last_seq + 1``. A ``last_seq`` ahead of the counter (a
    client of a Redis that lost its data) gets a snapshot, never silence.
    """
    if last_seq is None or last_seq < 0 or last_seq > newest:
        return ResumePlan.SNAPSHOT
    if last_seq == newest:
        return ResumePlan.NOTHING
    if oldest_kept is not None and oldest_kept <= last_seq + 1:
        return ResumePlan.REPLAY
    return ResumePlan.SNAPSHOT
