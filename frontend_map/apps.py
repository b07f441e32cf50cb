from django.apps import AppConfig


class FrontendMapConfig(AppConfig):
    name = "frontend_map"
    verbose_name = "地图与页面 Map and pages"

    def ready(self) -> None:
        from contracts.signals import contract_filed

        from .receivers import on_contract_filed

        contract_filed.connect(on_contract_filed, dispatch_uid="frontend_map.tell_filing")
