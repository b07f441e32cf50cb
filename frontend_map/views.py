"""The map page: thin; the region extent comes from the user's offices."""

import functools

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from pyproj import CRS

from accounts.notifications import unread_count
from accounts.scoping import active_offices, scope_prefixes
from core.codes import county_of
from imagery.selectors import imagery_visible
from spatial.models import CountySettings
from spatial.selectors import region_extent


@functools.lru_cache(maxsize=64)
def _proj4(srid: int) -> str:
    """The zone's definition for proj4js (a plain transverse Mercator: nothing of it is lost in PROJ.4 form)."""
    return CRS.from_epsg(srid).to_proj4()


@login_required
def map_page(request: HttpRequest) -> HttpResponse:
    offices = active_offices(request.user)
    bbox = region_extent(codes=[o.scope_code for o in offices])
    county = CountySettings.objects.filter(region__code__in={county_of(o.scope_code) for o in offices}).first()
    plane = None
    if county is not None:  # the county's Gauss-Kruger zone, for the cursor position (proj4 in the browser)
        plane = {"epsg": county.measure_srid, "proj4": _proj4(county.measure_srid)}
    return render(
        request,
        "frontend_map/map.html",
        {
            "offices": offices,
            "can_import": bool(scope_prefixes(request.user, "packages.import")),
            "can_manage_imagery": bool(scope_prefixes(request.user, "imagery.ingest")),
            "can_edit_calendar": bool(scope_prefixes(request.user, "calendar.edit")),
            "is_farmer": any(o.role == "farmer" for o in offices),
            "can_sign_for_issuer": bool(scope_prefixes(request.user, "contracts.sign_issuer")),
            "can_file": bool(scope_prefixes(request.user, "contracts.file")),
            "can_recall": bool(scope_prefixes(request.user, "certificates.recall")),
            "can_view_sharing": bool(scope_prefixes(request.user, "filings.view")),
            "can_see_surveys": bool(scope_prefixes(request.user, "surveys.view")),
            "unread": unread_count(request.user),
            "map_config": {
                "bbox": bbox,
                "parcelMinZoom": settings.TIANJIE_PARCEL_MIN_ZOOM,
                "imagery": imagery_visible(request.user),
                "plane": plane,
                "notices": "/notices/running.geojson",
            },
        },
    )
