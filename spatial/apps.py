from django.apps import AppConfig


class SpatialConfig(AppConfig):
    name = "spatial"
    verbose_name = "空间数据 Regions and parcels"
