from django.urls import path

from . import pages, views

urlpatterns = [
    path("imagery/<path:path>", views.imagery, name="imagery"),
    path("manage/imagery/", pages.imagery_manage, name="imagery-manage"),
    path("manage/imagery/jobs/<uuid:job_id>/", pages.imagery_job, name="imagery-job"),
    path("manage/imagery/jobs/<uuid:job_id>/status.json", pages.imagery_job_status, name="imagery-job-status"),
]
