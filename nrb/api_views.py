"""The pull API for the natural resources bureau (nrb.services): a login session or an API token
(`Authorization: Token …`, or HTTP Basic with the token as the password), and the permission
`filings.pull` inside the filing's region.

    GET /api/nrb/filings/?after=<sequence>&limit=<1..100>   the queued filings after a sequence number
    GET /api/nrb/filings/<sequence>/contract.json           NY/T 2539 records of the filing
    GET /api/nrb/filings/<sequence>/parcels.geojson         the parcels, CGCS2000 (EPSG:4490)
    GET /api/nrb/filings/<sequence>/contract.pdf            the signed contract (or the paper scan)
    POST /api/nrb/filings/<sequence>/<part>/received       {"sha256": "…"}: the bureau has it

Reading records nothing (a prefetch, a crawler or a retry is not a hand-over); the bureau's software
acknowledges each part it has stored, with the SHA-256 of what it holds, and that is recorded as the
delivery. The acknowledgement takes an API token only (never the session cookie, so no page can post it
for a logged-in user).
"""

import hashlib
import json
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accounts.auth import request_user
from accounts.scoping import scope_prefixes
from core.errors import DomainError

from .selectors import shares_visible
from .services import PARTS, delivery_api_acknowledge, part_bytes


def _error(status: int, code: str, zh: str, en: str) -> JsonResponse:
    resp = JsonResponse(
        {"error": {"code": code, "message": zh, "message_en": en}},
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )
    if status == 401:
        resp["WWW-Authenticate"] = 'Basic realm="tianjie", charset="UTF-8"'
    return resp


def _caller(request: HttpRequest) -> tuple[Any, JsonResponse | None]:
    user = request_user(request)
    if user is None:
        return None, _error(401, "not_authenticated", "请登录或提供 API 令牌", "log in or send an API token")
    if not scope_prefixes(user, "filings.pull"):
        return None, _error(403, "permission_denied", "没有领取备案数据的权限", "not allowed to pull filings")
    return user, None


def _int(value: str | None, default: int, low: int, high: int) -> int | None:
    try:
        n = int(value) if value not in (None, "") else default
    except ValueError:
        return None
    return n if low <= n <= high else None


def _visible_share(user: Any, sequence: int, part: str) -> Any:
    """The queued filing `sequence` if the user may pull it and `part` is one of its parts, else None."""
    if part not in PARTS:
        return None
    return shares_visible(user).filter(pk=sequence).select_related("entry__contract", "entry__document").first()


@require_GET
def filings_list(request: HttpRequest) -> HttpResponse:
    user, denied = _caller(request)
    if denied:
        return denied
    after = _int(request.GET.get("after"), 0, 0, 2**62)
    limit = _int(request.GET.get("limit"), 50, 1, 100)
    if after is None or limit is None:
        return _error(400, "invalid_parameter", "after 须为非负整数，limit 为 1–100", "after ≥ 0, limit 1–100")
    rows = list(shares_visible(user).filter(pk__gt=after).select_related("entry__contract").order_by("pk")[: limit + 1])
    base = request.build_absolute_uri("/")[:-1]
    items = [
        {
            "sequence": s.pk,
            "contract": s.cbhtbm,
            "version": s.entry.contract.version,
            "filed_at": s.entry.djsj.isoformat(),
            "links": {part: base + reverse("nrb-filing-part", args=[s.pk, part]) for part in PARTS},
        }
        for s in rows[:limit]
    ]
    nxt = None
    if len(rows) > limit:
        nxt = base + reverse("nrb-filings") + f"?after={rows[limit - 1].pk}&limit={limit}"
    return JsonResponse({"items": items, "next": nxt}, json_dumps_params={"ensure_ascii": False})


@require_GET
def filing_part(request: HttpRequest, sequence: int, part: str) -> HttpResponse:
    user, denied = _caller(request)
    if denied:
        return denied
    share = _visible_share(user, sequence, part)
    if share is None:
        return _error(404, "not_found", "没有这条备案数据", "no such filing or part")
    body, media_type = part_bytes(share, part)
    resp = HttpResponse(body, content_type=media_type)
    resp["Content-Disposition"] = f'attachment; filename="{share.cbhtbm}-{share.pk}-{part}"'
    resp["X-Content-SHA256"] = hashlib.sha256(body).hexdigest()
    return resp


@csrf_exempt  # token authentication only (below): no cookie, so no cross-site request can carry one
@require_POST
def filing_part_received(request: HttpRequest, sequence: int, part: str) -> HttpResponse:
    if not request.headers.get("Authorization"):
        return _error(401, "not_authenticated", "请用 API 令牌确认接收", "acknowledge with an API token")
    request.user = AnonymousUser()  # the session, if any, does not count here
    user, denied = _caller(request)
    if denied:
        return denied
    share = _visible_share(user, sequence, part)
    if share is None:
        return _error(404, "not_found", "没有这条备案数据", "no such filing or part")
    try:
        sha256 = str(json.loads(request.body or b"{}").get("sha256", ""))
    except (ValueError, AttributeError):
        return _error(400, "invalid_json", '请求体应为 JSON：{"sha256": …}', 'the body must be JSON: {"sha256": …}')
    try:
        delivery = delivery_api_acknowledge(actor=user, share=share, part=part, sha256=sha256)
    except DomainError as exc:
        return _error(400, exc.code or "delivery_invalid", exc.zh, exc.en)
    return JsonResponse({"sequence": share.pk, "part": part, "sha256": delivery.sha256, "received": True}, status=201)
