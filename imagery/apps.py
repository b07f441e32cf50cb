from django.apps import AppConfig


class ImageryConfig(AppConfig):
    """Imagery 影像 (raster: GeoTIFF → COG → MapProxy); the parcels' vector tiles are spatial.vector_tiles.
    The label stays "tiles", the app's name before it was renamed, so its tables and migrations are kept."""

    name = "imagery"
    label = "tiles"
    verbose_name = "影像 Imagery"

    def ready(self) -> None:
        from core.ports import register_imagery_provider

        from .provider import TilesImagery

        register_imagery_provider(TilesImagery())
