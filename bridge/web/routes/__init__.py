"""One router per resource, mounted by :func:`bridge.web.create_app` under ``/api/v1``."""
