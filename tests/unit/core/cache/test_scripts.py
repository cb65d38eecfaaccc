"""Scripts by hash: EVALSHA first, EVAL only on NOSCRIPT, other errors untouched (a fake client)."""

from __future__ import annotations

from typing import Any

import pytest

from folio.core.cache.scripts import Script

pytestmark = pytest.mark.unit


class NoScriptError(Exception):
    """Named like redis-py's, which strips the ``NOSCRIPT`` code from the message."""


class FakeScriptClient:
    """Knows the scripts it was sent by ``eval``; ``evalsha`` of another raises ``evalsha_error``."""

    def __init__(self, evalsha_error: Exception | None = None) -> None:
        self.known: set[str] = set()
        self.calls: list[str] = []
        self.evalsha_error = evalsha_error

    async def evalsha(self, sha: str, numkeys: int, *keys_and_args: Any) -> Any:
        """Answer by hash, or raise as Redis would."""
        self.calls.append("evalsha")
        if sha not in self.known:
            raise self.evalsha_error or NoScriptError("No matching script. Please use EVAL.")
        return ("ran", numkeys, keys_and_args)

    async def eval(self, script: str, numkeys: int, *keys_and_args: Any) -> Any:
        """Run and remember the script."""
        self.calls.append("eval")
        self.known.add(Script(script).sha)
        return ("ran", numkeys, keys_and_args)


async def test_a_script_is_sent_once_then_run_by_hash() -> None:
    """The first call falls back to EVAL; later calls are one EVALSHA each."""
    client, script = FakeScriptClient(), Script("return 1")
    assert await script(client, ["k"], ["a", 1]) == ("ran", 1, ("k", "a", 1))
    await script(client, ["k"], [])
    await script(client, ["k"], [])
    assert client.calls == ["evalsha", "eval", "evalsha", "evalsha"]


async def test_a_noscript_in_the_message_also_falls_back() -> None:
    """A client that keeps Redis's ``NOSCRIPT`` code in the message is understood too."""
    client = FakeScriptClient(RuntimeError("NOSCRIPT No matching script"))
    assert await Script("return 2")(client, [], []) == ("ran", 0, ())
    assert client.calls == ["evalsha", "eval"]


async def test_other_errors_propagate_without_eval() -> None:
    """A script error or a lost connection is not retried as EVAL."""
    client = FakeScriptClient(ConnectionError("redis went away"))
    with pytest.raises(ConnectionError):
        await Script("return 3")(client, [], [])
    assert client.calls == ["evalsha"]
