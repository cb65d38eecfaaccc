"""The ``graphql`` section: the limits a query must keep, persisted queries and response caching.

The kernel's like ``grpc``'s: the plumbing that serves it (``folio.graphqlkit``) reads it
from ``settings.graphql``.
"""

from __future__ import annotations

from folio.core.settings.base import FolioSettingsBase
from folio.core.settings.fields import setting


class GraphQLSettings(FolioSettingsBase):
    """GraphQL at ``/graphql``: query limits, persisted queries, the response cache."""

    settings_path = ("graphql",)

    max_depth: int = setting(10, ge=1, le=50, description="Deepest selection a query may nest.")
    max_tokens: int = setting(
        2_000,
        ge=50,
        le=100_000,
        description="Most tokens (names, brackets, colons) a query document may hold.",
    )
    max_cost: int = setting(
        50_000,
        ge=1,
        le=10_000_000,
        description=(
            "Most fields a query may ask for, each counted once per parent it can appear under: a list "
            "field multiplies its selection by its `limit`/`first` argument, else by `default_list_size`."
        ),
    )
    default_list_size: int = setting(
        20,
        ge=1,
        le=1_000,
        description="What a list without a `limit` or `first` argument counts as in the cost.",
    )
    persisted_only: bool = setting(
        default=False,
        description=(
            "Allow-list mode: run only queries already stored by hash (`folio graphql` registers them); "
            "clients can no longer register new ones with automatic persisted queries."
        ),
    )
    persisted_ttl_s: int = setting(
        30 * 24 * 3600,
        ge=60,
        description="How long a query registered by a client (APQ) is kept, in seconds.",
    )
    response_cache_ttl_s: float = setting(
        30.0,
        ge=0,
        le=3600,
        description="How long a response is cached per shop and role, in seconds; 0 turns the cache off.",
    )
