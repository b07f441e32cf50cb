"""Personal data at rest: AES-256-GCM encryption and a keyed hash for exact lookups (ID numbers).

The key is TIANJIE_FIELD_KEY from the environment (32 bytes, base64); it is never in the repository.
"""

import base64
import hashlib
import hmac
import os
from functools import cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


def key_from_settings(name: str) -> bytes:
    """A 32-byte key from a setting holding it in base64 (TIANJIE_FIELD_KEY, TIANJIE_PKI_KEY)."""
    try:
        raw = base64.b64decode(getattr(settings, name), validate=True)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be base64") from None
    if len(raw) != 32:
        raise ImproperlyConfigured(f"{name} must decode to 32 bytes")
    return raw


@cache
def _keys() -> tuple[AESGCM, bytes]:
    raw = key_from_settings("TIANJIE_FIELD_KEY")
    enc_key = hashlib.sha256(b"tianjie-field-encryption" + raw).digest()
    mac_key = hashlib.sha256(b"tianjie-field-lookup" + raw).digest()
    return AESGCM(enc_key), mac_key


def encrypt(value: str) -> str:
    if not value:
        return ""
    aes, _ = _keys()
    nonce = os.urandom(12)
    return base64.b64encode(nonce + aes.encrypt(nonce, value.encode("utf-8"), None)).decode("ascii")


def decrypt(token: str) -> str:
    if not token:
        return ""
    aes, _ = _keys()
    blob = base64.b64decode(token)
    return aes.decrypt(blob[:12], blob[12:], None).decode("utf-8")


def lookup_hash(value: str) -> str:
    """A keyed hash to find a record by its exact ID number without decrypting every row."""
    if not value:
        return ""
    _, mac = _keys()
    return hmac.new(mac, value.strip().upper().encode("utf-8"), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """Stores AES-GCM ciphertext; Python code sees the plain value. Never filter on it: use a lookup hash."""

    def from_db_value(self, value: str | None, expression: object, connection: object) -> str | None:
        return decrypt(value) if value else value

    def get_prep_value(self, value: object) -> object:
        value = super().get_prep_value(value)
        return encrypt(str(value)) if value else value
