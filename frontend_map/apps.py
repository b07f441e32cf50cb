from django.apps import AppConfig


class FrontendMapConfig(AppConfig):
    name = "frontend_map"
    verbose_name = "地图与页面 Map and pages"
