"""The staff web app (Flask, server-rendered), mounted under the gateway at ``/app`` (being built)."""

from __future__ import annotations

from fastapi import FastAPI

from folio.core.settings import Settings


def mount_web_app(app: FastAPI, settings: Settings) -> None:
    """Mount the web app under ``/app`` (not built yet: nothing is mounted)."""
    del app, settings
