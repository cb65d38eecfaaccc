"""``UsersClient``: the typed client of the users gRPC service that the rest of Folio imports.

Every method takes and returns Folio's own types (UUIDs, ``Role``, identity's
``UserRead``); a refused call raises the ``FolioError`` the service raised.
"""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict

from folio.core.errors import PermissionDeniedError
from folio.core.platform import Slot
from folio.core.security import Principal, Role
from folio.grpckit import CallerClaims, ServiceClient
from folio.identity.api import UserRead
from folio.users.v1 import users_pb2, users_pb2_grpc

__all__ = ["USERS_CLIENT", "Authorization", "UsersClient", "role_from_message", "role_message"]


def role_message(role: Role | None) -> users_pb2.Role.ValueType:
    """The proto enum value of ``role`` (UNSPECIFIED for None)."""
    return users_pb2.Role.Value(f"ROLE_{role.name}") if role is not None else users_pb2.ROLE_UNSPECIFIED


def role_from_message(value: users_pb2.Role.ValueType) -> Role | None:
    """The ``Role`` of a proto enum value (None for UNSPECIFIED or a value this build does not know)."""
    name = users_pb2.Role.Name(value) if value in users_pb2.Role.values() else "ROLE_UNSPECIFIED"
    return Role[name.removeprefix("ROLE_")] if name != "ROLE_UNSPECIFIED" else None


class Authorization(BaseModel):
    """The users service's answer: may the subject do the action, and with which role."""

    model_config = ConfigDict(frozen=True)

    allowed: bool
    role: Role | None
    reason: str


class UsersClient(ServiceClient):
    """Calls the users service (``grpc.users.target``) with a deadline, retries and signed metadata."""

    service_name = "folio.users.v1.UsersService"
    audience = "users"
    idempotent_methods = frozenset({"GetUser", "Authorize"})  # both only read

    @property
    def _stub(self) -> users_pb2_grpc.UsersServiceStub:
        return users_pb2_grpc.UsersServiceStub(self.channel)

    async def get_user(self, user_id: uuid.UUID) -> UserRead:
        """The user ``user_id`` (``NotFoundError`` when there is none)."""
        response: users_pb2.GetUserResponse = await self.unary(
            self._stub.GetUser, users_pb2.GetUserRequest(user_id=str(user_id)), principal=None
        )
        user = response.user
        return UserRead(id=uuid.UUID(user.id), email=user.email, display_name=user.display_name)

    async def authorize(
        self,
        *,
        tenant_id: uuid.UUID,
        action: str,
        user_id: uuid.UUID | None = None,
        api_key_id: uuid.UUID | None = None,
    ) -> Authorization:
        """Whether the member ``user_id`` (or API key ``api_key_id``) may do ``action`` in the shop now."""
        request = users_pb2.AuthorizeRequest(tenant_id=str(tenant_id), action=action)
        if user_id is not None:
            request.user_id = str(user_id)
        elif api_key_id is not None:
            request.api_key_id = str(api_key_id)
        response: users_pb2.AuthorizeResponse = await self.unary(
            self._stub.Authorize, request, principal=None
        )
        return Authorization(
            allowed=response.allowed, role=role_from_message(response.role), reason=response.reason
        )

    async def principal_for(self, caller: CallerClaims, *, action: str) -> Principal:
        """The principal ``caller`` acts as, with the role the users service says they hold now.

        Raises ``PermissionDeniedError`` when they may not do ``action`` (no longer a
        member, a revoked key, or a role without the right).
        """
        answer = await self.authorize(
            tenant_id=caller.tenant_id, action=action, user_id=caller.user_id, api_key_id=caller.api_key_id
        )
        if not answer.allowed or answer.role is None:
            raise PermissionDeniedError(answer.reason or f"may not {action}")
        return Principal(
            tenant_id=caller.tenant_id,
            role=answer.role,
            user_id=caller.user_id,
            api_key_id=None if caller.user_id is not None else caller.api_key_id,
            via=caller.via,
        )


USERS_CLIENT: Slot[UsersClient] = Slot("users client")
"""Where bootstrap puts the process's client of the users service."""
