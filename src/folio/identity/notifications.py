"""The mails identity sends: their subjects, bodies and links, queued in the caller's unit of work."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.settings import Settings
from folio.mail.api import queue_mail

__all__ = ["queue_invitation_mail", "queue_lockout_mail", "queue_reset_mail", "reset_link"]


def reset_link(settings: Settings, token: str) -> str:
    """The web app's set-a-new-password page for ``token``."""
    return f"{settings.public_url.rstrip('/')}/app/reset/{token}"


def _minutes(seconds: int) -> int:
    return max(1, seconds // 60)


async def queue_reset_mail(session: AsyncSession, *, settings: Settings, email: str, token: str) -> None:
    """Queue the mail answering a password-reset request."""
    ttl = _minutes(settings.identity.reset_token_ttl_s)
    await queue_mail(
        session,
        recipient=email,
        subject="Reset your Folio password",
        body=(
            "Someone (hopefully you) asked to reset the password of your Folio account.\n\n"
            f"Set a new password here (the link works once, for {ttl} minutes):\n"
            f"{reset_link(settings, token)}\n\n"
            "If you did not ask, ignore this mail: your password stays as it is.\n"
        ),
        kind="password_reset",
    )


async def queue_lockout_mail(
    session: AsyncSession,
    *,
    settings: Settings,
    email: str,
    shop_name: str,
    locked_until: dt.datetime,
    token: str,
) -> None:
    """Queue the mail telling a member their account was locked, with a reset link that unlocks it."""
    ttl = _minutes(settings.identity.reset_token_ttl_s)
    await queue_mail(
        session,
        recipient=email,
        subject="Your Folio account was locked",
        body=(
            f"After {settings.identity.lockout_threshold} failed attempts to log in to {shop_name}, "
            f"your Folio account is locked until {locked_until:%Y-%m-%d %H:%M} UTC.\n\n"
            "If that was not you, someone may be guessing your password. Setting a new one "
            f"unlocks the account at once (the link works once, for {ttl} minutes):\n"
            f"{reset_link(settings, token)}\n"
        ),
        kind="account_locked",
    )


async def queue_invitation_mail(
    session: AsyncSession, *, settings: Settings, email: str, shop_name: str, token: str, ttl_s: int
) -> None:
    """Queue the mail inviting a new member to set their password."""
    await queue_mail(
        session,
        recipient=email,
        subject=f"You are invited to {shop_name} on Folio",
        body=(
            f"You have been added to {shop_name} on Folio.\n\n"
            f"Choose your password here (the link works once, for {ttl_s // 86_400 or 1} days):\n"
            f"{reset_link(settings, token)}\n"
        ),
        kind="invitation",
    )
