"""DRF exception handler: typed domain errors become clear JSON with a stable code, never a 500."""

from typing import Any

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from core.errors import DomainError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response({"error": exc.as_dict()}, status=exc.http_status)
    return drf_handler(exc, context)
