"""The map page: thin; the region extent comes from the user's offices."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.scoping import active_offices, scope_prefixes
from spatial.selectors import region_extent


@login_required
def map_page(request: HttpRequest) -> HttpResponse:
    offices = active_offices(request.user)
    bbox = region_extent(codes=[o.scope_code for o in offices])
    return render(
        request,
        "frontend_map/map.html",
        {
            "offices": offices,
            "can_import": bool(scope_prefixes(request.user, "packages.import")),
            "map_config": {"bbox": bbox, "parcelMinZoom": settings.TIANJIE_PARCEL_MIN_ZOOM},
        },
    )
