from django.urls import path

from . import api_views, views

urlpatterns = [
    path("exchange/import/", views.import_upload, name="exchange-upload"),
    path("exchange/jobs/<uuid:job_id>/", views.import_job, name="exchange-job"),
    path("exchange/jobs/<uuid:job_id>/status.json", views.import_job_status, name="exchange-job-status"),
    path("exchange/nrb/", views.nrb_queue, name="nrb-queue"),
    path("api/nrb/filings/", api_views.filings_list, name="nrb-filings"),
    path("api/nrb/filings/<int:sequence>/<str:part>", api_views.filing_part, name="nrb-filing-part"),
]
