"""``folio grpc``: what an operator needs to call Folio's gRPC services by hand (grpcurl).

The services refuse any call without a service token signed with this installation's
``grpc.service_keys``; ``folio grpc token`` prints one (short-lived, like every
service token) and, with ``--tenant``/``--user``, the end user's claims on the next line.
"""

from __future__ import annotations

import uuid

import click

from folio.clikit import CliContext, examples, pass_cli

__all__ = ["grpc_group"]


@click.group("grpc")
def grpc_group() -> None:
    """Call the users and orders gRPC services by hand: service tokens for grpcurl."""


@grpc_group.command(
    "token",
    epilog=examples(
        "folio grpc token users",
        'grpcurl -plaintext -H "authorization: Bearer $(folio grpc token users)" 127.0.0.1:21470 list',
        "folio grpc token orders --tenant 0d5c... --user 9a1e...",
    ),
)
@click.argument("audience", type=click.Choice(["users", "orders"]))
@click.option("--tenant", "tenant_id", type=click.UUID, help="The shop an end user acts in (with --user).")
@click.option("--user", "user_id", type=click.UUID, help="The end user the call is made for.")
@pass_cli
def token_command(
    cli: CliContext, audience: str, tenant_id: uuid.UUID | None, user_id: uuid.UUID | None
) -> None:
    """A service token for AUDIENCE (lives grpc.token_ttl_s); with --tenant/--user, the user's claims next."""
    from folio.grpckit import ServiceCredentials  # gRPC loads only for this command

    if (tenant_id is None) != (user_id is None):
        raise click.UsageError("--tenant and --user go together")
    credentials = ServiceCredentials(cli.settings.grpc, service="operator")
    click.echo(credentials.service_token(audience))
    if tenant_id is not None and user_id is not None:
        click.echo(
            credentials.caller_claims(
                audience, tenant_id=tenant_id, user_id=user_id, api_key_id=None, via="token"
            )
        )
