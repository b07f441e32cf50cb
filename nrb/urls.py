from django.urls import path

from . import api_views, views

urlpatterns = [
    path("exchange/nrb/", views.nrb_queue, name="nrb-queue"),
    path("api/nrb/filings/", api_views.filings_list, name="nrb-filings"),
    path("api/nrb/filings/<int:sequence>/<str:part>", api_views.filing_part, name="nrb-filing-part"),
    path(
        "api/nrb/filings/<int:sequence>/<str:part>/received",
        api_views.filing_part_received,
        name="nrb-filing-received",
    ),
]
