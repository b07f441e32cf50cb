from django.apps import AppConfig


class TilesConfig(AppConfig):
    name = "tiles"
    verbose_name = "影像与瓦片 Imagery and tiles"

    def ready(self) -> None:
        from core.imagery import register_imagery_provider

        from .provider import TilesImagery

        register_imagery_provider(TilesImagery())
