from django.urls import path

from . import api, ogc_views, views

urlpatterns = [
    path("tiles/parcels/<int:z>/<int:x>/<int:y>.mvt", views.parcel_tile, name="parcel-tile"),
    path("tiles/regions/<int:z>/<int:x>/<int:y>.mvt", views.region_tile, name="region-tile"),
    path("api/parcels/", api.ParcelListApi.as_view(), name="api-parcels"),
    path("api/parcels/at/", api.ParcelAtApi.as_view(), name="api-parcel-at"),
    path("api/parcels/search/", api.ParcelSearchApi.as_view(), name="api-parcel-search"),
    path("api/parcels/<int:parcel_id>/", api.ParcelDetailApi.as_view(), name="api-parcel-detail"),
    path("ogc", ogc_views.landing),
    path("ogc/", ogc_views.landing, name="ogc-landing"),
    path("ogc/api", ogc_views.api, name="ogc-api"),
    path("ogc/conformance", ogc_views.conformance, name="ogc-conformance"),
    path("ogc/collections", ogc_views.collections, name="ogc-collections"),
    path("ogc/collections/<str:collection_id>", ogc_views.collection, name="ogc-collection"),
    path("ogc/collections/<str:collection_id>/items", ogc_views.items, name="ogc-items"),
    path("ogc/collections/<str:collection_id>/items/<str:fid>", ogc_views.item, name="ogc-item"),
]
