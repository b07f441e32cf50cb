"""/ogc/: OGC API - Features for GIS clients (QGIS, GDAL's OAPIF driver) and scripts.

Logged-in sessions work; clients send their API token (/accounts/token/) as `Authorization: Token …`
or as the password of HTTP Basic. Every answer is scoped to the caller's regions (spatial.ogcapi).
"""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from accounts.auth import request_user
from accounts.selectors import cached_scope_prefixes
from core.errors import DomainError

from . import ogcapi

JSON = "application/json"
GEOJSON = "application/geo+json"
View = Callable[..., HttpResponse]


def _json(body: Any, *, content_type: str = JSON, status: int = 200) -> HttpResponse:
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    return HttpResponse(text, content_type=f"{content_type}; charset=utf-8", status=status)


def _exception(status: int, code: str, zh: str, en: str) -> HttpResponse:
    return _json({"code": code, "description": f"{zh} / {en}"}, status=status)


def ogc_view(view: View) -> View:
    """Resolve the caller and their scope; answer errors as OGC exception documents, never as pages."""

    @require_safe
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request_user(request)
        if user is None:
            resp = _exception(
                401,
                "Unauthorized",
                "请登录，或在请求中携带 API 令牌（Authorization: Token …，或以令牌为密码的 Basic 认证）",
                "log in, or send an API token (Authorization: Token …, or HTTP Basic with the token as password)",
            )
            resp["WWW-Authenticate"] = 'Basic realm="tianjie"'
            return resp
        try:
            return view(request, cached_scope_prefixes(user), *args, **kwargs)
        except DomainError as exc:
            return _exception(exc.http_status, str(exc.code), exc.zh, exc.en)

    return wrapped


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/ogc")


def _link(href: str, rel: str, type_: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": type_, "title": title}


@ogc_view
def landing(request: HttpRequest, prefixes: list[str]) -> HttpResponse:
    base = _base(request)
    return _json(
        {
            "title": "田界 土地承包登记 OGC API - Features",
            "description": "承包地块、发包方与行政区域（按登录用户的辖区）。"
            " Parcels, issuers and regions of the caller's regions.",
            "links": [
                _link(f"{base}/", "self", JSON, "本页 This document"),
                _link(f"{base}/api", "service-desc", "application/vnd.oai.openapi+json;version=3.0", "OpenAPI"),
                _link(f"{base}/conformance", "conformance", JSON, "符合的标准 Conformance"),
                _link(f"{base}/collections", "data", JSON, "要素集 Collections"),
            ],
        }
    )


@ogc_view
def api(request: HttpRequest, prefixes: list[str]) -> HttpResponse:
    return _json(ogcapi.openapi(_base(request)), content_type="application/vnd.oai.openapi+json;version=3.0")


@ogc_view
def conformance(request: HttpRequest, prefixes: list[str]) -> HttpResponse:
    return _json({"conformsTo": ogcapi.CONFORMANCE})


def _collection_doc(request: HttpRequest, prefixes: list[str], c: ogcapi.Collection) -> dict[str, Any]:
    base = f"{_base(request)}/collections/{c.id}"
    zones = ogcapi.zone_srids(prefixes)
    doc: dict[str, Any] = {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "itemType": "feature",
        "crs": [ogcapi.crs_uri(s) for s in (None, 4490, 4326, *zones)],
        "storageCrs": ogcapi.crs_uri(4490),
        "links": [
            _link(base, "self", JSON, c.title),
            _link(f"{base}/items", "items", GEOJSON, "要素 Features"),
        ],
    }
    bbox = ogcapi.extent(prefixes=prefixes, collection_id=c.id)
    if bbox:
        doc["extent"] = {"spatial": {"bbox": [bbox], "crs": ogcapi.CRS84}}
    return doc


@ogc_view
def collections(request: HttpRequest, prefixes: list[str]) -> HttpResponse:
    base = _base(request)
    return _json(
        {
            "links": [_link(f"{base}/collections", "self", JSON, "要素集 Collections")],
            "collections": [_collection_doc(request, prefixes, c) for c in ogcapi.COLLECTIONS.values()],
        }
    )


@ogc_view
def collection(request: HttpRequest, prefixes: list[str], collection_id: str) -> HttpResponse:
    return _json(_collection_doc(request, prefixes, ogcapi.collection(collection_id)))


def _int_param(request: HttpRequest, name: str, default: int, low: int, high: int) -> int:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise DomainError(
            f"参数 {name} 应为 {low}–{high} 的整数",
            f"{name} must be an integer in {low}–{high}",
            code="InvalidParameterValue",
        )
    return int(raw)


@ogc_view
def items(request: HttpRequest, prefixes: list[str], collection_id: str) -> HttpResponse:
    ogcapi.collection(collection_id)
    allowed = [4490, 4326, *ogcapi.zone_srids(prefixes)]
    srid = ogcapi.parse_crs(request.GET.get("crs"), allowed)
    bbox_srid = ogcapi.parse_crs(request.GET.get("bbox-crs"), allowed, field="bbox-crs")
    bbox = ogcapi.parse_bbox(request.GET.get("bbox"), bbox_srid)
    limit = _int_param(request, "limit", ogcapi.DEFAULT_LIMIT, 1, 10_000)  # above the maximum: the maximum
    after = _int_param(request, "after", 0, 0, 2**62)
    page = ogcapi.items_page(
        prefixes=prefixes,
        collection_id=collection_id,
        srid=srid,
        bbox=bbox,
        bbox_srid=bbox_srid,
        limit=limit,
        after=after,
    )
    here = f"{_base(request)}/collections/{collection_id}/items"
    query = request.GET.copy()
    links = [_link(f"{here}?{query.urlencode()}" if query else here, "self", GEOJSON, "本页 This page")]
    if page.next_after is not None:
        query["after"] = str(page.next_after)
        links.append(_link(f"{here}?{query.urlencode()}", "next", GEOJSON, "下一页 Next page"))
    head = {
        "type": "FeatureCollection",
        **({"numberMatched": page.matched} if page.matched is not None else {}),
        "numberReturned": page.returned,
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": links,
    }
    # The features array comes from PostGIS as text; it is spliced in, not parsed and dumped again.
    body = json.dumps(head, ensure_ascii=False)[:-1] + ', "features": ' + page.features + "}"
    resp = _json(body, content_type=GEOJSON)
    resp["Content-Crs"] = f"<{ogcapi.crs_uri(srid)}>"
    return resp


@ogc_view
def item(request: HttpRequest, prefixes: list[str], collection_id: str, fid: str) -> HttpResponse:
    allowed = [4490, 4326, *ogcapi.zone_srids(prefixes)]
    srid = ogcapi.parse_crs(request.GET.get("crs"), allowed)
    feature = ogcapi.item(prefixes=prefixes, collection_id=collection_id, fid=fid, srid=srid)
    here = f"{_base(request)}/collections/{collection_id}/items/{fid}"
    links = json.dumps(
        [
            _link(f"{here}?{urlencode(request.GET)}" if request.GET else here, "self", GEOJSON, fid),
            _link(f"{_base(request)}/collections/{collection_id}", "collection", JSON, collection_id),
        ],
        ensure_ascii=False,
    )
    resp = _json(feature[:-1] + f', "links": {links}}}', content_type=GEOJSON)
    resp["Content-Crs"] = f"<{ogcapi.crs_uri(srid)}>"
    return resp
