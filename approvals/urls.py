from django.urls import path

from . import api, views

urlpatterns = [
    path("applications/", views.application_list, name="application-list"),
    path("applications/new/", views.application_new, name="application-new"),
    path("applications/dashboard/", views.dashboard, name="application-dashboard"),
    path("applications/<str:code>/", views.application_page, name="application-page"),
    path("applications/<str:code>/parcels.geojson", views.application_parcels, name="application-parcels"),
    path("applications/<str:code>/materials/<int:material_id>/", views.material_file, name="application-material"),
    path("api/applications/", api.ApplicationListApi.as_view(), name="api-applications"),
    path("api/applications/inbox/", api.InboxApi.as_view(), name="api-applications-inbox"),
    path("api/applications/<str:code>/", api.ApplicationDetailApi.as_view(), name="api-application"),
    path("api/applications/<str:code>/submit/", api.SubmitApi.as_view(), name="api-application-submit"),
    path("api/applications/<str:code>/decide/", api.DecideApi.as_view(), name="api-application-decide"),
    path("api/applications/<str:code>/withdraw/", api.WithdrawApi.as_view(), name="api-application-withdraw"),
    path("api/applications/<str:code>/publicise/", api.PubliciseApi.as_view(), name="api-application-publicise"),
    path("api/applications/<str:code>/file/", api.FileTogetherApi.as_view(), name="api-application-file"),
    path("api/applications/<str:code>/register/", api.RegisterApi.as_view(), name="api-application-register"),
    path("api/applications/<str:code>/materials/", api.MaterialApi.as_view(), name="api-application-materials"),
]
