"""What handlers raise to steer their message, what the broker side raises, and how a failure is judged.

A handler's exception decides its message's fate (``failure_kind``):

- **transient** (``TransientError``; a database or broker outage; a ``FolioError`` that
  says "later": 408, 409, 423, 429 or any 5xx; a network error; and anything
  unexpected, since a bug may be fixed by the next deploy): the message climbs the
  retry ladder and comes back after the rung's delay; past the last rung it is
  dead-lettered.
- **permanent** (``PermanentError``, ``MalformedMessageError``; a ``FolioError`` with
  any other 4xx; a pydantic ``ValidationError``): trying again cannot help, so it is
  dead-lettered at once, with the error in its headers for ``folio queues dlq list``.

The broker side raises ``FolioError`` problems (docs/errors.md): ``broker-unavailable``
(503), ``publish-refused`` (503), ``message-unroutable`` (500) and ``queue-not-found`` (404).
"""

from __future__ import annotations

from typing import Literal

from pydantic import ValidationError

from folio.core.errors import FolioError, NotFoundError, ServiceUnavailableError

__all__ = [
    "BrokerUnavailableError",
    "FailureKind",
    "MalformedMessageError",
    "PermanentError",
    "PublishRefusedError",
    "TransientError",
    "UnknownQueueError",
    "UnroutableMessageError",
    "failure_kind",
]

FailureKind = Literal["transient", "permanent"]

_LATER_STATUSES = frozenset({408, 409, 423, 429})
"""4xx statuses that describe the moment, not the request: a retry may succeed."""


class TransientError(Exception):
    """Raised by a handler: this message could succeed later (an endpoint timed out, a 503)."""


class PermanentError(Exception):
    """Raised by a handler: this message can never succeed (an unknown type, a refused payload)."""


class MalformedMessageError(PermanentError):
    """The message cannot be read: no message id, or a body that is not the JSON its type says."""


class BrokerUnavailableError(
    ServiceUnavailableError, code="broker-unavailable", title="Broker unavailable", status=503
):
    """RabbitMQ could not be reached, or did not confirm a publish in time."""


class PublishRefusedError(FolioError, code="publish-refused", title="Publish refused", status=503):
    """The broker refused a message (``Basic.Nack``: a full queue refusing publishes, an internal error)."""


class UnroutableMessageError(FolioError, code="message-unroutable", title="Message unroutable", status=500):
    """The broker returned a message no queue took (member ``routing_key``): a queue was never declared."""


class UnknownQueueError(NotFoundError, code="queue-not-found", title="Queue not found"):
    """No registered consumer owns a queue of that name (member ``queue``)."""


def failure_kind(exc: BaseException) -> FailureKind:
    """Whether the message that raised ``exc`` may succeed later (see the module docstring)."""
    if isinstance(exc, PermanentError | ValidationError):
        return "permanent"
    if isinstance(exc, FolioError):
        later = exc.status >= 500 or exc.status in _LATER_STATUSES  # noqa: PLR2004 - the 5xx class
        return "transient" if later else "permanent"
    # TransientError, an outage, a network error, and the unexpected too: a bug is retried
    # along the ladder, then dead-lettered with its error, for an operator to replay once
    # the cause is fixed.
    return "transient"
