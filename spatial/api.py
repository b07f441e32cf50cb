"""Thin DRF views over spatial.selectors; scoping comes from the caller's offices."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import cached_scope_prefixes
from core.errors import CodeError

from . import selectors
from .serializers import ParcelCardSerializer


def _float(request: Request, name: str) -> float:
    try:
        return float(request.query_params[name])
    except (KeyError, ValueError):
        raise CodeError(f"参数 {name} 应为数字", f"parameter {name} must be a number", field=name) from None


def _int(request: Request, name: str, default: int) -> int:
    try:
        return int(request.query_params.get(name, default))
    except ValueError:
        raise CodeError(f"参数 {name} 应为整数", f"parameter {name} must be an integer", field=name) from None


class ParcelListApi(APIView):
    @extend_schema(
        operation_id="parcels_list",
        summary="地块 GeoJSON（按范围分页）/ Parcels in a bounding box, paged",
        parameters=[
            OpenApiParameter("bbox", str, required=True, description="minlon,minlat,maxlon,maxlat (EPSG:4490)"),
            OpenApiParameter("limit", int, description=f"page size, at most {selectors.MAX_PAGE}"),
            OpenApiParameter("offset", int),
        ],
        responses={(200, "application/geo+json"): OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> HttpResponse:
        bbox = selectors.parse_bbox(request.query_params.get("bbox", ""))
        limit, offset = _int(request, "limit", 100), _int(request, "offset", 0)
        body, count = selectors.parcels_geojson(
            prefixes=cached_scope_prefixes(request.user), bbox=bbox, limit=limit, offset=offset
        )
        resp = HttpResponse(body, content_type="application/geo+json")
        limit = max(1, min(limit, selectors.MAX_PAGE))
        if count == limit:
            query = request.query_params.copy()
            query["offset"] = str(max(0, offset) + limit)
            resp["Link"] = f'<{request.build_absolute_uri(request.path)}?{query.urlencode()}>; rel="next"'
        resp["X-Returned"] = str(count)
        return resp


class ParcelDetailApi(APIView):
    @extend_schema(operation_id="parcel_card", summary="地块卡片 / One parcel's card", responses=ParcelCardSerializer)
    def get(self, request: Request, parcel_id: int) -> Response:
        card = selectors.parcel_card(prefixes=cached_scope_prefixes(request.user), parcel_id=parcel_id)
        return Response(ParcelCardSerializer(card.as_dict()).data)


class ParcelAtApi(APIView):
    @extend_schema(
        operation_id="parcel_at",
        summary="点选地块 / The parcel under a point",
        parameters=[
            OpenApiParameter("lon", float, required=True),
            OpenApiParameter("lat", float, required=True),
        ],
        responses=ParcelCardSerializer,
    )
    def get(self, request: Request) -> Response:
        card = selectors.parcel_at(
            prefixes=cached_scope_prefixes(request.user),
            lon=_float(request, "lon"),
            lat=_float(request, "lat"),
        )
        return Response(ParcelCardSerializer(card.as_dict()).data)


class ParcelSearchApi(APIView):
    @extend_schema(
        operation_id="parcel_search",
        summary="搜索地块 / Search parcels by DKBM, its last 5 digits, or contractor name",
        parameters=[OpenApiParameter("q", str, required=True)],
        responses=inline_serializer("ParcelSearchResult", {"results": ParcelCardSerializer(many=True)}),
    )
    def get(self, request: Request) -> Response:
        cards = selectors.parcel_search(
            prefixes=cached_scope_prefixes(request.user), query=request.query_params.get("q", "")
        )
        return Response({"results": ParcelCardSerializer([c.as_dict() for c in cards], many=True).data})
