"""The users service's public surface: its typed client, what the rest of Folio imports.

Key contracts: ``UsersClient`` answers from identity's database through the users gRPC
service (``folio.users.grpc``, served by ``python -m folio.entrypoints.grpc users``);
``Authorization`` is its answer to "may this member or key do this action in this shop
now"; ``ACTIONS`` lists the actions it knows. Bootstrap puts the process's client in
``USERS_CLIENT``.
"""

from __future__ import annotations

from folio.users.client import USERS_CLIENT, Authorization, UsersClient
from folio.users.policy import ACTIONS

__all__ = ["ACTIONS", "USERS_CLIENT", "Authorization", "UsersClient"]
