"""Typed errors a user can cause: a stable code and a message in Chinese and English, never a 500."""

from django.core.exceptions import ValidationError


class DomainError(ValidationError):
    """Base of every user-caused error; `code` is stable for API clients, the message is bilingual."""

    default_code = "invalid"
    http_status = 400

    def __init__(self, zh: str, en: str, *, code: str | None = None, field: str | None = None) -> None:
        self.zh, self.en, self.field = zh, en, field
        super().__init__(f"{zh} / {en}", code=code or self.default_code)

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.zh, "message_en": self.en, "field": self.field}


class CodeError(DomainError):
    default_code = "invalid_code"


class IdNumberError(DomainError):
    default_code = "invalid_id_number"


class GeometryError(DomainError):
    default_code = "invalid_geometry"


class DuplicateCodeError(DomainError):
    default_code = "duplicate_code"
    http_status = 409


class PermissionDeniedError(DomainError):
    default_code = "permission_denied"
    http_status = 403


class NotFoundError(DomainError):
    default_code = "not_found"
    http_status = 404
