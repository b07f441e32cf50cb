from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = "测绘与指界 Surveys and boundary confirmation"

    def ready(self) -> None:
        from publicity.signals import notice_closed

        from .receivers import on_notice_closed

        notice_closed.connect(on_notice_closed, dispatch_uid="surveys.accept_on_notice")
