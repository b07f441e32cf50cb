from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = "承包方与合同 Contractors and contracts"

    def ready(self) -> None:
        from core.ports import register_subject_resolver

        from . import subjects

        register_subject_resolver("households", subjects.households)
        register_subject_resolver("contracts", subjects.contracts)
        register_subject_resolver("parcel_holders", subjects.parcel_holders)
