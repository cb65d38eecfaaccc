"""The users gRPC service: who a user is and what they may do, answered from identity's database.

Served by ``python -m folio.entrypoints.grpc users``. ``Authorize`` reads the current
membership (or API key) and its role from the primary, never trusting what the caller
claims: a member removed or a key revoked a moment ago is refused now.
"""

from __future__ import annotations

import grpc

from folio.core.db import Database
from folio.core.errors import InvalidParam, NotFoundError, ValidationFailedError
from folio.core.security import Principal
from folio.grpckit import ServiceRegistration, ensure_time_left
from folio.grpckit.requests import parse_uuid
from folio.identity.api import get_user, principal_for, principal_for_api_key
from folio.users.client import role_message
from folio.users.policy import roles_for
from folio.users.v1 import users_pb2, users_pb2_grpc

__all__ = ["SERVICE_NAME", "UsersServicer", "registration"]

SERVICE_NAME = "folio.users.v1.UsersService"


class UsersServicer(users_pb2_grpc.UsersServiceServicer):
    """``folio.users.v1.UsersService`` over identity's api."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def GetUser(
        self, request: users_pb2.GetUserRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.GetUserResponse:
        """The user, or NOT_FOUND."""
        user_id = parse_uuid(request.user_id, "user_id")
        ensure_time_left("reading the user")
        user = await get_user(self.db, user_id)
        return users_pb2.GetUserResponse(
            user=users_pb2.User(id=str(user.id), email=user.email, display_name=user.display_name)
        )

    async def Authorize(
        self, request: users_pb2.AuthorizeRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.AuthorizeResponse:
        """Whether the subject may do the action now; unknown actions are INVALID_ARGUMENT."""
        allowed_roles = roles_for(request.action)
        if allowed_roles is None:
            raise ValidationFailedError(
                f"unknown action {request.action!r}",
                errors=[InvalidParam(name="action", reason="not an action the users service knows")],
            )
        tenant_id = parse_uuid(request.tenant_id, "tenant_id")
        subject = request.WhichOneof("subject")
        if subject is None:
            raise ValidationFailedError(
                "name a user_id or an api_key_id",
                errors=[InvalidParam(name="subject", reason="a user_id or an api_key_id is required")],
            )
        ensure_time_left("reading the membership")
        principal: Principal
        try:
            if subject == "user_id":
                principal = await principal_for(
                    self.db, tenant_id=tenant_id, user_id=parse_uuid(request.user_id, "user_id")
                )
            else:
                principal = await principal_for_api_key(
                    self.db, tenant_id=tenant_id, key_id=parse_uuid(request.api_key_id, "api_key_id")
                )
        except NotFoundError:
            reason = (
                "not a member of this shop" if subject == "user_id" else "no such live API key in this shop"
            )
            return users_pb2.AuthorizeResponse(allowed=False, reason=reason)
        allowed = principal.role in allowed_roles
        return users_pb2.AuthorizeResponse(
            allowed=allowed,
            role=role_message(principal.role),
            reason="" if allowed else f"the {principal.role.value} role may not {request.action}",
        )


def registration(db: Database) -> ServiceRegistration:
    """The users service, ready for ``folio.grpckit.GrpcServer``."""
    return ServiceRegistration(
        SERVICE_NAME, users_pb2_grpc.add_UsersServiceServicer_to_server, UsersServicer(db)
    )
