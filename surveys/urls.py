from django.urls import path

from . import views

urlpatterns = [
    path("surveys/", views.task_list, name="survey-list"),
    path("surveys/tasks.geojson", views.tasks_geojson, name="survey-tasks-geojson"),
    path("surveys/uploads/<uuid:upload_id>/", views.upload_page, name="survey-upload"),
    path("surveys/uploads/<uuid:upload_id>/status.json", views.upload_status, name="survey-upload-status"),
    path("surveys/uploads/<uuid:upload_id>/proposed.geojson", views.proposed_geojson, name="survey-proposed"),
    path("surveys/uploads/<uuid:upload_id>/overlay.geojson", views.overlay_geojson, name="survey-overlay"),
    path("surveys/<str:code>/", views.task_page, name="survey-task"),
    path("surveys/<str:code>/registry.geojson", views.registry_geojson, name="survey-registry"),
    path("surveys/<str:code>/confirm/", views.confirm_page, name="survey-confirm"),
    path("surveys/<str:code>/lines.geojson", views.lines_geojson, name="survey-lines"),
]
