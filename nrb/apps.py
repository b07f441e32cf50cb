from django.apps import AppConfig


class NrbConfig(AppConfig):
    """Filed contracts shared with the natural resources bureau 自然资源局: queued on filing, pulled through
    the API or exported to its folder, each hand-over recorded (docs/API.md)."""

    name = "nrb"
    verbose_name = "自然资源局共享 Natural resources bureau feed"

    def ready(self) -> None:
        from contracts.signals import contract_filed

        from .receivers import on_contract_filed

        contract_filed.connect(on_contract_filed, dispatch_uid="nrb.share_filing")
