"""The REST API under ``/api/v1``; :func:`create_app` builds it."""

from bridge.web.app import create_app

__all__ = ["create_app"]
