from django.urls import path

from . import pages, views

urlpatterns = [
    path("manage/calendar/", pages.calendar_page, name="calendar"),
    path("notices/", views.notice_list, name="notices"),
    path("notices/new/", views.notice_new, name="notice-new"),
    path("notices/running.geojson", views.running_geojson, name="notices-running"),
    path("notices/<int:pk>/", views.notice_detail, name="notice"),
    path("notices/<int:pk>/parcels.geojson", views.notice_geojson, name="notice-geojson"),
    path("notices/<int:pk>/print.pdf", views.notice_print, name="notice-print"),
    path("notices/<int:pk>/objections/<int:objection_id>/photo", views.objection_photo, name="objection-photo"),
]
