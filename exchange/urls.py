from django.urls import path

from . import views

urlpatterns = [
    path("exchange/import/", views.import_upload, name="exchange-upload"),
    path("exchange/jobs/<uuid:job_id>/", views.import_job, name="exchange-job"),
    path("exchange/jobs/<uuid:job_id>/status.json", views.import_job_status, name="exchange-job-status"),
]
