from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = "测绘与指界 Surveys and boundary confirmation"
