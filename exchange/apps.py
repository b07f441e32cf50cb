from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "exchange"
    verbose_name = "数据交换 Data exchange (NY/T 2539 packages)"

    def ready(self) -> None:
        from contracts.signals import contract_filed

        from .receivers import on_contract_filed

        contract_filed.connect(on_contract_filed, dispatch_uid="exchange.share_filing")
