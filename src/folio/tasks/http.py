"""The tasks context's HTTP adapter: /api/v1/tasks and /api/v2/tasks (being built)."""

from __future__ import annotations

from fastapi import APIRouter

v1_router = APIRouter()
v2_router = APIRouter()
