"""Who is asking: the session user (pages, map) or a DRF token (API clients, GIS software)."""

from django.http import HttpRequest
from rest_framework.authtoken.models import Token

from .models import User


def request_user(request: HttpRequest) -> User | None:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user  # type: ignore[return-value]
    header = request.headers.get("Authorization", "")
    if header.startswith("Token "):
        token = Token.objects.select_related("user").filter(key=header[6:].strip()).first()
        if token and token.user.is_active:
            return token.user  # type: ignore[return-value]
    return None
