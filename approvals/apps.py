from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "业务申请与审核 Applications and review"

    def ready(self) -> None:
        from contracts.signals import contract_filed
        from publicity.signals import notice_closed
        from surveys.signals import survey_accepted

        from . import receivers

        survey_accepted.connect(receivers.on_survey_accepted, dispatch_uid="approvals.survey_accepted")
        notice_closed.connect(receivers.on_notice_closed, dispatch_uid="approvals.publicity_ended")
        contract_filed.connect(receivers.on_contract_filed, dispatch_uid="approvals.filed")
