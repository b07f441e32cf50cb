"""The platform's RFC 3161 timestamp service over HTTP (POST application/timestamp-query)."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .pdfsign import tsa_respond

MAX_REQUEST_BYTES = 16 * 1024  # a timestamp request is a few hundred bytes


@csrf_exempt  # a protocol endpoint for signing software, not a form; it changes nothing
@require_POST
def timestamp_authority(request: HttpRequest) -> HttpResponse:
    body = request.body[: MAX_REQUEST_BYTES + 1]
    if len(body) > MAX_REQUEST_BYTES or not body:
        return HttpResponse("请求过大或为空 / request empty or too large", status=400, content_type="text/plain")
    try:
        reply = tsa_respond(body)
    except (ValueError, TypeError, KeyError):
        return HttpResponse("不是时间戳请求 / not a TimeStampReq", status=400, content_type="text/plain")
    return HttpResponse(reply, content_type="application/timestamp-reply")
