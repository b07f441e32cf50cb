"""Who is asking: the session user (pages, map) or an API token (API clients, GIS software).

A token comes as `Authorization: Token <key>`, or, for GIS software that only knows user name and
password (QGIS's Basic authentication, GDAL's USERPWD), as HTTP Basic with the token as the password.
The login password itself is never accepted here: it would cost a password hash on every request.
"""

import base64
import binascii

from django.http import HttpRequest
from rest_framework.authtoken.models import Token

from .models import User


def _token_user(key: str, username: str | None = None) -> User | None:
    token = Token.objects.select_related("user").filter(key=key.strip()).first()
    if token is None or not token.user.is_active:
        return None
    if username is not None and token.user.get_username() != username:
        return None
    return token.user  # type: ignore[return-value]


def request_user(request: HttpRequest) -> User | None:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user  # type: ignore[return-value]
    header = request.headers.get("Authorization", "")
    if header.startswith("Token "):
        return _token_user(header[6:])
    if header.startswith("Basic "):
        try:
            username, _, key = base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return _token_user(key, username) if key else None
    return None
