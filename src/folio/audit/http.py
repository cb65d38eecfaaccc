"""The audit context's HTTP adapter (being built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
