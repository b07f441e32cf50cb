from django.urls import path

from . import api, views

urlpatterns = [
    path("tiles/parcels/<int:z>/<int:x>/<int:y>.mvt", views.parcel_tile, name="parcel-tile"),
    path("tiles/regions/<int:z>/<int:x>/<int:y>.mvt", views.region_tile, name="region-tile"),
    path("api/parcels/", api.ParcelListApi.as_view(), name="api-parcels"),
    path("api/parcels/at/", api.ParcelAtApi.as_view(), name="api-parcel-at"),
    path("api/parcels/search/", api.ParcelSearchApi.as_view(), name="api-parcel-search"),
    path("api/parcels/<int:parcel_id>/", api.ParcelDetailApi.as_view(), name="api-parcel-detail"),
]
