"""The HTTP gateway: FastAPI app factory and process entry point."""

from folio.entrypoints.gateway.app import create_app

__all__ = ["create_app"]
