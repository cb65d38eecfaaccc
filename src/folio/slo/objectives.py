"""Folio's service level objectives: the one table the rules, the docs and the ops pages read.

Each objective is a ratio of bad events to all events over a rolling 30-day window
(the SLI), with a target. Two shapes of SLI:

- availability: requests answered with a 5xx over all requests (``bad_events``);
- latency or freshness: one minus the requests (events) inside a histogram bucket over
  all of them (``good_events``); the bucket's ``le`` is the threshold.

The selectors match the gateway's ``folio_http_*`` metrics (route templates, so their
cardinality is bounded) and the event pipeline's ``folio_streaming_event_age_seconds``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OBJECTIVES", "SLO_WINDOW", "Objective"]

SLO_WINDOW = "30d"
"""The rolling window every objective is measured over (its error budget's period)."""

_API = 'job="folio-gateway",route!~"/healthz|/readyz|/metrics"'
_CHECKOUT = 'job="folio-gateway",method="POST",route="/api/v1/orders"'
_SEARCH = 'job="folio-gateway",method="GET",route=~"/api/v1/search(/works|/suggest)?"'
_SINK = 'stage="sink"'


@dataclass(frozen=True, slots=True)
class Objective:
    """One SLO: ``target`` of the events in ``events`` must be good over ``SLO_WINDOW``.

    Exactly one of ``bad_events`` and ``good_events`` is set: a counter selector of the
    failures, or of the successes (a histogram bucket); both are PromQL series selectors
    counted with ``rate`` like ``events``.
    """

    name: str
    title: str
    sli: str
    target: float
    events: str
    bad_events: str | None = None
    good_events: str | None = None

    def __post_init__(self) -> None:
        if (self.bad_events is None) == (self.good_events is None):
            raise ValueError(f"SLO {self.name}: set exactly one of bad_events and good_events")
        if not 0 < self.target < 1:
            raise ValueError(f"SLO {self.name}: target must lie strictly between 0 and 1")

    @property
    def error_budget(self) -> float:
        """The fraction of events allowed to be bad: ``1 - target``."""
        return round(1 - self.target, 10)

    def error_ratio(self, window: str) -> str:
        """PromQL for the fraction of bad events over ``window`` (e.g. ``5m``)."""
        total = f"sum(rate({self.events}[{window}]))"
        if self.bad_events is not None:
            # No failure yet means no series yet (a counter's child appears on first use): zero.
            return f"(sum(rate({self.bad_events}[{window}])) or vector(0)) / {total}"
        return f"1 - (sum(rate({self.good_events}[{window}])) / {total})"


def _http(metric: str, selector: str) -> str:
    return f"folio_http_{metric}{{{selector}}}"


OBJECTIVES: tuple[Objective, ...] = (
    Objective(
        name="api-availability",
        title="API availability",
        sli="API requests (health probes excluded) answered without a 5xx",
        target=0.999,
        events=_http("requests_total", _API),
        bad_events=_http("requests_total", _API + ',status=~"5.."'),
    ),
    Objective(
        name="api-latency",
        title="API latency",
        sli="API requests answered within 500 ms",
        target=0.99,
        events=_http("request_duration_seconds_count", _API),
        good_events=_http("request_duration_seconds_bucket", _API + ',le="0.5"'),
    ),
    Objective(
        name="checkout-availability",
        title="Checkout availability",
        sli="Checkouts (POST /api/v1/orders) answered without a 5xx",
        target=0.999,
        events=_http("requests_total", _CHECKOUT),
        bad_events=_http("requests_total", _CHECKOUT + ',status=~"5.."'),
    ),
    Objective(
        name="checkout-latency",
        title="Checkout latency",
        sli="Checkouts answered within 1 s",
        target=0.99,
        events=_http("request_duration_seconds_count", _CHECKOUT),
        good_events=_http("request_duration_seconds_bucket", _CHECKOUT + ',le="1.0"'),
    ),
    Objective(
        name="search-availability",
        title="Search availability",
        sli="Searches, work searches and suggestions answered without a 5xx",
        target=0.995,
        events=_http("requests_total", _SEARCH),
        bad_events=_http("requests_total", _SEARCH + ',status=~"5.."'),
    ),
    Objective(
        name="search-latency",
        title="Search latency",
        sli="Searches answered within 250 ms",
        target=0.99,
        events=_http("request_duration_seconds_count", _SEARCH),
        good_events=_http("request_duration_seconds_bucket", _SEARCH + ',le="0.25"'),
    ),
    Objective(
        name="pipeline-freshness",
        title="Event pipeline freshness",
        sli="Order events written by the sink within 60 s of happening",
        target=0.99,
        events=f"folio_streaming_event_age_seconds_count{{{_SINK}}}",
        good_events=f'folio_streaming_event_age_seconds_bucket{{{_SINK},le="60.0"}}',
    ),
)
"""Every SLO, in the order the docs and the ops page list them."""
