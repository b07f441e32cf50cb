from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The platform's kernel, below every domain app (ARCHITECTURE.md "A kernel is not a domain"): what
    every app needs and no app owns. It imports Django and the standard library only."""

    name = "core"
    verbose_name = "平台内核 Platform kernel"
